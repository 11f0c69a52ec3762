/**
 * Query and document expansion: terms related to a text's terms by the curated lexicon
 * and (queries only) the WordNet synonym table, prioritized and weighted below the text's
 * own terms. Pure functions over the thesauri; the index supplies the idf.
 */
import type { RetrievalFeatures } from '../../types';
import type { QueryTerm } from '../rank/types';
import { LEXICON_GROUPS } from './lexicon';
import { synonymThesaurus } from './synonyms';
import { Thesaurus } from './thesaurus';

/** Weight of a query term added by the lexicon (the query's own terms weigh 1). */
export const LEXICON_WEIGHT = 0.45;
/** Weight of a query term added by the WordNet synonyms (general English: weaker evidence). */
export const SYNONYM_WEIGHT = 0.25;
/** At most this many expansion terms are added to a query. */
export const MAX_EXPANSION_TERMS = 18;

/**
 * Defaults. Reciprocal-rank fusion with the unexpanded ranking is off: on bench:quality's dev
 * queries it scored below the weighted expansion alone (nDCG@5 0.825-0.860 against 0.885 for
 * k = 60 or 10 and the original ranking weighted 1, 0.5 or 0.3), since the expansion terms'
 * lower weights already keep the query's own words first.
 */
export const DEFAULT_FEATURES: RetrievalFeatures = { lexicon: true, wordnet: true, associations: true, feedback: true, fusion: false, docExpansion: true };

let lexicon: Thesaurus | undefined;
/** The curated lexicon, compiled once per process. */
export function lexiconThesaurus(): Thesaurus {
  lexicon ??= new Thesaurus(LEXICON_GROUPS);
  return lexicon;
}

/** Weight of a query term added by the store's own term associations, at full strength (NPMI sum ≥ 1). */
export const ASSOCIATION_WEIGHT = 0.3;
/** At most this many association terms are added to a query. */
export const MAX_ASSOCIATION_TERMS = 4;

/**
 * Expansion terms for a query's terms: lexicon relatives first, then WordNet synonyms, then
 * the terms the store's episodes associate with them (`associations`: term → summed NPMI,
 * see associations.ts); within each, the ones more groups agree on (or more strongly
 * associated) and the rarer ones (higher idf) first; terms no episode has are skipped.
 */
export function expandQuery(
  terms: string[],
  features: RetrievalFeatures,
  idf: (t: string) => number,
  budget = MAX_EXPANSION_TERMS,
  associations?: (own: ReadonlySet<string>) => Map<string, number>,
): QueryTerm[] {
  if (terms.length === 0 || budget <= 0) return [];
  const own = new Set(terms);
  const out: QueryTerm[] = [];
  const taken = new Set<string>();
  const addFrom = (related: Map<string, number>, max: number, weightOf: (n: number) => number): void => {
    const scored: { term: string; s: number; n: number }[] = [];
    for (const [term, n] of related) {
      const w = taken.has(term) ? 0 : idf(term);
      if (w > 0) scored.push({ term, s: n * w, n });
    }
    scored.sort((a, b) => b.s - a.s || (a.term < b.term ? -1 : 1));
    for (const { term, n } of scored.slice(0, Math.min(max, budget - out.length))) {
      taken.add(term);
      out.push({ term, weight: weightOf(n), expansion: true });
    }
  };
  const byGroups = (weight: number) => (n: number) => weight * Math.min(1.5, 1 + 0.25 * (n - 1));
  if (features.lexicon) addFrom(lexiconThesaurus().related(own), budget, byGroups(LEXICON_WEIGHT));
  if (features.wordnet && out.length < budget) addFrom(synonymThesaurus().related(own), budget, byGroups(SYNONYM_WEIGHT));
  if (features.associations && associations && out.length < budget) addFrom(associations(own), MAX_ASSOCIATION_TERMS, (n) => ASSOCIATION_WEIGHT * Math.min(1, n));
  return out;
}

/** Document expansion: the lexicon relatives of an episode's key text (added to its index entry at a low field weight). */
export function expandDocument(terms: Iterable<string>, features: RetrievalFeatures): string[] {
  if (!features.docExpansion) return [];
  return [...lexiconThesaurus().related(new Set(terms)).keys()];
}
