/**
 * Steps in rows of their own: appending is independent of the episode's length, long
 * episodes read a page at a time, and a database written before (steps in one column)
 * is migrated without losing any. Completed and imported episodes keep their steps in
 * blocks of STEP_BLOCK (one row, one decompression, per block).
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { MemoryError } from '../../../src/memory';
import { writeSnapshot } from '../../../src/memory/files';
import { packJson } from '../../../src/memory/store/codec';
import { _schemaVersion } from '../../../src/memory/store';
import { SCHEMA_VERSION } from '../../../src/memory/store/schema';
import { STEP_BLOCK } from '../../../src/memory/store/steps';
import { err, fastTmpDir, ok, openStore, rmDir } from './helpers';

type Db = { exec(sql: string, params?: unknown[]): { values: unknown[][] }[]; run(sql: string, params?: unknown[]): void };
const dbOf = (store: object): Db => (store as { db: Db }).db;
const rowsOf = (store: object, id: string): number[] => (dbOf(store).exec('SELECT n FROM steps WHERE episode_id = ? ORDER BY n', [id])[0]?.values ?? []).map((r) => Number(r[0]));

describe('memory store: steps as rows', () => {
  let dir: string;
  beforeEach(() => (dir = fastTmpDir()));
  afterEach(() => rmDir(dir));

  it('holds a 10,000-step episode: pages it, survives a reopen and refuses step 10,001', async function () {
    this.timeout(120_000);
    const store = await openStore(dir);
    const ep = await store.createEpisode({ task: 'a very long migration session', taskType: 'refactoring' });
    for (let i = 1; i <= 10_000; i++) {
      await store.addStep(ep.id, { tool: `tool${i % 7}`, action: `step number ${i}`, parameters: { i }, result: i % 1000 === 0 ? { status: 'error', message: `flaky ${i}` } : ok(`out ${i}`) });
    }
    await assert.rejects(
      store.addStep(ep.id, { tool: 't', action: 'one too many', result: ok() }),
      (e: unknown) => e instanceof MemoryError && e.code === 'invalid' && /10000 steps/.test(e.message),
    );
    const page = await store.getEpisodePage(ep.id, { offset: 9_990, limit: 50 });
    assert.ok(page);
    assert.equal(page.stepCount, 10_000);
    assert.deepEqual(page.episode.steps.map((s) => s.n), [9991, 9992, 9993, 9994, 9995, 9996, 9997, 9998, 9999, 10000]);
    assert.equal(page.episode.steps[9].result.status, 'error');
    assert.deepEqual(page.episode.steps[0].parameters, { i: 9991 });
    // The index saw the steps incrementally: a term of step 5,000's action finds the episode.
    const hits = (await store.query({ query: 'flaky' })).hits.map((h) => h.episode.id);
    assert.deepEqual(hits, [ep.id]);
    const summary = (await store.listEpisodes()).episodes[0];
    assert.equal(summary.stepCount, 10_000);
    assert.deepEqual([...summary.tools].sort(), ['tool0', 'tool1', 'tool2', 'tool3', 'tool4', 'tool5', 'tool6']);
    // Replayed from the journal (no snapshot was written: the debounce is 60 s).
    (store as unknown as { journal: { close(): void } }).journal.close();
    await (store as unknown as { lock: { release(): Promise<void> } }).lock.release();
    const again = await openStore(dir);
    const full = await again.getEpisode(ep.id);
    assert.equal(full?.steps.length, 10_000);
    assert.deepEqual(full?.steps.slice(0, 2).map((s) => s.action), ['step number 1', 'step number 2']);
    const done = await again.completeEpisode(ep.id, { outcome: { type: 'success', verdict: 'migrated' } });
    assert.equal(done.episode.steps.length, 10_000);
    await again.close();
    const third = await openStore(dir);
    assert.equal((await third.getEpisodePage(ep.id, { offset: 0, limit: 1 }))?.episode.steps[0].action, 'step number 1');
    assert.deepEqual((await third.query({ query: 'flaky' })).hits.map((h) => h.episode.id), [ep.id]);
    await third.close();
  });

  it('packs a completed episode into blocks, pages across block edges, and appends after an imported block', async () => {
    const store = await openStore(dir);
    const ep = await store.createEpisode({ task: 'a long debugging session', taskType: 'debugging' });
    const count = 2 * STEP_BLOCK + 50;
    for (let i = 1; i <= count; i++) await store.addStep(ep.id, { tool: `t${i % 3}`, action: `step ${i}`, result: i % 40 === 0 ? err(`boom ${i}`) : ok(`out ${i}`) });
    assert.equal(rowsOf(store, ep.id).length, count, 'a row per appended step while the episode is open');
    const before = (await store.getEpisode(ep.id))!.steps;
    await store.completeEpisode(ep.id, { outcome: { type: 'success', verdict: 'found it' } });
    assert.deepEqual(rowsOf(store, ep.id), [STEP_BLOCK, 2 * STEP_BLOCK, count], 'one row per block, keyed by its last step');
    assert.deepEqual((await store.getEpisode(ep.id))!.steps, before, 'the same steps read back from the blocks');
    const across = await store.getEpisodePage(ep.id, { offset: STEP_BLOCK - 3, limit: 6 });
    assert.deepEqual(across?.episode.steps.map((s) => s.n), [98, 99, 100, 101, 102, 103].map((n) => n + STEP_BLOCK - 100));
    assert.equal(across?.stepCount, count);
    assert.deepEqual((await store.getEpisodePage(ep.id, { offset: count - 2, limit: 10 }))?.episode.steps.map((s) => s.action), [`step ${count - 1}`, `step ${count}`]);

    // An open episode imported with its steps gets blocks; steps added later get rows of their own.
    const exported = (await store.getEpisode(ep.id))!;
    await store.importAll({ format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes: [{ ...exported, id: 'ep_imported_open', outcome: undefined, reward: undefined, reflection: undefined, endedAt: undefined }] });
    assert.deepEqual(rowsOf(store, 'ep_imported_open'), [STEP_BLOCK, 2 * STEP_BLOCK, count]);
    await store.addStep('ep_imported_open', { tool: 'edit', action: 'after the import', result: ok() });
    assert.deepEqual((await store.getEpisodePage('ep_imported_open', { offset: count - 1 }))?.episode.steps.map((s) => [s.n, s.action]), [[count, `step ${count}`], [count + 1, 'after the import']]);
    await store.close();

    // Replayed from the journal (no snapshot yet): the same blocks, the same steps.
    const again = await openStore(dir);
    assert.deepEqual(rowsOf(again, ep.id), [STEP_BLOCK, 2 * STEP_BLOCK, count]);
    assert.deepEqual((await again.getEpisode(ep.id))!.steps, before);
    await again.close();
  });

  it('migrates a schema-4 database (a row per step) to blocks', async () => {
    const store = await openStore(dir);
    const ep = await store.createEpisode({ task: 'recorded before blocks', taskType: 'testing' });
    for (let i = 1; i <= STEP_BLOCK + 5; i++) await store.addStep(ep.id, { tool: 'run_tests', action: `run ${i}`, result: ok() });
    const steps = (await store.getEpisode(ep.id))!.steps;
    dbOf(store).run("UPDATE meta SET value = '4' WHERE key = 'schema_version'");
    await store.recordToolCall('forces a snapshot on close');
    await store.close();
    const again = await openStore(dir);
    assert.equal(_schemaVersion(again), String(SCHEMA_VERSION));
    assert.deepEqual(rowsOf(again, ep.id), [STEP_BLOCK, STEP_BLOCK + 5]);
    assert.deepEqual((await again.getEpisode(ep.id))!.steps, steps);
    await again.close();
  });

  it('answers a page past the end with no steps and an unknown id with undefined', async () => {
    const store = await openStore(dir);
    const ep = await store.createEpisode({ task: 'short', taskType: 'other' });
    await store.addStep(ep.id, { tool: 'a', action: 'x', result: ok() });
    assert.deepEqual((await store.getEpisodePage(ep.id, { offset: 5 }))?.episode.steps, []);
    assert.equal(await store.getEpisodePage('ep_nope'), undefined);
    await assert.rejects(store.getEpisodePage(ep.id, { limit: 0 }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
    await store.close();
  });

  it('migrates a schema-2 database (steps in one column, plain or compressed) to step rows', async () => {
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    // The shipped schema 1 (migrations are never edited), marked as version 2.
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE episodes (id TEXT PRIMARY KEY, task TEXT NOT NULL, domain TEXT NOT NULL, task_type TEXT NOT NULL, context TEXT NOT NULL,
        started_at TEXT NOT NULL, ended_at TEXT, steps TEXT NOT NULL, step_count INTEGER NOT NULL, tools TEXT NOT NULL, outcome TEXT,
        outcome_type TEXT, reward REAL, reflection TEXT, gist TEXT, dedupe_key TEXT, dup_count INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX episodes_started ON episodes(started_at);
      CREATE INDEX episodes_dedupe ON episodes(dedupe_key);
      CREATE TABLE patterns (key TEXT PRIMARY KEY, kind TEXT NOT NULL, description TEXT NOT NULL, task_type TEXT NOT NULL, domain TEXT NOT NULL,
        occurrences INTEGER NOT NULL, successes INTEGER NOT NULL, latency_sum REAL NOT NULL DEFAULT 0, latency_n INTEGER NOT NULL DEFAULT 0, evidence TEXT NOT NULL);
      CREATE TABLE tool_usage (tool TEXT PRIMARY KEY, count INTEGER NOT NULL);
      INSERT INTO meta VALUES ('schema_version', '2');`);
    const step = (n: number, output: string): object => ({ n, timestamp: '2026-01-01T00:00:00.000Z', tool: 'grep', action: `look ${n}`, parameters: {}, result: { status: 'success', output } });
    const small = [step(1, 'a')];
    const large = Array.from({ length: 30 }, (_, i) => step(i + 1, 'x'.repeat(50)));
    const insert = 'INSERT INTO episodes(id, task, domain, task_type, context, started_at, steps, step_count, tools) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
    db.run(insert, ['ep_small', 'small one', 'general', 'other', '{"tags":[]}', '2026-01-01T00:00:00.000Z', JSON.stringify(small), 1, '["grep"]']);
    db.run(insert, ['ep_large', 'large one', 'general', 'other', '{"tags":[]}', '2026-01-02T00:00:00.000Z', packJson(large), 30, '["grep"]']);
    await writeSnapshot(path.join(dir, 'snapshot.db'), 0, db.export(), new Uint8Array(0));
    db.close();

    const store = await openStore(dir);
    assert.equal(_schemaVersion(store), String(SCHEMA_VERSION));
    assert.deepEqual((await store.getEpisode('ep_small'))?.steps, small);
    assert.deepEqual((await store.getEpisode('ep_large'))?.steps, large);
    assert.deepEqual((await store.getEpisodePage('ep_large', { offset: 28 }))?.episode.steps.map((s) => s.n), [29, 30]);
    await store.addStep('ep_large', { tool: 'edit', action: 'after the migration', result: ok() });
    assert.equal((await store.getEpisode('ep_large'))?.steps[30].n, 31);
    await store.close();
  });
});
