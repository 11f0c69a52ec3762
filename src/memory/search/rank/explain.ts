/** Stage 5, explain: a ranked hit with its score components, matched terms and context matches. */
import type { DocMeta } from '../analyze';
import type { ContextMatcher } from './context';
import { recency } from './score';
import type { Evaluated, QueryTerm, RankedHit } from './types';

export function explainHit(e: Evaluated, m: DocMeta, nearDuplicateOf: DocMeta | undefined, terms: QueryTerm[], context: ContextMatcher, maxBm: number, nowMs: number): RankedHit {
  const matched: string[] = [];
  for (let qi = 0; qi < terms.length; qi++) if (e.mask & (1 << qi)) matched.push(terms[qi].expansion ? `~${terms[qi].term}` : terms[qi].term);
  return {
    id: m.id,
    score: round3(e.score),
    text: round3(maxBm > 0 ? e.bm / maxBm : 0),
    context: round3(context.ofMeta(m)),
    reward: round3(m.reward),
    recency: round3(recency(nowMs, m.startedMs)),
    matched,
    contextMatches: context.matches(m),
    nearDuplicateOf: nearDuplicateOf?.id,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
