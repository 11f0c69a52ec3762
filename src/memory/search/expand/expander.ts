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
import { phraseWords, tokenize } from '../../text';

/** Weight of a query term added by the lexicon (the query's own terms weigh 1). */
export const LEXICON_WEIGHT = 0.45;
/** Weight of a query term added by the WordNet synonyms (general English: weaker evidence). */
export const SYNONYM_WEIGHT = 0.25;
/**
 * A bridge: a lexicon relative reached through a WordNet synonym of a query word (two hops),
 * weighted below both and idf-capped like a synonym. Only from query words with at most
 * MAX_BRIDGE_SENSES WordNet groups (a polysemous word's second hop is mostly another sense:
 * "get" → fix → repair, patch), at most MAX_BRIDGE_TERMS of them, each round after the
 * direct relatives (else they crowd out the lexicon's own: "logged out" lost session, token).
 * On bench:quality (dev2 nDCG@5 / recall@5): 0.703 / 0.629 against 0.684 / 0.595 without;
 * dev held at 0.901 / 0.937. Weight 0.1-0.15 scored best (0.25: 0.701, 0.35-0.45: 0.689, uncapped).
 */
export const BRIDGE_WEIGHT = 0.15;
export const MAX_BRIDGE_SENSES = 2;
export const MAX_BRIDGE_TERMS = 4;
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
 * Expansion terms for a query's terms. The thesauri's relatives (lexicon first, then WordNet)
 * are shared out among the query words they come from, round by round: the query words the
 * store knows least (none of its episodes has them, then the highest `sourceIdf`) choose
 * first, so the relatives of a common word ("page", "test") cannot fill the budget before a
 * rare one ("typefaces") gets its own. Within one word's share, the relatives more groups
 * agree on and the rarer ones (higher idf) come first; terms no episode has are skipped.
 * A WordNet relative counts for no more than its source word: its idf is capped at the
 * source's (as if it were the same term, like Lucene's SynonymQuery), since a general
 * English synonym of a common word ("get" → "grow", "fetch") is rare in a store's
 * vocabulary precisely when it is not what the query means. The curated lexicon's
 * relatives are equivalents in software text and keep their own idf.
 * Then the terms the store's episodes associate with the query's (`associations`: term →
 * summed NPMI, see associations.ts).
 */
export interface QueryExpansion {
  /** The query's own terms. */
  terms: string[];
  features: RetrievalFeatures;
  /** A candidate term's idf; 0 (a term no episode has, or one already in the query) skips it. */
  idf: (t: string) => number;
  /** A query term's own idf (0 when no episode has it): who chooses first. */
  sourceIdf?: (t: string) => number;
  budget?: number;
  associations?: (own: ReadonlySet<string>) => Map<string, number>;
}

