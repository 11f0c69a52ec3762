/**
 * In-memory inverted index with BM25 ranking (an "equivalent index" to FTS4:
 * sql.js has no FTS5/bm25(), and BM25 over FTS4 matchinfo() measured 26–30 ms
 * p50 for broad OR queries at 100k episodes, too slow for a 10 ms target).
 *
 * - Completed episodes get a document number (increasing) when indexed, so each
 *   term's postings are appended in order (postings.ts), with the documents' metadata
 *   in columns (docs.ts) and field weights folded into the term frequency (analyze.ts).
 * - Episodes still in progress live in a small "pending" table scanned at query
 *   time, so they are searchable too; on completion they move to the postings.
 * - Deleted documents are tombstoned; postings are compacted when the index is
 *   serialized into a snapshot (format.ts). Opening loads that, so it does not
 *   re-tokenize the store; journal replay updates it like a live write.
 * - Ranking: rank/rank.ts (collect → filter → blend → diversify → explain).
 */
import type { Episode, RetrievalFeatures, Step } from '../types';
import { analyzeEpisode, analyzeStepInto, keyTermCounts, metaOf } from './analyze';
import { associatedTerms } from './expand/associations';
import { DEFAULT_FEATURES, expandDocument } from './expand/expander';
import { DocTable, KEY_TERMS } from './docs';
import { EpisodeTermsCache } from './episodeCache';
import { loadIndex, serializeIndex } from './format';
import type { FrozenIndex } from './format';
import { Postings } from './postings';
import { Accumulators } from './rank/accumulators';
import { rank } from './rank/rank';
import type { RankSession } from './rank/rank';
import { termIdf } from './rank/score';
import type { IndexView, PendingDoc, QueryTerm, RankContext, RankedHit, RankFilter, RankOptions } from './rank/types';

export class SearchIndex implements IndexView {
  /** The retrieval components in use (document expansion applies to episodes indexed from now on). */
  readonly features: RetrievalFeatures;
  docs = new DocTable();
  postings = new Postings();
  pending = new Map<string, PendingDoc>();
  private totalLen = 0;
  private session?: RankSession;
  private readonly acc = new Accumulators();
  private readonly expandDoc: (text: string) => string[];
  /** What query answers derive from episodes' texts (episodeCache.ts); an episode's entry goes when it changes. */
  readonly episodeTerms = new EpisodeTermsCache();

  constructor(features: Partial<RetrievalFeatures> = {}) {
    this.features = { ...DEFAULT_FEATURES, ...features };
    this.expandDoc = (text) => expandDocument(text, this.features);
  }

  /** Any change to the documents invalidates a kept ranking session. */
  private endSession(): void {
    if (this.session) this.acc.reset(this.session.nt);
    this.session = undefined;
  }

  get documentCount(): number {
    return this.docs.live + this.pending.size;
  }

  get avgLen(): number {
    return this.documentCount > 0 ? Math.max(1, this.totalLen / this.documentCount) : 1;
  }

  get termCount(): number {
    return this.postings.termCount;
  }

  has(id: string): boolean {
    return this.docs.byId.has(id) || this.pending.has(id);
  }

  clear(): void {
    this.endSession();
    this.episodeTerms.clear();
    this.docs.clear();
    this.postings.clear();
    this.pending.clear();
    this.totalLen = 0;
  }

  docFreq(term: string): number {
    let df = this.postings.docFreq(term);
    for (const p of this.pending.values()) if (p.tf.has(term)) df++;
    return df;
  }

  /** Adds or replaces an episode. Completed episodes go to the postings, others to the pending table. */
  upsert(e: Episode): void {
    this.endSession();
    this.remove(e.id);
    this.episodeTerms.delete(e.id);
    const { tf, len } = analyzeEpisode(e, this.expandDoc);
    const meta = metaOf(e);
    this.totalLen += len;
    if (!e.outcome) {
      this.pending.set(e.id, { tf, len, meta });
      return;
    }
    const d = this.docs.add(meta, len, this.keyTermsOfEpisode(e));
    for (const [term, units] of tf) this.postings.append(term, d, units);
  }

