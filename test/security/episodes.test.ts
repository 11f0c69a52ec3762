/**
 * Weakness 7: a long episode as a denial of service. 10,000 steps into one
 * episode (each with a few hundred characters, as an agent would send): the
 * last thousand steps cost about what the first thousand did (before the
 * memory service kept steps in rows, each step rewrote the whole episode:
 * 2,050 steps took 35 s, each slower than the last), and step 10,001 is refused.
 */
import { strict as assert } from 'node:assert';
import { MemoryError, MemoryStore } from '../../src/memory';
import { cleanup, tempDir } from './common';
import { watchHealth } from './health';

describe('security: a 10,000-step episode costs the same per step at the end as at the start', function () {
  this.timeout(300_000);
  after(cleanup);

  it('appends 10,000 steps in flat time, refuses the 10,001st, and the host stays responsive', async () => {
    const store = await MemoryStore.open({ dir: tempDir('sbx-long-episode-') });
    try {
      const health = watchHealth({ maxRssGrowthMb: 300 });
      const ep = await store.createEpisode({ task: 'an agent that never stops', taskType: 'other' });
      const batchMs: number[] = [];
      const detail = 'd'.repeat(300);
      for (let b = 0; b < 10; b++) {
        const t = performance.now();
        for (let i = 0; i < 1000; i++) await store.addStep(ep.id, { tool: `tool${i % 5}`, action: `step ${b * 1000 + i}`, parameters: { detail }, result: { status: 'success', output: detail } });
        batchMs.push(performance.now() - t);
      }
      await assert.rejects(store.addStep(ep.id, { tool: 't', action: 'one too many', result: { status: 'success', output: '' } }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
      const first = batchMs[0];
      const last = batchMs[batchMs.length - 1];
      console.log(`      per 1,000 steps: ${batchMs.map((x) => Math.round(x)).join(', ')} ms`);
      // Flat within the noise of a shared machine: the last thousand at most 3x the first (the old cost grew ~linearly: 10x by here).
      assert.ok(last <= 3 * first + 500, `the last 1,000 steps took ${Math.round(last)} ms, the first ${Math.round(first)} ms`);
      await health.assertUnharmed();
    } finally {
      await store.close();
    }
  });
});
