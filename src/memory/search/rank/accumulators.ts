/** Per-document scratch for a query: BM25 sums, match masks and the list of touched documents. */
export class Accumulators {
  scores = new Float64Array(0);
  masks = new Uint32Array(0);
  touched = new Int32Array(0);

  /** Room for `nDocs` documents (grown, never shrunk; contents are lost when grown). */
  ensure(nDocs: number): void {
    if (this.scores.length >= nDocs) return;
    const cap = Math.max(1024, nDocs * 2);
    this.scores = new Float64Array(cap);
    this.masks = new Uint32Array(cap);
    this.touched = new Int32Array(cap);
  }

  /** Zeroes the accumulators of the first `nt` touched documents. */
  reset(nt: number): void {
    for (let i = 0; i < nt; i++) {
      this.scores[this.touched[i]] = 0;
      this.masks[this.touched[i]] = 0;
    }
  }
}
