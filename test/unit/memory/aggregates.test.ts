import * as assert from 'node:assert/strict';
import { MemoryError, TASK_TYPES, type Episode, type OutcomeType } from '../../../src/memory';
import { chooseBucket } from '../../../src/memory/store/aggregates';
import { ok, openStore, record, useFreshStore } from './helpers';
import { sampleOutcome } from '../../fixtures/outcomes';

const OUTCOMES: OutcomeType[] = ['success', 'partial_success', 'failure', 'abstained'];
const DAY = 86_400_000;

/** Deterministic episodes spread over `days` days, some in progress, over three domains. */
function generated(n: number, days: number, seed = 7): Episode[] {
  let s = seed;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const base = Date.parse('2026-03-02T09:00:00.000Z'); // a Monday
  return Array.from({ length: n }, (_, i) => {
    const start = base + Math.floor(rand() * days) * DAY + Math.floor(rand() * 8) * 3_600_000;
    const kind = OUTCOMES[Math.floor(rand() * 4)];
    const inProgress = rand() < 0.1;
    const ep: Episode = {
      id: `ep_gen_${i}`,
      task: `generated task number ${i} about ${['parsing', 'caching', 'routing'][i % 3]}`,
      domain: ['web', 'cli', 'data'][i % 3],
      taskType: TASK_TYPES[Math.floor(rand() * TASK_TYPES.length)],
      context: { tags: [] },
      startedAt: new Date(start).toISOString(),
      steps: [{ n: 1, timestamp: new Date(start).toISOString(), tool: 'read', action: 'read a file', parameters: {}, result: { status: 'success' } }],
    };
    if (!inProgress) {
      ep.endedAt = new Date(start + 60_000).toISOString();
      ep.reward = Math.round(rand() * 1000) / 1000;
      ep.outcome = sampleOutcome(kind);
    }
    return ep;
  });
}

function exportOf(episodes: Episode[]): unknown {
  return { format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes };
}

