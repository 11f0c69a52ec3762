/**
 * Stage 3, blend: text (BM25 normalized by the best candidate), context, reward and
 * recency combined with the BLEND weights; the `window` best candidates kept in a bounded
 * heap (topk.ts).
 *
 * Why this top-k is exact, and why the pruning is here and not in the postings: the
 * normalizer (the best BM25 among all candidates) is known once collect has scored every
 * posting, so each candidate's text score is exact before blending. A candidate's blend is
 * at most text + w.context + w.reward·reward + w.recency (context and recency are at most
 * 1); when that bound is below the heap's worst kept score (minus a margin for rounding)
 * the candidate cannot enter the window, since the worst kept score only rises, and its
 * context and recency are not computed. Every other candidate is blended exactly; ties go
 * to the lower document number, then episodes in progress by id. Bounding the postings
 * themselves (block-max WAND, MaxScore) does not pay with this score: on bench:memory's
 * 10k store, a query of common words has every episode as a candidate, the per-block bound
 * (64-document blocks, block maxima of each term's BM25 and of reward and recency) exceeds
 * the window's threshold in 157 of 157 blocks, because reward and recency, which decide
 * the order among similar text scores, are near their maxima in every block.
 */
import type { Accumulators } from './accumulators';
import type { ContextMatcher } from './context';
import type { Candidates } from './filter';
import { recency } from './score';
import { TopK } from '../topk';
import { BLEND } from './types';
import type { Evaluated, IndexView } from './types';

export interface Weights {
  text: number;
  context: number;
  reward: number;
  recency: number;
}

/** BLEND, with the context weight moved to text when no context is asked, and text spread over the rest for an empty query. */
export function blendWeights(contextKeys: number, hasTerms: boolean): Weights {
  const w: Weights = { text: BLEND.text, context: BLEND.context, reward: BLEND.reward, recency: BLEND.recency };
  if (contextKeys === 0) {
    w.text += w.context;
    w.context = 0;
  }
  if (!hasTerms) {
    const rest = w.context + w.reward + w.recency;
    const t = w.text;
    w.context += (t * w.context) / rest;
    w.reward += (t * w.reward) / rest;
    w.recency += (t * w.recency) / rest;
    w.text = 0;
  }
  return w;
}

/** Slack for rounding between a bound and the exact blend (both sums of the same terms in a different order). */
const BOUND_MARGIN = 1e-9;

/** The `window` best candidates by blended score, best first. */
export function blendTop(view: IndexView, acc: Accumulators, cands: Candidates, w: Weights, context: ContextMatcher, nowMs: number, window: number): Evaluated[] {
  const { docs } = view;
  const { scores, masks, touched } = acc;
  const { nc, maxBm } = cands;
  const decay = recency; // local binding: called directly in the loop
  const ctxBound = context.keys > 0 ? w.context : 0;
  const heap = new TopK(window);
  for (let i = 0; i < nc; i++) {
    const d = touched[i];
    const text = w.text * (maxBm > 0 ? scores[d] / maxBm : 0);
    const reward = w.reward * docs.reward[d];
    if (heap.full && text + reward + ctxBound + w.recency + BOUND_MARGIN < heap.worstScore) continue;
    heap.offer(d, text + w.context * context.ofDoc(d) + reward + w.recency * decay(nowMs, docs.started[d]));
  }
  const evals: Evaluated[] = heap.sorted().map(({ d, score }) => ({ score, d, bm: scores[d], mask: masks[d] }));
  const pending: Evaluated[] = cands.pend.map((p) => {
    const m = p.meta;
    return {
      score: w.text * (maxBm > 0 ? p.bm / maxBm : 0) + w.context * context.ofMeta(m) + w.reward * m.reward + w.recency * decay(nowMs, m.startedMs),
      d: -1,
      pm: m,
      bm: p.bm,
      mask: p.mask,
    };
  });
  if (pending.length === 0) return evals;
  // Ties: indexed episodes first (in document order, as the heap gives them), then episodes in progress by id.
  pending.sort((a, b) => b.score - a.score || (a.pm!.id < b.pm!.id ? -1 : 1));
  const merged: Evaluated[] = [];
  let i = 0;
  let j = 0;
  while (merged.length < window && (i < evals.length || j < pending.length)) {
    if (j >= pending.length || (i < evals.length && evals[i].score >= pending[j].score)) merged.push(evals[i++]);
    else merged.push(pending[j++]);
  }
  return merged;
}
