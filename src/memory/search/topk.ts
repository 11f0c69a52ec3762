/** The k entries of `idx[0..n)` with the largest `vals[idx[i]]` (unordered): a bounded min-heap. */
export function topKBy(idx: Int32Array, n: number, vals: Float64Array, k: number): number[] {
  if (k >= n) return Array.from(idx.subarray(0, n));
  const heap = new Int32Array(k);
  let size = 0;
  const lt = (a: number, b: number): boolean => vals[a] < vals[b];
  for (let i = 0; i < n; i++) {
    const d = idx[i];
    if (size < k) {
      let j = size++;
      heap[j] = d;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (lt(heap[j], heap[p])) {
          const t = heap[j];
          heap[j] = heap[p];
          heap[p] = t;
          j = p;
        } else break;
      }
    } else if (vals[d] > vals[heap[0]]) {
      heap[0] = d;
      let j = 0;
      for (;;) {
        const l = 2 * j + 1;
        const r = l + 1;
        let m = j;
        if (l < size && lt(heap[l], heap[m])) m = l;
        if (r < size && lt(heap[r], heap[m])) m = r;
        if (m === j) break;
        const t = heap[j];
        heap[j] = heap[m];
        heap[m] = t;
        j = m;
      }
    }
  }
  return Array.from(heap.subarray(0, size));
}
