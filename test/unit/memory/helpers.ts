import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryStore } from '../../../src/memory';
import type { OpenOptions, TaskType, AddStepInput, Outcome } from '../../../src/memory';

export function tmpDir(prefix = 'mem-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A temp folder on tmpfs when the machine has one (/dev/shm): for tests making thousands
 * of writes, each fdatasync'ed, which on a disk would take minutes. Same files, same code.
 */
export function fastTmpDir(prefix = 'mem-'): string {
  return fs.existsSync('/dev/shm') ? fs.mkdtempSync(path.join('/dev/shm', prefix)) : tmpDir(prefix);
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

/** Mocha hooks giving each test of the suite a fresh store in a fresh folder (`ctx.store`, `ctx.dir`). */
export function useFreshStore(): { store: MemoryStore; dir: string } {
  const ctx = {} as { store: MemoryStore; dir: string };
  beforeEach(async () => {
    ctx.dir = tmpDir();
    ctx.store = await openStore(ctx.dir);
  });
  afterEach(async () => {
    await ctx.store.close().catch(() => undefined);
    rmDir(ctx.dir);
  });
  return ctx;
}

/** A seeded xorshift32 generator in [0, 1): randomised tests that replay exactly. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}
