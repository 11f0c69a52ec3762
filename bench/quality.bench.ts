/**
 * Retrieval quality: `npm run bench:quality`. Imports the labelled set (bench/quality/) into
 * a real store and prints nDCG@5, recall@5 and MRR per split (held-out, dev, dev2, all, blind) for
 * the full ranking, for each component switched off (ablations), and for whole-episode
 * BM25 (every field's text in one bag of words, no field weights, no expansion) measured
 * in the same run. One JSON object per line.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryStore } from '../src/memory';
import type { Episode, OpenOptions } from '../src/memory';
import { tokenize } from '../src/memory/text';
import { DEFAULT_FEATURES } from '../src/memory/search/expand/expander';
import { loadEpisodes, loadQueries } from './quality/set';
import type { GradedQuery } from './quality/set';

const K = 5;

/** nDCG@k with gain 2^grade − 1, the ideal ranking taken from all graded episodes. */
function ndcg(ranked: string[], grades: Map<string, number>, k = K): number {
  const dcg = ranked.slice(0, k).reduce((s, id, i) => s + (2 ** (grades.get(id) ?? 0) - 1) / Math.log2(i + 2), 0);
  const ideal = [...grades.values()]
    .sort((a, b) => b - a)
    .slice(0, k)
    .reduce((s, g, i) => s + (2 ** g - 1) / Math.log2(i + 2), 0);
  return ideal > 0 ? dcg / ideal : 0;
}

/** Share of the graded episodes (any grade) found in the top k. */
function recall(ranked: string[], grades: Map<string, number>, k = K): number {
  return ranked.slice(0, k).filter((id) => grades.has(id)).length / grades.size;
}

function reciprocalRank(ranked: string[], grades: Map<string, number>): number {
  const i = ranked.findIndex((id) => grades.has(id));
  return i < 0 ? 0 : 1 / (i + 1);
}

type Ranker = (q: string) => Promise<string[]>;

interface Scores {
  ndcg5: number;
  recall5: number;
  mrr: number;
  queries: number;
}

/** `QUALITY_DETAIL=dev` prints each dev and dev2 query's result (never the held-out or blind ones: they are not for tuning). */
const DETAIL = process.env.QUALITY_DETAIL === 'dev';
/** `QUALITY_SPLIT=dev` measures and prints the tuning splits (dev, dev2) only. */
const DEV_ONLY = process.env.QUALITY_SPLIT === 'dev';
/** The splits that may guide tuning. */
const TUNING = new Set(['dev', 'dev2']);

