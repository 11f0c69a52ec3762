/**
 * Stage 3, blend: text (BM25 normalized by the best candidate), context, reward and
 * recency combined with the BLEND weights, for the candidates that can still reach the
 * result window. Max-score pruning: the blend is computed exactly only for the best BM25
 * candidates plus any other whose text score plus the largest possible non-text score
 * could still reach the window's threshold, so a broad query does not pay for blending
 * every match.
 */
import type { Accumulators } from './accumulators';
import type { ContextMatcher } from './context';
import type { Candidates } from './filter';
import { recency } from './score';
import { topKBy } from '../topk';
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

/** The `window` best candidates by blended score, best first. */
export function blendTop(view: IndexView, acc: Accumulators, cands: Candidates, w: Weights, context: ContextMatcher, nowMs: number, window: number): Evaluated[] {
  const { docs } = view;
  const { scores, masks, touched } = acc;
  const { nc, maxBm } = cands;
  const blendDoc = (d: number): number =>
    w.text * (maxBm > 0 ? scores[d] / maxBm : 0) + w.context * context.ofDoc(d) + w.reward * docs.reward[d] + w.recency * recency(nowMs, docs.started[d]);
  const evals: Evaluated[] = [];
  const upper = w.context + w.reward + w.recency;
  if (w.text === 0 || nc <= window * 4) {
    for (let i = 0; i < nc; i++) {
      const d = touched[i];
      evals.push({ score: blendDoc(d), d, bm: scores[d], mask: masks[d] });
    }
  } else {
    const byBm = topKBy(touched, nc, scores, window * 4);
    const inE = new Set<number>(byBm);
    let minE = Infinity;
    for (const d of byBm) {
      evals.push({ score: blendDoc(d), d, bm: scores[d], mask: masks[d] });
      if (scores[d] < minE) minE = scores[d];
    }
    const sorted = evals.map((e) => e.score).sort((a, b) => b - a);
    const tau = sorted[Math.min(sorted.length, window) - 1];
    if ((w.text * minE) / maxBm + upper >= tau) {
      const need = ((tau - upper) * maxBm) / w.text;
      for (let i = 0; i < nc; i++) {
        const d = touched[i];
        if (scores[d] >= need && !inE.has(d)) evals.push({ score: blendDoc(d), d, bm: scores[d], mask: masks[d] });
      }
    }
  }
  for (const p of cands.pend) {
    const m = p.meta;
    evals.push({
      score: w.text * (maxBm > 0 ? p.bm / maxBm : 0) + w.context * context.ofMeta(m) + w.reward * m.reward + w.recency * recency(nowMs, m.startedMs),
      d: -1,
      pm: m,
      bm: p.bm,
      mask: p.mask,
    });
  }
  evals.sort((a, b) => b.score - a.score || (a.d < 0 || b.d < 0 ? 0 : a.d - b.d));
  return evals.slice(0, window);
}
