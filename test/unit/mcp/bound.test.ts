import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { boundValue } from '../../../src/mcp';

describe('mcp: bounded answers', () => {
  it('returns small values unchanged (same object)', () => {
    const v = { a: 1, b: ['x', 'y'] };
    const r = boundValue(v, 1000);
    assert.equal(r.value, v);
    assert.deepEqual(r.cuts, []);
    assert.equal(r.json, JSON.stringify(v));
  });

  it('shortens long strings first and says so', () => {
    const v = { text: 'x'.repeat(50_000), n: 3 };
    const r = boundValue(v, 10_000);
    assert.ok(r.json.length <= 10_000);
    assert.equal(r.value.n, 3);
    assert.match(r.value.text, /…\[\+\d+ chars\]$/);
    assert.match(r.cuts[0], /long text field/);
    assert.equal(v.text.length, 50_000, 'input not mutated');
  });

  it('drops the tail of the largest array when strings are not enough', () => {
    const v = { hits: Array.from({ length: 2000 }, (_, i) => ({ id: `episode-${i}`, score: i })) };
    const r = boundValue(v, 8000);
    assert.ok(r.json.length <= 8000, `${r.json.length}`);
    assert.ok(r.value.hits.length > 0 && r.value.hits.length < 2000);
    assert.equal(r.value.hits[0].id, 'episode-0', 'keeps the head (best ranked)');
    assert.ok(r.cuts.some((c) => /dropped from hits/.test(c)));
    assert.equal(v.hits.length, 2000, 'input not mutated');
  });

  it('property: any JSON value fits the budget after bounding (budget ≥ 2000), shape kept', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 2000, max: 20_000 }), (value, max) => {
        const wrapped = { value };
        const r = boundValue(wrapped, max);
        assert.ok(r.json.length <= max, `${r.json.length} > ${max}`);
        // Compare wire forms: JSON has no -0, so a -0 in the value is sent as 0 either way.
        assert.deepEqual(JSON.parse(r.json), JSON.parse(JSON.stringify(r.value)));
        assert.equal(typeof r.value, 'object');
      }),
      { numRuns: 300 },
    );
  });
});
