/** The shapes the ranking stages exchange (see rank.ts for the pipeline). */
import type { OutcomeType, TaskType } from '../../types';
import type { DocMeta } from '../analyze';
import type { DocTable } from '../docs';
import type { Postings } from '../postings';

export interface QueryTerm {
  term: string;
  weight: number;
  /** True for terms added by expansion (reported separately in `why`). */
  expansion?: boolean;
}

export interface RankFilter {
  domain?: string;
  taskType?: TaskType;
  outcome?: OutcomeType;
  sinceMs?: number;
  untilMs?: number;
}

export interface RankContext {
  domain?: string;
  taskType?: TaskType;
  language?: string;
  framework?: string;
  tags?: string[];
}

export interface RankedHit {
  id: string;
  score: number;
  text: number;
  context: number;
  reward: number;
  recency: number;
  matched: string[];
  contextMatches: string[];
  nearDuplicateOf?: string;
}

export interface RankOptions {
  /** Keep the accumulated BM25 scores for a following `resume` call (query feedback). */
  keep?: boolean;
  /** Score only the terms added since the kept call (same filter, its terms as a prefix). */
  resume?: boolean;
  /** Only accumulate the scores (for a following `resume` call): no hits are ranked or returned. */
  collectOnly?: boolean;
}

/** An episode still in progress: kept out of the postings, scanned at query time. */
export interface PendingDoc {
  tf: Map<string, number>;
  len: number;
  meta: DocMeta;
}

/** What the stages read of the index. */
export interface IndexView {
  readonly docs: DocTable;
  readonly postings: Postings;
  readonly pending: ReadonlyMap<string, PendingDoc>;
  readonly documentCount: number;
  readonly avgLen: number;
  docFreq(term: string): number;
}

/** Accumulated BM25 of a pending (in-progress) episode. */
export interface PendingScore {
  s: number;
  mask: number;
}

/** A candidate whose blended score was computed: a document number, or -1 with `pm` for a pending episode. */
export interface Evaluated {
  score: number;
  d: number;
  pm?: DocMeta;
  bm: number;
  mask: number;
}

/**
 * The ranking blend (all components in 0..1):
 *   score = W_TEXT·text + W_CONTEXT·context + W_REWARD·reward + W_RECENCY·recency
 * - text: BM25 (k1 = 1.2, b = 0.75, field-weighted tf) divided by the best BM25 among candidates;
 * - context: fraction of the requested context attributes the episode matches
 *   (domain, taskType, language, framework; tags by overlap); when no context is
 *   requested its weight goes to text;
 * - reward: the episode's reward (0 while in progress);
 * - recency: 0.5^(age in days / 30).
 * With an empty query the text weight is spread over the other components.
 */
export const BLEND = { text: 0.55, context: 0.2, reward: 0.15, recency: 0.1, halfLifeDays: 30 } as const;

/** At most this many query terms are scored (one bit each in the match masks). */
export const MAX_QUERY_TERMS = 32;