async function evaluate(rank: Ranker, queries: GradedQuery[], config: string): Promise<Record<string, Scores>> {
  const per: { split: string; n: number; r: number; m: number }[] = [];
  for (const q of queries) {
    const ranked = await rank(q.text);
    per.push({ split: q.split, n: ndcg(ranked, q.grades), r: recall(ranked, q.grades), m: reciprocalRank(ranked, q.grades) });
    if (DETAIL && TUNING.has(q.split)) {
      const missed = [...q.grades.keys()].filter((id) => !ranked.slice(0, K).includes(id));
      console.log(JSON.stringify({ config, query: q.id, text: q.text, ndcg5: round(per[per.length - 1].n), ranked: ranked.slice(0, K), missed }));
    }
  }
  const summary = (xs: typeof per): Scores => ({
    ndcg5: round(mean(xs.map((x) => x.n))),
    recall5: round(mean(xs.map((x) => x.r))),
    mrr: round(mean(xs.map((x) => x.m))),
    queries: xs.length,
  });
  const of = (split: string): typeof per => per.filter((x) => x.split === split);
  // "all" stays queries.txt's splits (held and dev), comparable with the figures from before dev2.
  return { held: summary(of('held')), dev: summary(of('dev')), dev2: summary(of('dev2')), all: summary(per.filter((x) => x.split === 'held' || x.split === 'dev')), blind: summary(of('blind')) };
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const round = (x: number): number => Math.round(x * 1000) / 1000;

/** All of an episode's text, as one document. */
function episodeText(e: Episode): string {
  const o = e.outcome!;
  const outcome = o.type === 'success' || o.type === 'partial_success' ? o.verdict : o.reason;
  const steps = e.steps.map((s) => `${s.tool} ${s.action} ${s.result.status === 'success' ? (s.result.output ?? '') : (s.result.message ?? '')}`);
  return [e.task, ...steps, outcome, ...(e.reflection?.insights ?? [])].join('\n');
}

/** Okapi BM25 (k1 = 1.2, b = 0.75) over whole episodes. */
function bm25Baseline(episodes: Episode[]): Ranker {
  const docs = episodes.map((e) => {
    const tf = new Map<string, number>();
    const toks = tokenize(episodeText(e));
    for (const t of toks) tf.set(t, (tf.get(t) ?? 0) + 1);
    return { id: e.id, tf, len: toks.length };
  });
  const df = new Map<string, number>();
  for (const d of docs) for (const t of d.tf.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const avg = mean(docs.map((d) => d.len));
  const N = docs.length;
  return (q) => {
    const terms = [...new Set(tokenize(q))];
    const scored = docs.map((d) => {
      let s = 0;
      for (const t of terms) {
        const f = d.tf.get(t);
        if (!f) continue;
        const n = df.get(t)!;
        s += (Math.log(1 + (N - n + 0.5) / (n + 0.5)) * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * d.len) / avg));
      }
      return { id: d.id, s };
    });
    return Promise.resolve(
      scored
        .filter((x) => x.s > 0)
        .sort((a, b) => b.s - a.s)
        .slice(0, K)
        .map((x) => x.id),
    );
  };
}

/** The configurations measured: the full ranking, then each component off. */
const COMPONENTS = ['lexicon', 'wordnet', 'associations', 'feedback', 'fusion', 'docExpansion'] as const;
const CONFIGS: { name: string; options: Partial<OpenOptions> }[] = [
  { name: 'full', options: {} },
  ...COMPONENTS.map((c) => (DEFAULT_FEATURES[c] ? { name: `without_${c}`, options: { retrieval: { [c]: false } } } : { name: `with_${c}`, options: { retrieval: { [c]: true } } })),
  { name: 'bm25f_only (no expansion, no feedback)', options: { retrieval: Object.fromEntries(COMPONENTS.map((c) => [c, false])) } },
];

