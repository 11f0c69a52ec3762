/**
 * The k best documents seen, by score (higher first; equal scores: lower document number
 * first): a bounded heap whose root is the worst kept, so a document that cannot beat it is
 * rejected in O(1) and one that can costs O(log k).
 */
export class TopK {
  private readonly docs: Int32Array;
  private readonly scores: Float64Array;
  size = 0;

  constructor(readonly k: number) {
    this.docs = new Int32Array(Math.max(1, k));
    this.scores = new Float64Array(Math.max(1, k));
  }

  get full(): boolean {
    return this.size >= this.k;
  }

  /** The score to beat once full (a document scoring less cannot enter). */
  get worstScore(): number {
    return this.size >= this.k ? this.scores[0] : -Infinity;
  }

  /** True when (s1, d1) ranks below (s2, d2). */
  private below(s1: number, d1: number, s2: number, d2: number): boolean {
    return s1 < s2 || (s1 === s2 && d1 > d2);
  }

  offer(d: number, s: number): void {
    if (this.k <= 0) return;
    const { docs, scores } = this;
    if (this.size < this.k) {
      let j = this.size++;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (!this.below(s, d, scores[p], docs[p])) break;
        docs[j] = docs[p];
        scores[j] = scores[p];
        j = p;
      }
      docs[j] = d;
      scores[j] = s;
      return;
    }
    if (!this.below(scores[0], docs[0], s, d)) return;
    // Replace the root and sift down.
    let j = 0;
    for (;;) {
      const l = 2 * j + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const m = r < this.size && this.below(scores[r], docs[r], scores[l], docs[l]) ? r : l;
      if (!this.below(scores[m], docs[m], s, d)) break;
      docs[j] = docs[m];
      scores[j] = scores[m];
      j = m;
    }
    docs[j] = d;
    scores[j] = s;
  }

  /** The kept documents, best first. */
  sorted(): { d: number; score: number }[] {
    const out: { d: number; score: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ d: this.docs[i], score: this.scores[i] });
    return out.sort((a, b) => b.score - a.score || a.d - b.d);
  }
}
