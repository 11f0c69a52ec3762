import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryStore, MemoryError, EpisodeSchema, MemoryExportSchema } from '../../../src/memory';
import type { StoreChange } from '../../../src/memory';
import { tmpDir, rmDir, openStore, ok, err, record } from './helpers';

describe('memory store: episodes', () => {
  let dir: string;
  let store: MemoryStore;
  beforeEach(async () => {
    dir = tmpDir();
    store = await openStore(dir);
  });
  afterEach(async () => {
    await store.close().catch(() => undefined);
    rmDir(dir);
  });

  it('creates, adds steps, completes and reads back an episode', async () => {
    const ep = await store.createEpisode({ task: 'Fix the failing login test', taskType: 'debugging', context: { language: 'TypeScript', tags: ['auth'] } });
    assert.match(ep.id, /^ep_/);
    assert.equal(ep.domain, 'general');
    assert.deepEqual(ep.context.tags, ['auth']);
    const s1 = await store.addStep(ep.id, { tool: 'run_tests', action: 'npm test', parameters: { grep: 'login' }, result: err('AssertionError: expected 200 got 401'), latencyMs: 1200 });
    const s2 = await store.addStep(ep.id, { tool: 'edit_file', action: 'fix token check', result: ok('patched'), latencyMs: 30 });
    assert.equal(s1.n, 1);
    assert.equal(s2.n, 2);
    const res = await store.completeEpisode(ep.id, { outcome: { type: 'success', verdict: 'login test passes' } });
    assert.ok(res.reward > 0.5 && res.reward <= 1, `reward ${res.reward}`);
    assert.ok(res.reflection.successes.length > 0);
    assert.ok(res.reflection.improvements.some((i) => i.includes('run_tests')));
    assert.ok(res.patterns.some((p) => p.kind === 'tool_sequence' && p.id.endsWith('run_tests>edit_file')));
    assert.ok(res.patterns.some((p) => p.kind === 'error_recovery'));
    const got = await store.getEpisode(ep.id);
    assert.ok(got);
    assert.equal(got.steps.length, 2);
    assert.deepEqual(got.steps[0].parameters, { grep: 'login' });
    assert.equal(got.outcome?.type, 'success');
    assert.equal(got.reward, res.reward);
    EpisodeSchema.parse(got);
    assert.equal(await store.getEpisode('nope'), undefined);
  });

  it('keeps the agent reflection when given', async () => {
    const ep = await store.createEpisode({ task: 't', taskType: 'other' });
    const reflection = { successes: ['a'], improvements: ['b'], insights: ['c'] };
    const res = await store.completeEpisode(ep.id, { outcome: { type: 'failure', reason: 'no' }, reflection });
    assert.deepEqual(res.reflection, reflection);
    assert.equal(res.reward, 0);
  });

  it('rejects invalid input with MemoryError(invalid) and changes nothing', async () => {
    const before = await store.stats();
    await assert.rejects(store.createEpisode({ task: '', taskType: 'debugging' }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid' && /task/.test(e.message));
    await assert.rejects(store.createEpisode({ task: 'x', taskType: 'nope' as never }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid' && /taskType/.test(e.message));
    const ep = await store.createEpisode({ task: 'x', taskType: 'testing' });
    await assert.rejects(store.addStep(ep.id, { tool: 'a', action: 'b', result: { status: 'bogus' } as never }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
    await assert.rejects(store.addStep('missing', { tool: 'a', action: 'b', result: ok() }), (e: unknown) => e instanceof MemoryError && e.code === 'not_found');
    await assert.rejects(store.completeEpisode(ep.id, { outcome: { type: 'success' } as never }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
    await store.completeEpisode(ep.id, { outcome: { type: 'success', verdict: 'ok' } });
    await assert.rejects(store.addStep(ep.id, { tool: 'a', action: 'b', result: ok() }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid' && /completed/.test(e.message));
    await assert.rejects(store.completeEpisode(ep.id, { outcome: { type: 'success', verdict: 'ok' } }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
    const after = await store.stats();
    assert.equal(after.episodes, before.episodes + 1);
    assert.equal(after.sequence, (before.sequence ?? 0) + 2, 'only the two valid writes were journaled');
  });

  it('persists across close and reopen (journal only, then snapshot)', async () => {
    const id = await record(store, 'Parse the YAML config', 'code_generation', [['read_file', 'open config.yaml', ok()]], { type: 'success', verdict: 'done' });
    await store.close();
    // Reopen after close (snapshot written on close).
    store = await openStore(dir);
    assert.equal((await store.getEpisode(id))?.task, 'Parse the YAML config');
    assert.ok(fs.existsSync(path.join(dir, 'snapshot.db')));
    const s = await store.stats();
    assert.equal(s.episodes, 1);
    assert.ok(s.journalBytes <= 8, 'journal cut after the snapshot');
  });

  it('lists episodes with filters and paging', async () => {
    for (let i = 0; i < 5; i++) {
      await record(store, `task number ${i} about ${i % 2 ? 'parsing' : 'rendering'}`, i % 2 ? 'debugging' : 'testing', [['tool' + i, 'act', ok()]], i < 3 ? { type: 'success', verdict: 'y' } : { type: 'failure', reason: 'n' }, { domain: i % 2 ? 'web' : 'cli' });
    }
    const all = await store.listEpisodes({ limit: 2 });
    assert.equal(all.total, 5);
    assert.equal(all.episodes.length, 2);
    const web = await store.listEpisodes({ domain: 'web' });
    assert.equal(web.total, 2);
    assert.ok(web.episodes.every((e) => e.domain === 'web'));
    const failed = await store.listEpisodes({ outcome: 'failure' });
    assert.equal(failed.total, 2);
    const page2 = await store.listEpisodes({ limit: 2, offset: 2 });
    assert.notDeepEqual(page2.episodes.map((e) => e.id), all.episodes.map((e) => e.id));
  });

  it('deletes an episode and its pattern evidence', async () => {
    const a = await record(store, 'alpha task one', 'testing', [['x', '1', ok()], ['y', '2', ok()]], { type: 'success', verdict: 'v' });
    const b = await record(store, 'beta task two', 'testing', [['x', '1', ok()], ['y', '2', ok()]], { type: 'failure', reason: 'r' });
    let pats = await store.listPatterns({ kind: 'tool_sequence' });
    let xy = pats.find((p) => p.id.endsWith('|x>y'))!;
    assert.equal(xy.occurrences, 2);
    assert.equal(xy.successRate, 0.5);
    assert.deepEqual(new Set(xy.evidence), new Set([a, b]));
    assert.equal(await store.deleteEpisode(b), true);
    assert.equal(await store.deleteEpisode(b), false);
    pats = await store.listPatterns({ kind: 'tool_sequence' });
    xy = pats.find((p) => p.id.endsWith('|x>y'))!;
    assert.equal(xy.occurrences, 1);
    assert.equal(xy.successRate, 1);
    assert.deepEqual(xy.evidence, [a]);
    await store.deleteEpisode(a);
    assert.equal((await store.listPatterns()).length, 0);
    assert.equal((await store.query({ query: 'alpha' })).hits.length, 0);
  });

  it('fires change events', async () => {
    const seen: StoreChange[] = [];
    const sub = store.onDidChange((c) => seen.push(c));
    const ep = await store.createEpisode({ task: 'events', taskType: 'other' });
    await store.addStep(ep.id, { tool: 't', action: 'a', result: ok() });
    await store.completeEpisode(ep.id, { outcome: { type: 'success', verdict: 'v' } });
    await store.deleteEpisode(ep.id);
    await store.clear();
    sub.dispose();
    await store.createEpisode({ task: 'after dispose', taskType: 'other' });
    assert.deepEqual(seen.map((c) => c.type), ['episode_created', 'episode_updated', 'episode_completed', 'episode_deleted', 'cleared']);
  });

  it('keeps every repeat: 5 runs of one task (3 succeed) are 5 episodes, counted 3 of 5 in patterns, folded into one query hit', async () => {
    const steps: [string, string, ReturnType<typeof ok>][] = [['grep', 'search', ok()], ['edit', 'fix', ok()]];
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const ep = await store.createEpisode({ task: `Fix typo in README line ${10 + i}`, taskType: 'documentation' });
      for (const [tool, action, result] of steps) await store.addStep(ep.id, { tool, action, result });
      const outcome = i < 3 ? { type: 'success' as const, verdict: 'fixed' } : { type: 'failure' as const, reason: 'wrong line' };
      const res = await store.completeEpisode(ep.id, { outcome });
      assert.equal(res.episode.id, ep.id, 'never answers with another id');
      ids.push(ep.id);
    }
    await record(store, 'Rename the build script', 'documentation', [['edit', 'rename', ok()]], { type: 'success', verdict: 'renamed' });
    assert.equal((await store.stats()).completedEpisodes, 6);
    for (const id of ids) assert.ok(await store.getEpisode(id));
    const seq = (await store.listPatterns({ kind: 'tool_sequence' })).find((p) => p.description === 'Tool sequence grep → edit')!;
    assert.equal(seq.occurrences, 5);
    assert.equal(seq.successRate, 0.6);
    assert.deepEqual([...seq.evidence].sort(), [...ids].sort());

    const r = await store.query({ query: 'typo in the readme' });
    const typos = r.hits.filter((h) => h.episode.task.startsWith('Fix typo'));
    assert.equal(typos.length, 1, 'the repeats are one hit');
    const hit = typos[0];
    assert.equal(r.hits[0], hit);
    assert.ok(ids.includes(hit.episode.id));
    assert.deepEqual(
      { count: hit.repeats?.count, succeeded: hit.repeats?.succeeded, ids: [...(hit.repeats?.ids ?? [])].sort() },
      { count: 5, succeeded: 3, ids: [...ids].sort() },
    );
    assert.ok(hit.why.some((w) => /^seen 5×, 3 succeeded, last today/.test(w)), hit.why.join(' / '));
    // Deleting a repeat takes it out of the count and of the patterns.
    await store.deleteEpisode(ids[4]);
    assert.equal((await store.query({ query: 'typo in the readme' })).hits[0].repeats?.count, 4);
    const after = (await store.listPatterns({ kind: 'tool_sequence' })).find((p) => p.description === 'Tool sequence grep → edit')!;
    assert.deepEqual([after.occurrences, after.successRate], [4, 0.75]);
  });

  it('exports and imports with validation; a bad file changes nothing', async () => {
    const a = await record(store, 'export me please', 'analysis', [['read', 'r', ok('lots of output')]], { type: 'partial_success', verdict: 'half', completed: ['a'], failed: ['b'] }, { tags: ['x'] });
    await store.createEpisode({ task: 'in progress one', taskType: 'other' });
    const exp = await store.exportAll();
    MemoryExportSchema.parse(exp);
    assert.equal(exp.episodes.length, 2);
    const dir2 = tmpDir();
    const other = await openStore(dir2);
    try {
      const r = await other.importAll(JSON.parse(JSON.stringify(exp)));
      assert.deepEqual(r, { imported: 2, skipped: 0, ids: exp.episodes.map((e) => e.id) });
      const again = await other.importAll(exp);
      assert.deepEqual(again, { imported: 0, skipped: 2, ids: [] });
      assert.deepEqual(await other.getEpisode(a), await store.getEpisode(a));
      assert.equal((await other.query({ query: 'export' })).hits[0]?.episode.id, a);
      assert.ok((await other.listPatterns()).length > 0);
      const before = await other.stats();
      const bad = { ...exp, episodes: [...exp.episodes.map((e) => ({ ...e, id: e.id + 'z' })), { id: 'bad', task: 'x' }] };
      await assert.rejects(other.importAll(bad), (e: unknown) => e instanceof MemoryError && e.code === 'invalid' && /episodes\.2/.test(e.message));
      await assert.rejects(other.importAll({ format: 'something-else' }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid' && /format/.test(e.message));
      await assert.rejects(other.importAll('not json'), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
      const after = await other.stats();
      assert.equal(after.episodes, before.episodes);
      assert.equal(after.sequence, before.sequence);
    } finally {
      await other.close();
      rmDir(dir2);
    }
  });

  it('clears everything but tool usage', async () => {
    await record(store, 'one', 'other', [['t', 'a', ok()]], { type: 'success', verdict: 'v' });
    await store.recordToolCall('memory_query');
    await store.clear();
    const s = await store.stats();
    assert.equal(s.episodes, 0);
    assert.equal(s.patterns, 0);
    assert.equal((await store.toolUsage()).memory_query, 1);
  });

  it('persists tool usage counters (batched, flushed on close)', async () => {
    await store.recordToolCall('a');
    await store.recordToolCall('a');
    await store.recordToolCall('b');
    assert.deepEqual(await store.toolUsage(), { a: 2, b: 1 });
    await store.close();
    store = await openStore(dir);
    assert.deepEqual(await store.toolUsage(), { a: 2, b: 1 });
    await store.recordToolCall('a');
    assert.deepEqual(await store.toolUsage(), { a: 3, b: 1 });
  });

  it('reports statistics', async () => {
    await record(store, 'one', 'other', [['t', 'a', ok()], ['u', 'b', ok()]], { type: 'success', verdict: 'v' }, { domain: 'd1' });
    await store.createEpisode({ task: 'two', taskType: 'other', domain: 'd2' });
    const s = await store.stats();
    assert.equal(s.episodes, 2);
    assert.equal(s.completedEpisodes, 1);
    assert.equal(s.steps, 2);
    assert.ok(s.patterns > 0);
    assert.deepEqual(s.byDomain, { d1: 1, d2: 1 });
    assert.deepEqual(s.byOutcome, { success: 1, in_progress: 1 });
    assert.ok(s.databaseBytes > 0);
    assert.ok(s.journalBytes > 8);
    assert.equal(s.readOnly, false);
  });

  it('throws closed after close', async () => {
    await store.close();
    await assert.rejects(store.getEpisode('x'), (e: unknown) => e instanceof MemoryError && e.code === 'closed');
    await store.close(); // idempotent
  });
});
