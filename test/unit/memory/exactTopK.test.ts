/**
 * The ranking's top-k is exact: on randomised indexes (a base segment from a snapshot plus
 * appended postings, tombstones, episodes in progress) and randomised queries (only the
 * most common words, rare words, mixed, expansion-weighted terms, filters, context, later
 * pages, and a kept session resumed with more terms), SearchIndex.rank returns the same
 * hits in the same order with the same scores, and the same total, as the exhaustive
 * ranking (exhaustiveRank.ts). Also through the store's query, with expansion and feedback
 * on: every ranking pass of every query is checked.
 */
import * as assert from 'node:assert/strict';
import { SearchIndex } from '../../../src/memory/search';
import type { QueryTerm, RankContext, RankFilter } from '../../../src/memory/search';
import { OUTCOME_TYPES, TASK_TYPES } from '../../../src/memory';
import type { Episode, MemoryStore, Outcome } from '../../../src/memory';
import { exhaustiveRank } from './exhaustiveRank';
import { fastTmpDir, openStore, rmDir, rng } from './helpers';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const DOMAINS = ['web', 'backend', 'cli', 'data'];
const LANGS = ['typescript', 'python', 'rust', 'go'];
const TAGS = ['auth', 'perf', 'db', 'ui', 'flaky', 'ci'];

