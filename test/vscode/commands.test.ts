/** The palette commands against the real store, in the real extension host. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AgentMemoryApi } from '../../src/extension';
import type { EpisodeSummary } from '../../src/memory';
import { activateApi, waitFor } from './helpers';

describe('Agent Memory commands', function () {
  this.timeout(60_000);
  let api: AgentMemoryApi;
  let sample: EpisodeSummary;

  before(async () => {
    api = await activateApi();
    sample = (await vscode.commands.executeCommand<EpisodeSummary>('agentMemory.runSample'))!;
    assert.equal(sample.outcome, 'success', JSON.stringify(await (await api.services.store()).getEpisode(sample.id)));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Open Episode shows a read-only document with the episode', async () => {
    const doc = await vscode.commands.executeCommand<vscode.TextDocument>('agentMemory.openEpisode', sample.id);
    assert.equal(doc.uri.scheme, 'agent-memory');
    const text = doc.getText();
    assert.match(text, /# Sample: sum the squares/);
    assert.match(text, /\*\*execute_agent_code\*\*/);
    assert.match(text, /outcome\*\*: success/);
  });

  it("an episode's document links to its patterns, whose documents link back, and it renders again when the episode changes", async () => {
    const doc = await vscode.commands.executeCommand<vscode.TextDocument>('agentMemory.openEpisode', sample.id);
    const links = [...doc.getText().matchAll(/\]\((\.\.\/pattern\/[^)]+\.md)\)/g)].map((m) => m[1]);
    assert.ok(links.length > 0, 'the sample episode links to the patterns learned from it');
    // The Markdown preview resolves the link against the document's own path.
    const patternDoc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(doc.uri, '..', links[0]));
    assert.match(patternDoc.getText(), /success rate\*\*: /);
    assert.ok(patternDoc.getText().includes(`(../episode/${encodeURIComponent(sample.id)}.md)`), 'the pattern links back to its evidence');

    const store = await api.services.store();
    const open = await store.createEpisode({ task: 'An episode that changes while its document is open', taskType: 'other' });
    const live = await vscode.commands.executeCommand<vscode.TextDocument>('agentMemory.openEpisode', open.id);
    assert.doesNotMatch(live.getText(), /a step added after opening/);
    await store.addStep(open.id, { tool: 'read_file', action: 'a step added after opening', result: { status: 'success', output: 'ok' } });
    await waitFor('the open document to show the new step', () => (/a step added after opening/.test(live.getText()) ? true : undefined), 5_000);
  });

  it('Copy Episode Id puts the id on the clipboard', async () => {
    await vscode.commands.executeCommand('agentMemory.copyEpisodeId', sample.id);
    assert.equal(await vscode.env.clipboard.readText(), sample.id);
  });

  it('Show Metrics lists store, tool usage, sandbox and server figures', async () => {
    const doc = await vscode.commands.executeCommand<vscode.TextDocument>('agentMemory.showMetrics');
    const text = doc.getText();
    assert.match(text, /# Agent Memory metrics/);
    assert.match(text, /"episodes": \d+/);
    assert.match(text, /"maxExecutionTimeMs": \d+/);
  });

  it('Choose Sandbox Preset writes the setting the sandbox then applies', async () => {
    try {
      await vscode.commands.executeCommand('agentMemory.choosePreset', 'permissive');
      assert.equal(vscode.workspace.getConfiguration('agentMemory.sandbox').get('preset'), 'permissive');
      const deadline = Date.now() + 10_000;
      while (api.services.sandbox().config.maxMemoryMb !== 256 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(api.services.sandbox().config.maxMemoryMb, 256);
    } finally {
      await vscode.workspace.getConfiguration('agentMemory.sandbox').update('preset', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('Export, Clear and Import round-trip the memory; a bad import changes nothing', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const file = vscode.Uri.joinPath(folder, 'export.jsonl');
    const store = await api.services.store();
    const before = (await store.stats()).episodes;
    assert.ok(before >= 1);
    await vscode.commands.executeCommand('agentMemory.exportMemory', file);
    // JSON Lines: a header, then one episode a line.
    const lines = Buffer.from(await vscode.workspace.fs.readFile(file)).toString('utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0]) as { format: string; episodes: number };
    assert.equal(header.format, 'agent-memory-export');
    assert.equal(header.episodes, before);
    assert.equal(lines.length - 1, before);
    assert.ok((JSON.parse(lines[1]) as { episode_id?: string }).episode_id);

    const bad = vscode.Uri.joinPath(folder, 'bad.json');
    await vscode.workspace.fs.writeFile(bad, Buffer.from(JSON.stringify({ format: 'agent-memory-export', version: 1, episodes: [{ id: 42 }] })));
    const refused = await vscode.commands.executeCommand('agentMemory.importMemory', bad);
    assert.equal(refused, undefined);
    assert.equal((await store.stats()).episodes, before, 'a bad import changed the store');

    assert.equal(await vscode.commands.executeCommand('agentMemory.clearMemory', true), true);
    assert.equal((await store.stats()).episodes, 0);
    const imported = await vscode.commands.executeCommand<{ imported: number; skipped: number }>('agentMemory.importMemory', file);
    assert.deepEqual(imported, { imported: before, skipped: 0 });
    assert.equal((await store.stats()).episodes, before);
  });

  it('Delete Episode removes it from the store and the Episodes view', async () => {
    const id = (await vscode.commands.executeCommand<EpisodeSummary>('agentMemory.runSample')).id;
    const store = await api.services.store();
    const target = (await store.listEpisodes({ limit: 50 })).episodes.find((e) => e.id !== id) ?? { id };
    assert.equal(await vscode.commands.executeCommand('agentMemory.deleteEpisode', target.id), true);
    assert.equal(await store.getEpisode(target.id), undefined);
    const roots = await api.trees.episodes.getChildren();
    for (const d of roots) {
      for (const t of await api.trees.episodes.getChildren(d)) {
        const shown = (await api.trees.episodes.getChildren(t)).flatMap((n) => (n.type === 'episode' ? [n.episode.id] : []));
        assert.ok(!shown.includes(target.id), 'the deleted episode is still in the tree');
      }
    }
  });
});
