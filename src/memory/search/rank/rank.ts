/**
 * The ranking pipeline: collect → filter → blend → diversify → explain (scoring
 * functions in score.ts). `rank` returns the page of hits sorted by blended score (with
 * diversity) and the total number of candidates.
 *
 * Query feedback (a first pass, then extra terms) can keep the first pass's accumulated
 * scores (`keep`, returned as a session) so that the second pass (`resume`) scores only
 * the new terms. A pass whose hits the caller does not use (`collectOnly`) stops after
 * filtering: it only accumulates for the next pass.
 */
import type { Accumulators } from './accumulators';
import { blendTop, blendWeights } from './blend';
import { collect } from './collect';
import { ContextMatcher } from './context';
import { diversify } from './diversify';
import { explainHit } from './explain';
import { filterCandidates } from './filter';
import type { IndexView, PendingScore, QueryTerm, RankContext, RankedHit, RankFilter, RankOptions } from './types';
import { MAX_QUERY_TERMS } from './types';

/** Accumulated scores kept between a `keep` call and the `resume` call that follows it. */
export interface RankSession {
  terms: QueryTerm[];
  filter: RankFilter;
  nt: number;
  pendingScores: Map<string, PendingScore>;
}

export interface RankResult {
  hits: RankedHit[];
  total: number;
  session?: RankSession;
}

/** Candidates considered for a page: the page, everything before it, and room for diversity. */
function windowFor(limit: number, offset: number): number {
  return offset + limit + Math.max(20, limit * 2);
}

export function rank(
  view: IndexView,
  acc: Accumulators,
  prev: RankSession | undefined,
  qterms: QueryTerm[],
  filter: RankFilter,
  ctx: RankContext,
  limit: number,
  offset: number,
  nowMs: number,
  opts: RankOptions = {},
): RankResult {
  // A resuming call whose terms extend the kept call's terms only scores the new terms.
  let start = 0;
  let nt = 0;
  let pendingScores = new Map<string, PendingScore>();
  if (prev) {
    const same =
      opts.resume === true &&
      prev.filter === filter &&
      prev.terms.length <= Math.min(MAX_QUERY_TERMS, qterms.length) &&
      prev.terms.every((t, i) => t.term === qterms[i].term && t.weight === qterms[i].weight);
    if (same) {
      start = prev.terms.length;
      nt = prev.nt;
      pendingScores = prev.pendingScores;
    } else acc.reset(prev.nt);
  }
  acc.ensure(view.docs.n);
  const terms = qterms.slice(0, MAX_QUERY_TERMS);
  const hasTerms = terms.length > 0;

  nt = collect(view, acc, terms, start, nt, pendingScores);
  const cands = filterCandidates(view, acc, nt, hasTerms, filter, pendingScores);
  const total = cands.nc + cands.pend.length;
  const session = (): RankSession | undefined => {
    if (opts.keep) return { terms: terms.map((t) => ({ term: t.term, weight: t.weight })), filter, nt: cands.nc, pendingScores };
    acc.reset(cands.nc);
    return undefined;
  };
  if (total === 0 || opts.collectOnly) return { hits: [], total, session: session() };

  const context = new ContextMatcher(ctx, view.docs);
  const weights = blendWeights(context.keys, hasTerms);
  const top = blendTop(view, acc, cands, weights, context, nowMs, Math.min(total, windowFor(limit, offset)));
  const kept = session();
  const metas = top.map((e) => e.pm ?? view.docs.meta(e.d));
  const page = diversify(metas).slice(offset, offset + limit);
  const hits = page.map(({ i, of }) => explainHit(top[i], metas[i], of >= 0 ? metas[of] : undefined, terms, context, cands.maxBm, nowMs));
  return { hits, total, session: kept };
}
