/** The scoring functions: BM25 per term and posting, and the recency decay. */
import { BLEND } from './types';

const K1 = 1.2;
const B = 0.75;
const DAY_MS = 86_400_000;
const LN2 = Math.log(2);

/** BM25 inverse document frequency of a term in `n` documents, times the term's weight. */
export function termIdf(n: number, df: number, weight = 1): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5)) * weight;
}

/** One term's BM25 contribution for a document of weighted length `len` with term frequency `tf`. */
export function bm25(idf: number, tf: number, len: number, avgLen: number): number {
  return (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * len) / avgLen));
}

/** 0.5^(age in days / half-life): 1 today, 0.5 after 30 days. */
export function recency(nowMs: number, startedMs: number): number {
  return Math.exp((-Math.max(0, nowMs - startedMs) / DAY_MS / BLEND.halfLifeDays) * LN2);
}
