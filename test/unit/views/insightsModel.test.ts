import * as assert from 'node:assert/strict';
import { binLabel, latencyHistogram, LATENCY_EDGES_MS } from '../../../src/views/insights/model';

describe('views/insights: sandbox latency histogram', () => {
  it('puts every duration in the bin whose bounds hold it', () => {
    const durations = [0, 0.5, 1, 1.9, 2, 4.99, 5, 49, 50, 999, 1000, 60_000];
    const bins = latencyHistogram(durations);
    assert.equal(bins.reduce((n, b) => n + b.count, 0), durations.length);
    for (const d of durations) {
      const bin = bins.find((b) => d >= b.fromMs && d < b.toMs);
      assert.ok(bin, `no bin for ${d}`);
    }
    assert.equal(bins.find((b) => b.fromMs === 0)!.count, 2);
    assert.equal(bins.find((b) => b.fromMs === 1)!.count, 2);
    assert.equal(bins[bins.length - 1].toMs, Infinity);
    assert.equal(bins[bins.length - 1].count, 1);
  });

  it('drops trailing empty bins, ignores bad values, labels the bins', () => {
    const bins = latencyHistogram([3, Number.NaN, -1, 3.5]);
    assert.equal(bins.length, LATENCY_EDGES_MS.indexOf(2) + 1);
    assert.equal(bins[bins.length - 1].count, 2);
    assert.deepEqual(latencyHistogram([]), [{ fromMs: 0, toMs: 1, count: 0 }]);
    assert.equal(binLabel({ fromMs: 2, toMs: 5, count: 1 }), '2–5 ms');
    assert.equal(binLabel({ fromMs: 5000, toMs: Infinity, count: 1 }), '≥ 5000 ms');
  });
});
