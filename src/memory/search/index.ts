/** The search index (see searchIndex.ts) and the types its callers use. */
export { SearchIndex } from './searchIndex';
export { FIELD_WEIGHTS } from './analyze';
export { BLEND } from './rank/types';
export type { QueryTerm, RankContext, RankFilter, RankedHit } from './rank/types';
