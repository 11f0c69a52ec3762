/** The search index (see searchIndex.ts) and the types its callers use. */
export { SearchIndex } from './searchIndex';
export { FIELD_WEIGHTS } from './analyze';
export { BLEND, MAX_QUERY_TERMS } from './rank/types';
export { expandQuery } from './expand/expander';
export type { QueryTerm, RankContext, RankFilter, RankedHit } from './rank/types';
export type { EpisodeTerms } from './episodeCache';