  /**
   * An episode's KEY_TERMS most distinctive terms (by tf·idf against the episodes indexed so
   * far, the episode itself counted, so a term new to the store ranks high), for the term
   * associations. Bounded by the episode's key text, not by the store.
   */
  private keyTermsOfEpisode(e: Episode): string[] {
    const n = this.documentCount + 1;
    const scored: [string, number][] = [];
    for (const [t, f] of keyTermCounts(e)) {
      if (t.length < 3 || /^[0-9]+$/.test(t)) continue;
      scored.push([t, Math.log(1 + f) * termIdf(n, this.docFreq(t) + 1)]);
    }
    scored.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return scored.slice(0, KEY_TERMS).map((s) => s[0]);
  }

  /**
   * Adds a step to an episode in progress without re-reading the others (its cost does not
   * depend on the episode's length). Returns false when the episode is not pending here.
   */
  appendStep(id: string, step: Step): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.endSession();
    const added = analyzeStepInto(p.tf, step);
    p.len += added;
    this.totalLen += added;
    return true;
  }

  remove(id: string): boolean {
    this.endSession();
    this.episodeTerms.delete(id);
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      this.totalLen -= p.len;
      return true;
    }
    const d = this.docs.remove(id);
    if (d === undefined) return false;
    this.totalLen -= this.docs.lens[d];
    return true;
  }

  /** Inverse document frequency of a term (0 for unknown terms). */
  idf(term: string): number {
    const df = this.docFreq(term);
    if (df === 0) return 0;
    return termIdf(Math.max(1, this.documentCount), df);
  }

  /** Terms the indexed episodes associate with `terms` (term → summed NPMI; see expand/associations.ts). */
  associations(terms: ReadonlySet<string>): Map<string, number> {
    return associatedTerms(this, terms);
  }

  /** The n terms with the highest log-tf·idf, skipping short and numeric ones (used for feedback expansion). */
  topByTfIdf(tf: ReadonlyMap<string, number>, n: number): string[] {
    const scored: [string, number][] = [];
    for (const [t, u] of tf) {
      if (t.length < 3 || /^[0-9]+$/.test(t)) continue;
      scored.push([t, Math.log(1 + u) * this.idf(t)]);
    }
    scored.sort((a, b) => b[1] - a[1]);
    return scored.slice(0, n).map((s) => s[0]);
  }

  /** Ranks documents. Returns hits sorted by blended score (with diversity), and the total number of candidates. */
  rank(qterms: QueryTerm[], filter: RankFilter, ctx: RankContext, limit: number, offset: number, nowMs: number, opts: RankOptions = {}): { hits: RankedHit[]; total: number } {
    const prev = this.session;
    this.session = undefined;
    const r = rank(this, this.acc, prev, qterms, filter, ctx, limit, offset, nowMs, opts);
    this.session = r.session;
    return { hits: r.hits, total: r.total };
  }

  /** A consistent view for a snapshot: later writes do not change it (until thaw). */
  freeze(): FrozenIndex {
    const pending: [string, PendingDoc][] = [...this.pending].map(([id, p]) => [id, { len: p.len, meta: p.meta, tf: new Map(p.tf) }]);
    return { docs: this.docs.freeze(), postings: this.postings.freeze(), pending };
  }

  /** Ends the view freeze() gave (writes stop saving what they change). */
  thaw(): void {
    this.postings.thaw();
  }

  /** Deleted documents still numbered (a reload from a compacted snapshot drops them). */
  get tombstones(): number {
    return this.docs.dead;
  }

  serialize(): Uint8Array {
    const { bytes, renumbered } = serializeIndex(this);
    // After compaction the in-memory index must use the new numbering.
    if (renumbered) this.loadFrom(bytes);
    return bytes;
  }

  /** Replaces the contents with a serialized index. Throws on malformed input. */
  loadFrom(data: Uint8Array): void {
    const parts = loadIndex(data);
    this.endSession();
    this.episodeTerms.clear();
    this.docs = parts.docs;
    this.postings = parts.postings;
    this.pending = parts.pending;
    this.totalLen = parts.totalLen;
  }

  /** Ids of indexed episodes (for consistency checks). */
  allIds(): string[] {
    return [...this.docs.byId.keys(), ...this.pending.keys()];
  }
}
