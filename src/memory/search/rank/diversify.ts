/**
 * Stage 4, diversify: walking down the ranking, an episode whose task SimHash is within
 * 3 bits of an already chosen one with the same outcome and task type is moved below the
 * distinct ones (MMR-like, without pairwise text comparisons).
 */
import { hamming32 } from '../../text';
import type { DocMeta } from '../analyze';

/** Positions in the new order; `of` is the position of the episode a deferred one nearly duplicates (-1 for none). */
export function diversify(metas: DocMeta[]): { i: number; of: number }[] {
  const chosen: number[] = [];
  const deferred: { i: number; of: number }[] = [];
  for (let i = 0; i < metas.length; i++) {
    const m = metas[i];
    let dupOf = -1;
    for (const j of chosen) {
      const o = metas[j];
      if (o.outcome === m.outcome && o.taskType === m.taskType && hamming32(o.simhash, m.simhash) <= 3) {
        dupOf = j;
        break;
      }
    }
    if (dupOf >= 0) deferred.push({ i, of: dupOf });
    else chosen.push(i);
  }
  return [...chosen.map((i) => ({ i, of: -1 })), ...deferred];
}
