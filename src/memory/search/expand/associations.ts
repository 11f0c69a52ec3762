/**
 * Term associations learned from the store's own episodes: terms that co-occur with a
 * query's terms in the episodes (a query term anywhere in an episode; the associated term
 * among its key terms, drawn from task, step actions, errors, outcome and reflection),
 * scored by normalized pointwise mutual information. Nothing is precomputed: each document
 * keeps its KEY_TERMS key terms (docs.ts), written once when it is indexed, so the
 * statistics are current after every completion at a cost bounded by the episode; a query
 * reads at most SAMPLE_DOCS documents per term.
 */
import { KEY_TERMS } from '../docs';
import type { IndexView } from '../rank/types';
import { readVarint } from '../varint';

/** Documents read per query term (its most recent ones). */
export const SAMPLE_DOCS = 256;
/** A pair must co-occur in this many sampled documents to count as evidence (two is chance in a small store). */
const MIN_COOCCURRENCE = 3;
/** Terms in more than this share of the documents say little about what they co-occur with. */
const MAX_DF_SHARE = 0.1;
/** Normalized PMI below this is too weak an association. */
const MIN_NPMI = 0.2;

/**
 * Terms associated with `terms`, each with its NPMI summed over the query terms it is
 * associated with (in (0, n]). Terms in `terms` are not returned.
 */
export function associatedTerms(view: IndexView, terms: ReadonlySet<string>): Map<string, number> {
  const { docs, postings } = view;
  // Document frequencies count tombstones until the next compaction; so does docs.n.
  const n = docs.n;
  const out = new Map<string, number>();
  if (docs.live < 4) return out;
  const ring = new Int32Array(SAMPLE_DOCS);
  const counts = new Map<number, number>();
  for (const q of terms) {
    const dfq = postings.docFreq(q);
    if (dfq < MIN_COOCCURRENCE || dfq > MAX_DF_SHARE * n) continue;
    // The term's last SAMPLE_DOCS live documents (postings are in document order).
    let seen = 0;
    for (const [b, from, end, firstDoc] of postings.segments(q)) {
      let p = from;
      let doc = firstDoc;
      while (p < end) {
        const [dd, p2] = readVarint(b, p);
        [, p] = readVarint(b, p2);
        doc += dd;
        if (docs.alive[doc] === 1) ring[seen++ % SAMPLE_DOCS] = doc;
      }
    }
    const s = Math.min(seen, SAMPLE_DOCS);
    if (s < MIN_COOCCURRENCE) continue;
    counts.clear();
    for (let i = 0; i < s; i++) {
      const base = ring[i] * KEY_TERMS;
      for (let k = 0; k < KEY_TERMS; k++) {
        const sid = docs.keys[base + k];
        if (sid >= 0) counts.set(sid, (counts.get(sid) ?? 0) + 1);
      }
    }
    const pq = seen / docs.live;
    for (const [sid, c] of counts) {
      if (c < MIN_COOCCURRENCE) continue;
      const t = docs.strings[sid];
      if (terms.has(t)) continue;
      const dft = postings.docFreq(t);
      if (dft === 0) continue;
      // P(t | q) from the sample; P(q, t) = P(t | q)·P(q).
      const ptq = c / s;
      const pmi = Math.log(ptq / (dft / n));
      const npmi = pmi / -Math.log(Math.min(ptq * pq, 0.999));
      // Discounted by the evidence (2/3 at three co-occurrences, 9/10 at ten).
      if (npmi >= MIN_NPMI) out.set(t, (out.get(t) ?? 0) + Math.min(1, npmi) * (1 - 1 / c));
    }
  }
  return out;
}