export function expandQuery({ terms, features, idf, sourceIdf, budget = MAX_EXPANSION_TERMS, associations }: QueryExpansion): QueryTerm[] {
  if (terms.length === 0 || budget <= 0) return [];
  const own = new Set(terms);
  const out: QueryTerm[] = [];
  const taken = new Set<string>();
  const byGroups = (weight: number) => (n: number) => weight * Math.min(1.5, 1 + 0.25 * (n - 1));
  // [thesaurus, weight by the number of groups agreeing, whether a relative's idf is capped at its source word's]
  const thesauri: [Pick<Thesaurus, 'matches'>, (n: number) => number, boolean, boolean][] = [];
  if (features.lexicon) thesauri.push([lexiconThesaurus(), byGroups(LEXICON_WEIGHT), false, false]);
  if (features.wordnet) thesauri.push([synonymThesaurus(), byGroups(SYNONYM_WEIGHT), true, false]);
  // The bridge (see BRIDGE_WEIGHT): the lexicon's phrases matched through the query's WordNet
  // synonyms, each term traced to its query word.
  const origin = new Map<string, string>(terms.map((t) => [t, t]));
  if (features.lexicon && features.wordnet) {
    const bridged = new Set(own);
    const senses = new Map<string, number>();
    const wn = synonymThesaurus().matches(own);
    for (const m of wn) for (const t of m.source) senses.set(t, (senses.get(t) ?? 0) + 1);
    for (const m of wn) {
      if (m.source.some((t) => senses.get(t)! > MAX_BRIDGE_SENSES)) continue;
      for (const t of m.related) {
        if (origin.has(t)) continue;
        origin.set(t, m.source[0]);
        bridged.add(t);
      }
    }
    const direct = new Set(lexiconThesaurus().matches(own).map((m) => m.source.join(' ')));
    const viaSynonyms = lexiconThesaurus().matches(bridged).filter((m) => !direct.has(m.source.join(' ')) && m.source.some((t) => !own.has(t)));
    if (viaSynonyms.length) thesauri.push([{ matches: () => viaSynonyms }, byGroups(BRIDGE_WEIGHT), true, true]);
  }
  const sources = (source: string[]): string[] => [...new Set(source.map((t) => origin.get(t) ?? t))];
  const shares = new Map<string, { need: number; order: number; queue: QueryTerm[]; bridge: boolean }>();
  for (const [thesaurus, weightOf, capped, bridge] of thesauri) {
    // A query is short: a phrase's terms anywhere in it are evidence enough (see expandDocument).
    const matches = thesaurus.matches(own);
    const groupsOf = new Map<string, number>();
    for (const m of matches) for (const t of m.related) groupsOf.set(t, (groupsOf.get(t) ?? 0) + 1);
    for (const m of matches) {
      const from = sources(m.source);
      const key = `${bridge ? '~' : ''}${from.join(' ')}`;
      let share = shares.get(key);
      if (!share) {
        // A word no episode has (idf 0) needs its relatives most.
        const need = sourceIdf ? Math.max(...from.map((t) => sourceIdf(t) || Infinity)) : 0;
        share = { need, order: shares.size, queue: [], bridge };
        shares.set(key, share);
      }
      const cap = capped && sourceIdf ? Math.max(...from.map((t) => sourceIdf(t) || Infinity)) : Infinity;
      const scored = m.related.map((term) => ({ term, n: groupsOf.get(term)!, idf: idf(term) })).filter((x) => x.idf > 0);
      scored.sort((a, b) => b.n * b.idf - a.n * a.idf || (a.term < b.term ? -1 : 1));
      for (const x of scored) share.queue.push({ term: x.term, weight: weightOf(x.n) * Math.min(1, cap / x.idf), expansion: true });
    }
  }
  // Bridged shares take their turn after the direct ones in every round, and at most MAX_BRIDGE_TERMS in all.
  const turns = [...shares.values()].sort((a, b) => Number(a.bridge) - Number(b.bridge) || b.need - a.need || a.order - b.order);
  let bridgedTaken = 0;
  for (let more = true; more && out.length < budget; ) {
    more = false;
    for (const share of turns) {
      if (share.bridge && bridgedTaken >= MAX_BRIDGE_TERMS) continue;
      let next = share.queue.shift();
      while (next && taken.has(next.term)) next = share.queue.shift();
      if (!next) continue;
      more = true;
      taken.add(next.term);
      out.push(next);
      if (share.bridge) bridgedTaken++;
      if (out.length >= budget) break;
    }
  }
  if (features.associations && associations && out.length < budget) {
    const scored: { term: string; s: number; n: number }[] = [];
    for (const [term, n] of associations(own)) {
      const w = taken.has(term) ? 0 : idf(term);
      if (w > 0) scored.push({ term, s: n * w, n });
    }
    scored.sort((a, b) => b.s - a.s || (a.term < b.term ? -1 : 1));
    for (const { term, n } of scored.slice(0, Math.min(MAX_ASSOCIATION_TERMS, budget - out.length))) {
      taken.add(term);
      out.push({ term, weight: ASSOCIATION_WEIGHT * Math.min(1, n), expansion: true });
    }
  }
  return out;
}

/**
 * Document expansion: the lexicon relatives of an episode's key text (added to its index entry
 * at a low field weight). An episode's text is long, so a phrase with stop words must occur as
 * a phrase: "log" alone in an episode about log files does not make it one about logging in.
 */
export function expandDocument(text: string, features: RetrievalFeatures): string[] {
  if (!features.docExpansion) return [];
  return [...lexiconThesaurus().related(new Set(tokenize(text)), phraseWords(text)).keys()];
}
