/**
 * Weakness 4: host calls bounded by the run. Guest code hammering a host
 * function (the real `memory` object over a real store with a 1.5 MB episode,
 * or a slow function) cannot keep the server's thread busy past its run, every
 * call gets a signal that fires when the run ends, and an answer that arrives
 * after the deadline is never reported as a success.
 */
import { strict as assert } from 'node:assert';
import { MemoryStore } from '../../src/memory';
import { memoryHostApi } from '../../src/mcp/guestMemory';
import { HOST_CALLS, type HostCallScope, type Sandbox } from '../../src/sandbox';
import { cfg, cleanup, expectHealthy, newSandbox, tempDir } from './common';
import { watchHealth } from './health';

describe('security: host calls are bounded by the run', function () {
  let sb: Sandbox;
  let store: MemoryStore;
  let episodeId: string;

  before(async function () {
    this.timeout(120_000);
    sb = await newSandbox();
    store = await MemoryStore.open({ dir: tempDir('sbx-host-store-') });
    const ep = await store.createEpisode({ task: 'a very long episode', taskType: 'other' });
    const big = 'x'.repeat(7_400);
    for (let i = 0; i < 200; i++) await store.addStep(ep.id, { tool: 'edit_file', action: `step ${i}`, parameters: { blob: big }, result: { status: 'success', output: 'ok' }, latencyMs: 1 });
    episodeId = ep.id;
    const size = JSON.stringify(await store.getEpisode(episodeId)).length;
    assert.ok(size > 1_400_000, `the episode is ${size} characters`);
  });
  after(async () => {
    await sb.close();
    await store.close();
    cleanup();
  });

  it('200 getEpisode calls on a 1.5 MB episode: stopped within the run, the thread stays responsive', async () => {
    const health = watchHealth({ maxRssGrowthMb: 200 });
    const config = cfg({ maxExecutionTimeMs: 3000, maxCpuPercent: 30 });
    const t0 = Date.now();
    const r = await sb.execute(`let n = 0; const all = []; for (let i = 0; i < 200; i++) all.push(memory.getEpisode(${JSON.stringify(episodeId)}).then(() => n++)); await Promise.all(all); return n`, { task: 'host flood' }, { config, hostApi: memoryHostApi(store) });
    const wall = Date.now() - t0;
    assert.notEqual(r.kind, 'success', `the flood must not succeed: ${JSON.stringify(r).slice(0, 300)}`);
    assert.ok(r.kind === 'timeout' || (r.kind === 'security_violation' && r.violationType === 'resource_exhaustion'), JSON.stringify(r).slice(0, 300));
    assert.ok(wall < config.maxExecutionTimeMs + 1500, `the run ended ${wall} ms after it started`);
    await health.assertUnharmed();
    await expectHealthy(sb);
  });

  it('each call gets a signal that fires when the run ends; a late answer is a timeout, never a success', async () => {
    const health = watchHealth();
    const seen: { aborted: boolean; afterMs: number; deadline: number }[] = [];
    let started = 0;
    const hostApi = {
      'slow.answer': function (this: HostCallScope): Promise<string> {
        started++;
        const t = Date.now();
        const { signal, deadline } = this;
        return new Promise((resolve) => {
          const timer = setTimeout(() => resolve('late'), 1500);
          signal.addEventListener('abort', () => {
            seen.push({ aborted: true, afterMs: Date.now() - t, deadline });
            clearTimeout(timer);
            resolve('aborted');
          });
        });
      },
    };
    const config = cfg({ maxExecutionTimeMs: 500 });
    const r = await sb.execute('const all = []; for (let i = 0; i < 10; i++) all.push(slow.answer()); return await Promise.all(all)', { task: 'slow host' }, { config, hostApi });
    assert.equal(r.kind, 'timeout', JSON.stringify(r));
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(started, HOST_CALLS.inFlight, 'only the in-flight limit of calls was started');
    assert.equal(seen.length, started, 'every started call saw its signal fire');
    for (const s of seen) assert.ok(s.afterMs < 1000, `aborted ${s.afterMs} ms after it started`);
    await health.assertUnharmed();
    await expectHealthy(sb);
  });

  it('an answer that arrives just past the deadline is reported as a timeout', async () => {
    // The host answers at 95-105 % of the deadline: whichever side notices first, never a success.
    for (const at of [0.95, 1.0, 1.05]) {
      const config = cfg({ maxExecutionTimeMs: 400 });
      const hostApi = { 'edge.answer': () => new Promise((res) => setTimeout(() => res(1), 400 * at)) };
      const r = await sb.execute('return await edge.answer()', { task: 'edge' }, { config, hostApi });
      if (r.kind === 'success') assert.ok(r.executionTimeMs <= 400, `a success reported after the deadline: ${JSON.stringify(r)}`);
      else assert.equal(r.kind, 'timeout', JSON.stringify(r));
    }
    await expectHealthy(sb);
  });
});