describe('memory store: aggregates for the views', () => {
  const ctx = useFreshStore();

  it('groups episodes by domain and task type and patterns by kind, as listing them would', async () => {
    const eps = generated(300, 20);
    await ctx.store.importAll(exportOf(eps));
    const { groups, patternKinds } = await ctx.store.episodeGroups();
    const expected = new Map<string, number>();
    for (const e of eps) expected.set(`${e.domain}/${e.taskType}`, (expected.get(`${e.domain}/${e.taskType}`) ?? 0) + 1);
    assert.deepEqual(new Map(groups.map((g) => [`${g.domain}/${g.taskType}`, g.count])), expected);
    for (const g of groups) assert.equal(g.count, (await ctx.store.listEpisodes({ domain: g.domain, taskType: g.taskType, limit: 1 })).total);
    const patterns = await ctx.store.listPatterns({ limit: 1000 });
    for (const kind of Object.keys(patternKinds) as Array<keyof typeof patternKinds>) assert.equal(patternKinds[kind], patterns.filter((p) => p.kind === kind).length, kind);
    assert.ok(Object.values(patternKinds).some((n) => n > 0));
  });

  it('counts outcomes per day and computes success rate and mean reward per task type and domain', async () => {
    const eps = generated(400, 30);
    await ctx.store.importAll(exportOf(eps));
    const ins = await ctx.store.insights({ bucket: 'day', maxSeries: 50 });
    assert.equal(ins.bucket, 'day');
    assert.equal(ins.totals.episodes, 400);
    assert.equal(ins.totals.completed, eps.filter((e) => e.outcome).length);
    assert.equal(ins.totals.byOutcome.in_progress, eps.filter((e) => !e.outcome).length);
    for (const o of OUTCOMES) assert.equal(ins.totals.byOutcome[o], eps.filter((e) => e.outcome?.type === o).length, o);
    const rewards = eps.flatMap((e) => (e.reward === undefined ? [] : [e.reward]));
    assert.ok(Math.abs(ins.totals.meanReward! - rewards.reduce((a, b) => a + b, 0) / rewards.length) < 1e-9);

    // Timeline: every episode in the bucket of its end (or start while in progress).
    const perDay = new Map<string, Record<string, number>>();
    for (const e of eps) {
      const day = (e.endedAt ?? e.startedAt).slice(0, 10);
      const row = perDay.get(day) ?? {};
      const k = e.outcome?.type ?? 'in_progress';
      row[k] = (row[k] ?? 0) + 1;
      perDay.set(day, row);
    }
    assert.deepEqual(
      ins.timeline.map((p) => p.start),
      [...perDay.keys()].sort(),
    );
    for (const p of ins.timeline) for (const [k, n] of Object.entries(perDay.get(p.start)!)) assert.equal(p[k as OutcomeType], n, `${p.start} ${k}`);

    // Trends by task type: per day, completed episodes of that type.
    for (const series of ins.byTaskType) {
      const mine = eps.filter((e) => e.outcome && e.taskType === series.key);
      assert.equal(series.completed, mine.length);
      for (const p of series.points) {
        const day = mine.filter((e) => e.endedAt!.slice(0, 10) === p.start);
        assert.equal(p.completed, day.length);
        assert.ok(Math.abs(p.successRate - day.filter((e) => e.outcome!.type === 'success').length / day.length) < 1e-9);
        assert.ok(Math.abs(p.meanReward - day.reduce((s, e) => s + e.reward!, 0) / day.length) < 1e-9);
      }
    }
    assert.deepEqual(ins.byDomain.map((s) => s.key).sort(), ['cli', 'data', 'web']);
  });

  it('buckets by ISO week (Monday) and by month, and picks the bucket from the span', async () => {
    await ctx.store.importAll(exportOf(generated(200, 300)));
    const weeks = await ctx.store.insights({ bucket: 'week' });
    for (const p of weeks.timeline) assert.equal(new Date(`${p.start}T00:00:00Z`).getUTCDay(), 1, p.start);
    assert.equal(weeks.timeline.reduce((s, p) => s + p.success + p.failure + p.partial_success + p.abstained + p.in_progress, 0), 200);
    const months = await ctx.store.insights({ bucket: 'month' });
    for (const p of months.timeline) assert.match(p.start, /^\d{4}-\d{2}-01$/);
    assert.equal((await ctx.store.insights()).bucket, 'week');
    assert.equal(chooseBucket('2026-01-01T00:00:00Z', '2026-01-20T00:00:00Z'), 'day');
    assert.equal(chooseBucket('2020-01-01T00:00:00Z', '2026-01-20T00:00:00Z'), 'month');
    assert.equal(chooseBucket(undefined, undefined), 'day');
  });

  it('lists the top patterns by evidence with success rates, limits series, and honours since', async () => {
    for (const [i, area] of ['parser', 'lexer', 'router', 'cache'].entries()) await record(ctx.store, `fix the flaky test in the ${area}`, 'debugging', [['run_tests', 'run', ok()], ['edit', 'fix', ok()]], { type: i < 3 ? 'success' : 'failure', reason: 'x', verdict: 'v' } as never);
    await record(ctx.store, 'write docs for the cache', 'documentation', [['write', 'w', ok()]], { type: 'success', verdict: 'v' });
    const ins = await ctx.store.insights({ topPatterns: 3, maxSeries: 1 });
    assert.equal(ins.topPatterns.length, 3);
    const all = await ctx.store.listPatterns({ limit: 1000 });
    const strongest = Math.max(...all.map((p) => p.occurrences));
    assert.equal(ins.topPatterns[0].occurrences, strongest);
    const top = all.find((p) => p.id === ins.topPatterns[0].id)!;
    assert.equal(ins.topPatterns[0].successRate, top.successRate);
    assert.equal(ins.byTaskType.length, 1);
    assert.equal(ins.byTaskType[0].key, 'debugging');
    assert.equal(ins.byTaskType[0].successRate, 0.75);
    assert.equal(ins.totals.patterns, all.length);
    assert.ok(ins.size.databaseBytes > 0 && (ins.size.journalBytes ?? 0) > 0);
    const future = await ctx.store.insights({ since: '2999-01-01' });
    assert.equal(future.totals.episodes, 0);
    assert.deepEqual(future.timeline, []);
    assert.deepEqual(future.byTaskType, []);
  });

  it('keeps its counters on every write: steps, completion, delete, clear, and since within a day', async () => {
    const eps = generated(150, 12);
    await ctx.store.importAll(exportOf(eps));
    const a = await record(ctx.store, 'fix the flaky parser test', 'debugging', [['run_tests', 'run', ok()], ['edit', 'fix', ok()]], { type: 'success', verdict: 'v' });
    const open = await ctx.store.createEpisode({ task: 'still running', domain: 'web', taskType: 'testing' });
    await ctx.store.addStep(open.id, { tool: 'read', action: 'read', result: { status: 'success' } });
    await ctx.store.deleteEpisode(eps[3].id);
    await ctx.store.deleteEpisode(a);
    // The counters against a count made from the episodes themselves.
    const db = (ctx.store as unknown as { db: { exec(sql: string): Array<{ values: unknown[][] }> } }).db;
    const rows = (sql: string): string => JSON.stringify(db.exec(sql)[0]?.values ?? []);
    const recount = `SELECT substr(COALESCE(ended_at, started_at), 1, 10) AS d, domain, task_type, COALESCE(outcome_type, '') AS o, COUNT(*), ROUND(COALESCE(SUM(reward), 0), 9), COUNT(reward), SUM(step_count)
                       FROM episodes GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;
    const kept = 'SELECT day, domain, task_type, outcome, n, ROUND(reward_sum, 9), reward_n, steps FROM episode_daily ORDER BY 1, 2, 3, 4';
    assert.equal(rows(kept), rows(recount));
    const ins = await ctx.store.insights();
    assert.equal(ins.totals.episodes, 150 - 1 + 1);
    assert.equal(ins.totals.steps, eps.length - 1 + 1);
    // since in the middle of a day counts only that day's later episodes.
    const sorted = eps.slice(4).map((e) => e.endedAt ?? e.startedAt).sort();
    const since = sorted[Math.floor(sorted.length / 2)];
    const later = (await ctx.store.listEpisodes({ limit: 500 })).episodes.filter((e) => (e.endedAt ?? e.startedAt) >= since).length;
    assert.equal((await ctx.store.insights({ since })).totals.episodes, later);
    // Deletes leave free pages: the data (database minus free pages) shrinks, the database does not.
    const full = (await ctx.store.insights()).size;
    await ctx.store.deleteEpisodes(eps.slice(4, 140).map((e) => e.id));
    const thinned = (await ctx.store.insights()).size;
    assert.ok(thinned.freeBytes > 0, 'deleted episodes leave free pages');
    assert.ok(thinned.databaseBytes - thinned.freeBytes < full.databaseBytes - full.freeBytes, `the data shrank: ${JSON.stringify({ full, thinned })}`);
    await ctx.store.clear();
    assert.equal(rows(kept), '[]');
  });

  it('answers the same after a reopen from disk, on an empty store, and rejects bad options', async () => {
    const empty = await ctx.store.insights();
    assert.equal(empty.totals.episodes, 0);
    assert.equal(empty.totals.meanReward, undefined);
    assert.deepEqual(empty.timeline, []);
    assert.deepEqual((await ctx.store.episodeGroups()).groups, []);
    await ctx.store.importAll(exportOf(generated(120, 10)));
    const before = await ctx.store.insights();
    await ctx.store.close();
    ctx.store = await openStore(ctx.dir);
    const after = await ctx.store.insights();
    assert.deepEqual({ ...after, generatedAt: '', size: {} }, { ...before, generatedAt: '', size: {} });
    await assert.rejects(ctx.store.insights({ topPatterns: 0 }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid' && /topPatterns/.test(e.message));
    await assert.rejects(ctx.store.insights({ since: 'yesterday' }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
    await assert.rejects(ctx.store.insights({ bucket: 'hour' as never }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
  });
});

describe('memory store: patterns of an episode', () => {
  const ctx = useFreshStore();

  it('lists exactly the patterns whose evidence holds the episode, and reads one by id', async () => {
    const a = await record(ctx.store, 'fix the flaky login test', 'debugging', [['run_tests', 'run', ok()], ['edit', 'fix', ok()]], { type: 'success', verdict: 'v' });
    await record(ctx.store, 'write the cache docs', 'documentation', [['write', 'w', ok()]], { type: 'success', verdict: 'v' });
    const mine = await ctx.store.patternsOfEpisode(a);
    const all = await ctx.store.listPatterns({ limit: 1000 });
    assert.deepEqual(mine.map((p) => p.id).sort(), all.filter((p) => p.evidence.includes(a)).map((p) => p.id).sort());
    assert.ok(mine.length > 0);
    assert.deepEqual(await ctx.store.getPattern(mine[0].id), mine[0]);
    assert.equal(await ctx.store.getPattern('no such pattern'), undefined);
    const open = await ctx.store.createEpisode({ task: 'still running', taskType: 'other' });
    assert.deepEqual(await ctx.store.patternsOfEpisode(open.id), []);
    await assert.rejects(ctx.store.patternsOfEpisode(''), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
  });
});
