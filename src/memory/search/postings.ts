/**
 * Postings: per term, the documents containing it with their weighted term frequency,
 * as varint pairs (doc delta, tf in half units), ~2–3 bytes a posting. Two parts: a
 * base segment loaded from the snapshot (sorted terms, one blob, used in place) and an
 * overlay of postings appended since (documents are numbered in increasing order, so
 * appending keeps each list sorted).
 */
import { writeVarint } from './varint';

export interface OverlayPosting {
  buf: Uint8Array;
  n: number;
  /** Last document number (continues from the base segment's last). */
  last: number;
  df: number;
}

/** A run of one term's postings: bytes[start, end), doc deltas starting from `firstDoc`. */
export type PostingSegment = [bytes: Uint8Array, start: number, end: number, firstDoc: number];

export interface BaseSegment {
  terms: string[];
  off: Uint32Array;
  df: Uint32Array;
  last: Uint32Array;
  blob: Uint8Array;
}

/**
 * The postings as they were when a snapshot began, while writes go on (see Postings.freeze):
 * the base segment never changes in place, and an overlay list is only ever appended to
 * (bytes before its length stay as they are, a grown buffer is a new one), so a list's
 * state at the freeze is its length, last document and df, saved before its first change.
 */
export class FrozenPostings {
  constructor(
    readonly base: BaseSegment,
    private readonly overlay: Map<string, OverlayPosting>,
    /** Lists changed since the freeze, as they were (null: the term is new since). */
    private readonly saved: Map<string, OverlayPosting | null>,
  ) {}

  overlayOf(term: string): OverlayPosting | undefined {
    const s = this.saved.get(term);
    return s === undefined ? this.overlay.get(term) : (s ?? undefined);
  }

  /** Overlay terms at the freeze (unsorted). */
  *overlayTerms(): Generator<string> {
    for (const t of this.overlay.keys()) if (this.saved.get(t) !== null) yield t;
  }
}

export class Postings {
  base: BaseSegment = emptyBase();
  overlay = new Map<string, OverlayPosting>();
  /** While a snapshot is serialized: lists as they were before their first change since the freeze. */
  private saved?: Map<string, OverlayPosting | null>;

  /** A consistent view of the postings now that later appends do not change (until thaw). */
  freeze(): FrozenPostings {
    this.saved = new Map();
    return new FrozenPostings(this.base, this.overlay, this.saved);
  }

  thaw(): void {
    this.saved = undefined;
  }

  clear(): void {
    // New objects, not cleared ones: a frozen view keeps the old ones, no longer changed.
    this.base = emptyBase();
    this.overlay = new Map();
    this.saved = undefined;
  }

  /** Position of a term in the base segment, or -1. */
  baseIndex(term: string): number {
    return baseIndexOf(this.base.terms, term);
  }

  /** Documents (alive or tombstoned) whose postings hold the term. */
  docFreq(term: string): number {
    const bi = this.baseIndex(term);
    return (bi >= 0 ? this.base.df[bi] : 0) + (this.overlay.get(term)?.df ?? 0);
  }

  get termCount(): number {
    let extra = 0;
    for (const t of this.overlay.keys()) if (this.baseIndex(t) < 0) extra++;
    return this.base.terms.length + extra;
  }

  /** A term's postings as segments: the base blob's, then the overlay's. */
  segments(term: string): PostingSegment[] {
    return this.segmentsAt(this.baseIndex(term), this.overlay.get(term));
  }

  segmentsAt(bi: number, ov: OverlayPosting | undefined): PostingSegment[] {
    return segmentsOf(this.base, bi, ov);
  }

  append(term: string, doc: number, units: number): void {
    let p = this.overlay.get(term);
    if (this.saved && !this.saved.has(term)) this.saved.set(term, p ? { ...p } : null);
    if (!p) {
      const bi = this.baseIndex(term);
      p = { buf: new Uint8Array(8), n: 0, last: bi >= 0 ? this.base.last[bi] : 0, df: 0 };
      this.overlay.set(term, p);
    }
    if (p.n + 12 > p.buf.length) {
      const nb = new Uint8Array(Math.max(16, p.buf.length * 2));
      nb.set(p.buf.subarray(0, p.n));
      p.buf = nb;
    }
    p.n = writeVarint(p.buf, p.n, doc - p.last);
    p.n = writeVarint(p.buf, p.n, Math.max(1, Math.round(units)));
    p.last = doc;
    p.df++;
  }
}

/** A term's postings as segments: the base blob's (at `bi`, -1: none), then the overlay's. */
export function segmentsOf(base: BaseSegment, bi: number, ov: OverlayPosting | undefined): PostingSegment[] {
  const segs: PostingSegment[] = [];
  if (bi >= 0) segs.push([base.blob, base.off[bi], base.off[bi + 1], 0]);
  if (ov) segs.push([ov.buf, 0, ov.n, bi >= 0 ? base.last[bi] : 0]);
  return segs;
}

/** Position of a term in sorted terms (binary search), or -1. */
export function baseIndexOf(terms: readonly string[], term: string): number {
  let lo = 0;
  let hi = terms.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = terms[mid];
    if (v === term) return mid;
    if (v < term) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function emptyBase(): BaseSegment {
  return { terms: [], off: new Uint32Array(1), df: new Uint32Array(0), last: new Uint32Array(0), blob: new Uint8Array(0) };
}