async function storeRanker(episodes: Episode[], options: Partial<OpenOptions>, depth = K): Promise<{ rank: Ranker; terms: (q: string) => Promise<string[]>; close: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mem-quality-'));
  const store = await MemoryStore.open({ dir, snapshotDebounceMs: 3_600_000, ...options });
  await store.importAll({ format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes });
  return {
    rank: async (q) => (await store.query({ query: q, limit: depth })).hits.map((h) => h.episode.id),
    /** The query's terms with everything expansion and feedback added. */
    terms: async (q) => (await store.query({ query: q, limit: depth })).expandedTerms ?? [],
    close: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `QUALITY_MISSES=1`: where the full ranking's misses are, in aggregate per split (counts of
 * graded episodes missed in the top K, never which query): ranked 6–10 or 11–20, found in
 * the top K by a configuration with one component switched, or sharing no term with the
 * query (a vocabulary gap). Says which component could find them without showing a
 * held-out or blind query.
 */
const MISSES = process.env.QUALITY_MISSES === '1';

type Depth = Map<string, string[]>;

async function missReport(episodes: Episode[], queries: GradedQuery[]): Promise<void> {
  const expanded = new Map<string, Set<string>>();
  const rankAll = async (options: Partial<OpenOptions>, depth: number): Promise<Depth> => {
    const r = await storeRanker(episodes, options, depth);
    const out: Depth = new Map();
    for (const q of queries) out.set(q.id, await r.rank(q.text));
    if (Object.keys(options).length === 0) for (const q of queries) expanded.set(q.id, new Set(await r.terms(q.text)));
    await r.close();
    return out;
  };
  const rankings = new Map<string, Depth>();
  for (const c of CONFIGS) rankings.set(c.name, await rankAll(c.options, K));
  // The positions past K (a deeper page may order its top K differently: diversity works on the page's window).
  const full = await rankAll({}, 20);
  const text = new Map(episodes.map((e) => [e.id, new Set(tokenize(episodeText(e)))]));
  for (const split of ['dev', 'dev2', 'held', 'blind']) {
    const counts: Record<string, number> = { graded: 0, missed: 0, missed_grade_2: 0, ranked_6_10: 0, ranked_11_20: 0, no_shared_term: 0, no_shared_expanded_term: 0 };
    for (const q of queries.filter((x) => x.split === split)) {
      const ranked = full.get(q.id)!;
      const qterms = new Set(tokenize(q.text));
      for (const id of q.grades.keys()) {
        counts.graded++;
        if (rankings.get('full')!.get(q.id)!.includes(id)) continue;
        const at = ranked.indexOf(id);
        counts.missed++;
        if (q.grades.get(id) === 2) counts.missed_grade_2++;
        if (at >= 0 && at < 10) counts.ranked_6_10++;
        else if (at >= 10) counts.ranked_11_20++;
        if (![...qterms].some((t) => text.get(id)!.has(t))) counts.no_shared_term++;
        if (![...expanded.get(q.id)!].some((t) => text.get(id)!.has(t))) counts.no_shared_expanded_term++;
        for (const [name, depth] of rankings) {
          if (name !== 'full' && depth.get(q.id)!.slice(0, K).includes(id)) counts[`found_${name}`] = (counts[`found_${name}`] ?? 0) + 1;
        }
      }
    }
    console.log(JSON.stringify({ bench: 'quality', misses: split, ...counts }));
  }
}

async function main(): Promise<void> {
  const episodes = loadEpisodes();
  const queries = loadQueries();
  const known = new Set(episodes.map((e) => e.id));
  for (const q of queries) for (const id of q.grades.keys()) if (!known.has(id)) throw new Error(`query ${q.id} grades an unknown episode ${id}`);
  const domains = new Set(episodes.map((e) => e.domain)).size;
  console.log(JSON.stringify({ bench: 'quality', episodes: episodes.length, domains, queries: queries.length, held_out: queries.filter((q) => q.split === 'held').length, blind: queries.filter((q) => q.split === 'blind').length, k: K }));
  if (MISSES) return missReport(episodes, queries);
  const base = await evaluate(bm25Baseline(episodes), queries, 'bm25_whole_episode');
  if (DEV_ONLY) {
    // While tuning: the tuning splits alone, so the held-out and blind figures are not seen by accident.
    console.log(JSON.stringify({ bench: 'quality', config: 'bm25_whole_episode', dev: base.dev, dev2: base.dev2 }));
    for (const c of CONFIGS) {
      const r = await storeRanker(episodes, c.options);
      const s = await evaluate(r.rank, queries.filter((q) => TUNING.has(q.split)), c.name);
      await r.close();
      console.log(JSON.stringify({ bench: 'quality', config: c.name, dev: s.dev, dev2: s.dev2, ndcg5_dev_minus_bm25: round(s.dev.ndcg5 - base.dev.ndcg5), ndcg5_dev2_minus_bm25: round(s.dev2.ndcg5 - base.dev2.ndcg5) }));
    }
    return;
  }
  console.log(JSON.stringify({ bench: 'quality', config: 'bm25_whole_episode', ...base }));
  for (const c of CONFIGS) {
    const r = await storeRanker(episodes, c.options);
    const s = await evaluate(r.rank, queries, c.name);
    await r.close();
    console.log(JSON.stringify({ bench: 'quality', config: c.name, ...s, ndcg5_held_minus_bm25: round(s.held.ndcg5 - base.held.ndcg5), ndcg5_blind_minus_bm25: round(s.blind.ndcg5 - base.blind.ndcg5) }));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
