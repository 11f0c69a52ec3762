/**
 * The ranking computed the obvious way, for the exactness tests: every posting of every
 * query term decoded, every candidate blended, everything sorted. It shares the scoring
 * definitions with the index (bm25, recency, the blend weights, the context score,
 * diversify, explain) but none of its candidate generation or pruning, so any pruning that
 * drops or reorders a hit makes the two disagree. The blend formula is written out here
 * again on purpose: a change to the scoring that the pruning's bounds do not follow shows as
 * a failing test until both (and this file) agree.
 */
import type { SearchIndex } from '../../../src/memory/search';
import type { QueryTerm, RankContext, RankedHit, RankFilter } from '../../../src/memory/search';
import type { DocMeta } from '../../../src/memory/search/analyze';
import { blendWeights } from '../../../src/memory/search/rank/blend';
import { ContextMatcher } from '../../../src/memory/search/rank/context';
import { diversify } from '../../../src/memory/search/rank/diversify';
import { explainHit } from '../../../src/memory/search/rank/explain';
import { bm25, recency, termIdf } from '../../../src/memory/search/rank/score';
import { MAX_QUERY_TERMS } from '../../../src/memory/search/rank/types';
import { readVarint } from '../../../src/memory/search/varint';

interface Cand {
  d: number;
  meta: DocMeta;
  bm: number;
  mask: number;
  score: number;
}

function passes(m: DocMeta, f: RankFilter): boolean {
  return (
    (f.domain === undefined || m.domain === f.domain) &&
    (f.taskType === undefined || m.taskType === f.taskType) &&
    (f.outcome === undefined || m.outcome === f.outcome) &&
    m.startedMs >= (f.sinceMs ?? -Infinity) &&
    m.startedMs <= (f.untilMs ?? Infinity)
  );
}

export function exhaustiveRank(index: SearchIndex, qterms: QueryTerm[], filter: RankFilter, ctx: RankContext, limit: number, offset: number, nowMs: number): { hits: RankedHit[]; total: number } {
  const terms = qterms.slice(0, MAX_QUERY_TERMS);
  const N = Math.max(1, index.documentCount);
  const { docs } = index;
  const bm = new Map<number, { s: number; mask: number }>();
  const pend = new Map<string, { s: number; mask: number }>();
  terms.forEach((t, qi) => {
    const df = index.docFreq(t.term);
    if (df === 0) return;
    const idf = termIdf(N, df, t.weight);
    for (const [b, from, end, firstDoc] of index.postings.segments(t.term)) {
      let p = from;
      let doc = firstDoc;
      while (p < end) {
        const [dd, p2] = readVarint(b, p);
        const [u, p3] = readVarint(b, p2);
        p = p3;
        doc += dd;
        if (docs.alive[doc] !== 1) continue;
        const cur = bm.get(doc) ?? { s: 0, mask: 0 };
        cur.s += bm25(idf, u / 2, docs.lens[doc], index.avgLen);
        cur.mask |= 1 << qi;
        bm.set(doc, cur);
      }
    }
    for (const [id, pd] of index.pending) {
      const u = pd.tf.get(t.term);
      if (!u) continue;
      const cur = pend.get(id) ?? { s: 0, mask: 0 };
      cur.s += bm25(idf, u / 2, pd.len, index.avgLen);
      cur.mask |= 1 << qi;
      pend.set(id, cur);
    }
  });
  const cands: Cand[] = [];
  const hasTerms = terms.length > 0;
  if (hasTerms) {
    for (const [d, v] of bm) cands.push({ d, meta: docs.meta(d), bm: v.s, mask: v.mask, score: 0 });
    for (const [id, v] of pend) cands.push({ d: -1, meta: index.pending.get(id)!.meta, bm: v.s, mask: v.mask, score: 0 });
  } else {
    for (let d = 0; d < docs.n; d++) if (docs.alive[d] === 1) cands.push({ d, meta: docs.meta(d), bm: 0, mask: 0, score: 0 });
    for (const pd of index.pending.values()) cands.push({ d: -1, meta: pd.meta, bm: 0, mask: 0, score: 0 });
  }
  const kept = cands.filter((c) => passes(c.meta, filter));
  if (kept.length === 0) return { hits: [], total: 0 };
  const maxBm = Math.max(0, ...kept.map((c) => c.bm));
  const context = new ContextMatcher(ctx, docs);
  const w = blendWeights(context.keys, hasTerms);
  for (const c of kept) {
    c.score = w.text * (maxBm > 0 ? c.bm / maxBm : 0) + w.context * context.ofMeta(c.meta) + w.reward * c.meta.reward + w.recency * recency(nowMs, c.meta.startedMs);
  }
  // Best first; ties: indexed episodes before episodes in progress, then by document number / id.
  kept.sort((a, b) => b.score - a.score || (a.d < 0 ? 1 : 0) - (b.d < 0 ? 1 : 0) || a.d - b.d || (a.meta.id < b.meta.id ? -1 : a.meta.id > b.meta.id ? 1 : 0));
  const window = offset + limit + Math.max(20, limit * 2);
  const top = kept.slice(0, window);
  const metas = top.map((c) => c.meta);
  const page = diversify(metas).slice(offset, offset + limit);
  const hits = page.map(({ i, of }) => explainHit(top[i], metas[i], of >= 0 ? metas[of] : undefined, terms, context, maxBm, nowMs));
  return { hits, total: kept.length };
}
