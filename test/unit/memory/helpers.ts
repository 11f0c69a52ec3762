import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryStore } from '../../../src/memory';
import type { OpenOptions, TaskType, AddStepInput, Outcome } from '../../../src/memory';

export function tmpDir(prefix = 'mem-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export async function openStore(dir: string, extra: Partial<OpenOptions> = {}): Promise<MemoryStore> {
  return MemoryStore.open({ dir, snapshotDebounceMs: 60_000, ...extra });
}

export const ok = (output = 'ok'): AddStepInput['result'] => ({ status: 'success', output });
export const err = (message: string): AddStepInput['result'] => ({ status: 'error', message });

/** Records a complete episode: steps as [tool, action, result]. */
export async function record(
  store: MemoryStore,
  task: string,
  taskType: TaskType,
  steps: [string, string, AddStepInput['result']][],
  outcome: Outcome,
  opts: { domain?: string; language?: string; framework?: string; tags?: string[] } = {},
): Promise<string> {
  const ep = await store.createEpisode({
    task,
    taskType,
    domain: opts.domain,
    context: { language: opts.language, framework: opts.framework, tags: opts.tags ?? [] },
  });
  for (const [tool, action, result] of steps) await store.addStep(ep.id, { tool, action, result, latencyMs: 10 });
  const res = await store.completeEpisode(ep.id, { outcome });
  assert.equal(res.episode.id, ep.id, 'completing answers with the id it was given');
  return ep.id;
}