/** A vocabulary where a few words are in almost every episode, some in many, most in few. */
function vocabulary(): { common: string[]; mid: string[]; rare: string[] } {
  const w = (p: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${p}${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`);
  return { common: w('zcom', 8), mid: w('zmid', 40), rare: w('zrar', 400) };
}

function randomEpisode(r: () => number, i: number, v: ReturnType<typeof vocabulary>, done: boolean): Episode {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const words: string[] = [];
  for (const c of v.common) if (r() < 0.9) words.push(...Array.from({ length: 1 + Math.floor(r() * 3) }, () => c));
  for (let k = Math.floor(r() * 6); k > 0; k--) words.push(pick(v.mid));
  for (let k = Math.floor(r() * 3); k > 0; k--) words.push(pick(v.rare));
  for (let k = Math.floor(r() * 20); k > 0; k--) words.push(`filler${Math.floor(r() * 5000)}`);
  const shuffled = words.sort(() => r() - 0.5);
  const cut = Math.floor(shuffled.length / 2);
  const kind = pick(OUTCOME_TYPES);
  const outcome: Outcome =
    kind === 'success'
      ? { type: 'success', verdict: shuffled.slice(cut, cut + 3).join(' ') || 'done' }
      : kind === 'partial_success'
        ? { type: 'partial_success', verdict: 'partly', completed: [pick(v.mid)], failed: [pick(v.rare)] }
        : kind === 'failure'
          ? { type: 'failure', reason: `${pick(v.mid)} broke` }
          : { type: 'abstained', reason: 'needs a decision' };
  const started = NOW - Math.floor(r() * 200 * DAY) - i; // distinct start times
  return {
    id: `ep_${i}`,
    task: shuffled.slice(0, cut).join(' ') || 'empty task',
    domain: pick(DOMAINS),
    taskType: pick(TASK_TYPES),
    context: { language: pick(LANGS), tags: r() < 0.6 ? [pick(TAGS)] : [] },
    startedAt: new Date(started).toISOString(),
    steps: [
      {
        n: 1,
        timestamp: new Date(started + 1000).toISOString(),
        tool: pick(['read_file', 'edit_file', 'run_tests']),
        action: shuffled.slice(cut).join(' ') || 'act',
        parameters: {},
        result: r() < 0.2 ? { status: 'error', message: `${pick(v.mid)} failed` } : { status: 'success', output: 'ok' },
      },
    ],
    outcome: done ? outcome : undefined,
    reward: done ? Math.round(r() * 1000) / 1000 : undefined,
  };
}

/** An index with a base segment (from a snapshot), appended postings, tombstones in both and episodes in progress. */
function randomIndex(seed: number, n: number): { index: SearchIndex; r: () => number; v: ReturnType<typeof vocabulary> } {
  const r = rng(seed);
  const v = vocabulary();
  const index = new SearchIndex({ docExpansion: false });
  const half = Math.floor(n / 2);
  for (let i = 0; i < half; i++) index.upsert(randomEpisode(r, i, v, true));
  index.loadFrom(index.serialize());
  for (let i = half; i < n; i++) index.upsert(randomEpisode(r, i, v, r() > 0.03));
  for (let k = 0; k < n / 20; k++) index.remove(`ep_${Math.floor(r() * n)}`);
  for (let k = 0; k < n / 40; k++) index.upsert(randomEpisode(r, Math.floor(r() * n), v, true)); // re-indexed: a new document number
  return { index, r, v };
}

interface Case {
  name: string;
  terms: QueryTerm[];
  filter: RankFilter;
  ctx: RankContext;
  limit: number;
  offset: number;
}

function randomCases(r: () => number, v: ReturnType<typeof vocabulary>): Case[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const some = (a: string[], k: number): string[] => [...new Set(Array.from({ length: k }, () => pick(a)))];
  const own = (ws: string[]): QueryTerm[] => ws.map((term) => ({ term, weight: 1 }));
  const expanded = (ws: string[]): QueryTerm[] => ws.map((term) => ({ term, weight: pick([0.45, 0.25, 0.3, 0.6]), expansion: true }));
  const none = {};
  return [
    { name: 'common words only', terms: own(some(v.common, 2 + Math.floor(r() * 3))), filter: none, ctx: none, limit: 10, offset: 0 },
    { name: 'one common word', terms: own([pick(v.common)]), filter: none, ctx: none, limit: 10, offset: 0 },
    { name: 'common words, a later page', terms: own(some(v.common, 3)), filter: none, ctx: none, limit: 5, offset: 10 },
    { name: 'rare words', terms: own(some(v.rare, 2)), filter: none, ctx: none, limit: 10, offset: 0 },
    { name: 'mixed', terms: own([pick(v.rare), pick(v.mid), pick(v.common)]), filter: none, ctx: none, limit: 10, offset: 0 },
    { name: 'common words with expansion terms', terms: [...own(some(v.common, 2)), ...expanded([...some(v.common, 3), ...some(v.mid, 4)])], filter: none, ctx: none, limit: 10, offset: 0 },
    { name: 'common words, filtered', terms: own(some(v.common, 3)), filter: { domain: pick(DOMAINS), taskType: pick(TASK_TYPES) }, ctx: none, limit: 10, offset: 0 },
    { name: 'common words, outcome and date filter', terms: own(some(v.common, 2)), filter: { outcome: 'success', sinceMs: NOW - 90 * DAY }, ctx: none, limit: 10, offset: 0 },
    { name: 'common words with context', terms: own(some(v.common, 3)), filter: none, ctx: { language: pick(LANGS), tags: [pick(TAGS)], domain: pick(DOMAINS) }, limit: 10, offset: 0 },
    { name: 'empty query with context', terms: [], filter: none, ctx: { taskType: pick(TASK_TYPES) }, limit: 10, offset: 0 },
    { name: 'unknown word', terms: own(['nosuchwordanywhere']), filter: none, ctx: none, limit: 10, offset: 0 },
  ];
}

function assertSame(index: SearchIndex, c: Case, got: { hits: { id: string; score: number }[]; total: number }, label: string): void {
  const want = exhaustiveRank(index, c.terms, c.filter, c.ctx, c.limit, c.offset, NOW);
  assert.deepEqual(
    got.hits.map((h) => `${h.id} ${h.score}`),
    want.hits.map((h) => `${h.id} ${h.score}`),
    `${label}: ${c.name} (${c.terms.map((t) => t.term).join(' ')}): hits differ from the exhaustive ranking`,
  );
  assert.deepEqual(got.hits, want.hits, `${label}: ${c.name}: explanations differ`);
  assert.equal(got.total, want.total, `${label}: ${c.name}: total differs`);
}

describe('memory search: exact top-k', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`matches the exhaustive ranking on a randomised index (seed ${seed})`, () => {
      const { index, r, v } = randomIndex(seed, 700 + seed * 150);
      for (const c of randomCases(r, v)) assertSame(index, c, index.rank(c.terms, c.filter, c.ctx, c.limit, c.offset, NOW), `seed ${seed}`);
    });
  }

  it('a kept session resumed with more terms matches ranking all the terms at once', () => {
    const { index, r, v } = randomIndex(11, 1200);
    for (const c of randomCases(r, v)) {
      if (c.terms.length === 0) continue;
      const more: QueryTerm[] = [
        { term: v.common[Math.floor(r() * v.common.length)], weight: 0.45, expansion: true },
        { term: v.mid[Math.floor(r() * v.mid.length)], weight: 0.3, expansion: true },
      ].filter((t) => !c.terms.some((q) => q.term === t.term));
      const all = [...c.terms, ...more];
      index.rank(c.terms, c.filter, c.ctx, 20, 0, NOW, { keep: true, collectOnly: c.offset > 0 });
      const resumed = index.rank(all, c.filter, c.ctx, c.limit, c.offset, NOW, { resume: true });
      assertSame(index, { ...c, terms: all }, resumed, 'resumed');
    }
  });

  describe('through the store, with expansion and feedback on', () => {
    let dir: string;
    let store: MemoryStore;
    before(async () => {
      dir = fastTmpDir('mem-exact-');
      store = await openStore(dir);
      const r = rng(99);
      const v = vocabulary();
      const episodes = Array.from({ length: 900 }, (_, i) => randomEpisode(r, i, v, true));
      // Real words too, so the lexicon and synonyms expand the queries.
      for (const [i, e] of episodes.entries()) e.task += ` ${['fix the slow login', 'flaky payment webhook test', 'crash in the cache layer', 'duplicate charge on retry'][i % 4]}`;
      await store.importAll({ format: 'agent-memory-export', version: 1, exportedAt: new Date(NOW).toISOString(), episodes });
    });
    after(async () => {
      await store.close();
      rmDir(dir);
    });

    it('every ranking pass of a query equals the exhaustive ranking of its terms', async () => {
      const index = (store as unknown as { state: { index: SearchIndex } }).state.index;
      const rank = index.rank.bind(index);
      let checked = 0;
      index.rank = (terms, filter, ctx, limit, offset, nowMs, opts) => {
        const got = rank(terms, filter, ctx, limit, offset, nowMs, opts);
        const want = exhaustiveRank(index, terms, filter, ctx, limit, offset, nowMs);
        if (!opts?.collectOnly) {
          assert.deepEqual(got.hits.map((h) => h.id), want.hits.map((h) => h.id), `pass over ${terms.map((t) => t.term).join(' ')}`);
          assert.deepEqual(got.hits, want.hits);
          checked++;
        }
        assert.equal(got.total, want.total);
        return got;
      };
      try {
        const v = vocabulary();
        for (const query of ['slow login zcomaa zcomba', 'zcomaa zcomca zcomda', 'flaky webhook', 'crash cache zmidaa', 'duplicate charge', 'zcomea']) {
          const res = await store.query({ query, limit: 10 });
          assert.ok(res.hits.length > 0, query);
          await store.query({ query, limit: 5, offset: 5, domain: 'web' });
          await store.query({ query, limit: 10, context: { language: 'rust', tags: ['db'] }, expansions: [v.common[3]] });
        }
      } finally {
        index.rank = rank;
      }
      assert.ok(checked >= 18, `checked ${checked} passes`);
    });
  });
});
