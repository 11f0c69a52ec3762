/**
 * Stage 1, collect: walks the postings of each query term and accumulates BM25 per
 * document (term at a time, rarest term first). Touched documents are listed in
 * `touched`; `masks` records which terms matched. Pending episodes are scored from
 * their term-frequency tables.
 */
import type { Accumulators } from './accumulators';
import { bm25, termIdf } from './score';
import type { IndexView, PendingScore, QueryTerm } from './types';

/**
 * Scores terms[start..] into `acc` (documents 0..nt already touched by a kept session).
 * Every posting of every term is scored: the top-k must be exact (see blend.ts for why the
 * postings cannot be pruned by term bounds here). Returns the new touched count.
 */
export function collect(view: IndexView, acc: Accumulators, terms: QueryTerm[], start: number, nt: number, pendingScores: Map<string, PendingScore>): number {
  const { scores, masks, touched } = acc;
  const { alive, lens } = view.docs;
  const N = Math.max(1, view.documentCount);
  const avgLen = view.avgLen;
  const score = bm25; // a local binding: the hot loop then calls it directly, not through the module's export
  const order = terms
    .map((t, qi) => ({ qi, df: qi < start ? 0 : view.docFreq(t.term) }))
    .filter((x) => x.df > 0)
    .sort((a, b) => a.df - b.df || a.qi - b.qi);
  for (const { qi, df } of order) {
    const { term, weight } = terms[qi];
    const idf = termIdf(N, df, weight);
    const bit = 1 << qi;
    for (const [b, from, end, firstDoc] of view.postings.segments(term)) {
      let p = from;
      let doc = firstDoc;
      while (p < end) {
        // Two varints, decoded inline (the hot loop of every query).
        let x = b[p++];
        let d = x & 0x7f;
        let shift = 7;
        while (x & 0x80) {
          x = b[p++];
          d += (x & 0x7f) * 2 ** shift;
          shift += 7;
        }
        doc += d;
        x = b[p++];
        let u = x & 0x7f;
        shift = 7;
        while (x & 0x80) {
          x = b[p++];
          u += (x & 0x7f) * 2 ** shift;
          shift += 7;
        }
        if (alive[doc] !== 1) continue;
        if (masks[doc] === 0) touched[nt++] = doc;
        scores[doc] += score(idf, u / 2, lens[doc], avgLen);
        masks[doc] |= bit;
      }
    }
    for (const [id, pd] of view.pending) {
      const u = pd.tf.get(term);
      if (!u) continue;
      const cur = pendingScores.get(id) ?? { s: 0, mask: 0 };
      cur.s += bm25(idf, u / 2, pd.len, avgLen);
      cur.mask |= bit;
      pendingScores.set(id, cur);
    }
  }
  return nt;
}
