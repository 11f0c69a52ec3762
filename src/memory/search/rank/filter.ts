/**
 * Stage 2, filter: keeps the candidates that pass the query's filters (domain, task type,
 * outcome, date range), compared as interned codes over the document columns, and finds
 * the best BM25 among them (the text score's normalizer). With no query terms every live
 * document is a candidate.
 */
import { OUTCOME_TYPES, TASK_TYPES } from '../../types';
import type { DocMeta } from '../analyze';
import type { Accumulators } from './accumulators';
import type { IndexView, PendingScore, RankFilter } from './types';

export interface PendingCandidate {
  meta: DocMeta;
  bm: number;
  mask: number;
}

export interface Candidates {
  /** Documents kept, compacted into acc.touched[0..nc). */
  nc: number;
  pend: PendingCandidate[];
  maxBm: number;
}

export function filterCandidates(view: IndexView, acc: Accumulators, nt: number, hasTerms: boolean, filter: RankFilter, pendingScores: Map<string, PendingScore>): Candidates {
  const { docs } = view;
  const { scores, masks, touched } = acc;
  const fDom = docs.code(filter.domain);
  const fTt = filter.taskType === undefined ? -1 : TASK_TYPES.indexOf(filter.taskType);
  const fOut = filter.outcome === undefined ? -1 : OUTCOME_TYPES.indexOf(filter.outcome);
  const since = filter.sinceMs ?? -Infinity;
  const until = filter.untilMs ?? Infinity;
  const passDoc = (d: number): boolean =>
    (fDom === -1 || docs.dom[d] === fDom) && (fTt === -1 || docs.tt[d] === fTt) && (fOut === -1 || docs.out[d] === fOut) && docs.started[d] >= since && docs.started[d] <= until;
  const passMeta = (m: DocMeta): boolean =>
    (filter.domain === undefined || m.domain === filter.domain) &&
    (filter.taskType === undefined || m.taskType === filter.taskType) &&
    (filter.outcome === undefined || m.outcome === filter.outcome) &&
    m.startedMs >= since &&
    m.startedMs <= until;

  let nc = 0;
  let maxBm = 0;
  if (hasTerms) {
    for (let i = 0; i < nt; i++) {
      const d = touched[i];
      if (passDoc(d)) {
        touched[nc++] = d;
        if (scores[d] > maxBm) maxBm = scores[d];
      } else {
        scores[d] = 0;
        masks[d] = 0;
      }
    }
  } else {
    for (let d = 0; d < docs.n; d++) if (docs.alive[d] === 1 && passDoc(d)) touched[nc++] = d;
  }
  const pend: PendingCandidate[] = [];
  if (hasTerms) {
    for (const [id, ps] of pendingScores) {
      const pd = view.pending.get(id)!;
      if (passMeta(pd.meta)) {
        pend.push({ meta: pd.meta, bm: ps.s, mask: ps.mask });
        if (ps.s > maxBm) maxBm = ps.s;
      }
    }
  } else {
    for (const pd of view.pending.values()) if (passMeta(pd.meta)) pend.push({ meta: pd.meta, bm: 0, mask: 0 });
  }
  return { nc, pend, maxBm };
}
