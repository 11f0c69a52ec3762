/**
 * The manifest's ways in lead somewhere: every command link in the walkthrough and the welcome
 * views names a contributed command (or a view's focus command, or one of VS Code's own), every
 * contributed command is registered by the extension (through Failures.command, so its errors
 * are caught), and every walkthrough step's media file ships.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');
interface Manifest {
  contributes: {
    commands: Array<{ command: string }>;
    views: Record<string, Array<{ id: string }>>;
    viewsWelcome: Array<{ view: string; contents: string }>;
    walkthroughs: Array<{ id: string; steps: Array<{ id: string; description: string; media: { markdown?: string; image?: string } }> }>;
  };
}
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
const c = manifest.contributes;
const commands = new Set(c.commands.map((x) => x.command));
const views = Object.values(c.views).flat().map((v) => v.id);

function links(text: string): string[] {
  return [...text.matchAll(/\(command:([\w.-]+)/g)].map((m) => m[1]);
}

const WIRING = ['src/views/commands.ts', 'src/extension.ts'];

/** Ids registered through Failures.command, which turns an error into a message with actions: `reg('id', …)` or `failures.command('id', …)`. */
function registered(): Set<string> {
  const ids = new Set<string>();
  for (const file of WIRING) {
    const src = readFileSync(path.join(root, file), 'utf8');
    for (const m of src.matchAll(/\b(?:reg|failures\.command)\('([\w]+)'/g)) ids.add(`agentMemory.${m[1]}`);
  }
  return ids;
}

describe('views/manifest: the walkthrough, welcome views and commands lead somewhere', () => {
  it('every command link names a contributed command, a view focus command or a VS Code one', () => {
    const texts = [...c.viewsWelcome.map((w) => w.contents), ...c.walkthroughs.flatMap((w) => w.steps.map((s) => s.description))];
    const all = texts.flatMap(links);
    assert.ok(all.length >= 5, `links found: ${all.join(', ')}`);
    for (const id of all) {
      const ok = commands.has(id) || views.some((v) => id === `${v}.focus`) || id.startsWith('workbench.');
      assert.ok(ok, `the link command:${id} leads nowhere`);
    }
  });

  it('every contributed command is registered through Failures.command, none directly', () => {
    const ids = registered();
    for (const id of commands) assert.ok(ids.has(id), `${id} is contributed but not registered through Failures.command`);
    for (const file of WIRING) assert.doesNotMatch(readFileSync(path.join(root, file), 'utf8'), /registerCommand\(/, `${file} registers a command that no failure handler wraps`);
  });

  it('the walkthrough covers what it does, how to ask the agent and the settings, and its media ship', () => {
    const steps = c.walkthroughs.flatMap((w) => w.steps);
    for (const id of ['what', 'ask', 'settings']) assert.ok(steps.some((s) => s.id === id), `no walkthrough step ${id}`);
    for (const s of steps) {
      const media = s.media.markdown ?? s.media.image;
      assert.ok(media && existsSync(path.join(root, media)), `step ${s.id}: media ${media} is missing`);
    }
  });
});
