/**
 * Runs side by side in one worker: runs that wait (a timer, a host call) share
 * a worker, each in its own QuickJS module instance, so they overlap instead of
 * queueing; each keeps its own limits and globals; and when the backstop stops a
 * worker for a runaway run, the runaway pays, not the runs beside it.
 */
import { strict as assert } from 'node:assert';
import { Sandbox } from '../../../src/sandbox';
import { cfg, ensureWorkerBuilt, expectError, expectHealthy, expectSuccess, WORKER_PATH } from './helpers';

/** A run that records when it started, waits `ms` on a timer, and returns [its tag, start, end]. */
const waiter = (tag: string, ms: number): string => `const t0 = Date.now(); await new Promise((r) => setTimeout(r, ${ms})); return [${JSON.stringify(tag)}, t0, Date.now()]`;

/** A warmed-up sandbox of `workers` workers for `use`, closed afterwards whatever happens. */
async function withWarmSandbox(workers: number, config: ReturnType<typeof cfg>, use: (sandbox: Sandbox) => Promise<void>): Promise<void> {
  const sandbox = new Sandbox({ workers, workerPath: WORKER_PATH, config });
  try {
    await sandbox.warmUp();
    await use(sandbox);
  } finally {
    await sandbox.close();
  }
}

describe('sandbox: waiting runs side by side', function () {
  this.timeout(60_000);
  before(() => ensureWorkerBuilt());

  it('overlaps 20 runs that wait on a timer on one worker (all started before any ended), each with its own result', async () => {
    await withWarmSandbox(1, cfg({ maxExecutionTimeMs: 20_000 }), async (one) => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => one.execute(waiter(`r${i}`, 1500), { task: `w${i}` })));
      const spans = results.map((r, i) => {
        assert.equal(r.kind, 'success', JSON.stringify(r));
        const [tag, t0, t1] = JSON.parse((r as { output: string }).output) as [string, number, number];
        assert.equal(tag, `r${i}`, 'each run gets its own result');
        return [t0, t1];
      });
      const lastStart = Math.max(...spans.map((s) => s[0]));
      const firstEnd = Math.min(...spans.map((s) => s[1]));
      assert.ok(lastStart <= firstEnd, `the runs queued instead of waiting side by side (last start ${lastStart}, first end ${firstEnd})`);
      await expectHealthy(one);
    });
  });

  it('keeps globals apart between runs waiting in the same worker', async () => {
    const one = new Sandbox({ workers: 1, workerPath: WORKER_PATH });
    try {
      const a = one.execute("globalThis.secret = 'a'; Object.prototype.polluted = 1; await new Promise((r) => setTimeout(r, 200)); return [secret, typeof globalThis.other]", { task: 'a' });
      const b = one.execute("globalThis.other = 'b'; await new Promise((r) => setTimeout(r, 50)); return [typeof globalThis.secret, typeof ({}).polluted]", { task: 'b' });
      expectSuccess(await b, '["undefined","undefined"]');
      expectSuccess(await a, '["a","undefined"]');
    } finally {
      await one.close();
    }
  });

  it('caps each run at its own memory limit: a memory bomb beside a waiting run fails alone', async () => {
    await withWarmSandbox(1, cfg({ maxMemoryMb: 32, maxCpuPercent: 100, maxExecutionTimeMs: 10_000 }), async (one) => {
      const waiting = one.execute("const keep = 'x'.repeat(1 << 20); await new Promise((r) => setTimeout(r, 400)); return keep.length", { task: 'waiting' });
      const bomb = one.execute("const xs = []; for (let i = 0; i >= 0; i++) xs.push('y'.repeat(1 << 16) + i)", { task: 'bomb' });
      expectError(await bomb, 'memory_limit');
      expectSuccess(await waiting, String(1 << 20));
      await expectHealthy(one);
    });
  });

  it('makes the runaway pay when the backstop stops its worker: runs beside it without host calls run again, one with host calls gets a retryable error', async () => {
    await withWarmSandbox(1, cfg({ maxExecutionTimeMs: 10_000, maxCpuPercent: 100 }), async (one) => {
      let marks = 0;
      const hostApi = { 'job.mark': () => void marks++ };
      const pure = [0, 1, 2].map((i) => one.execute(waiter(`p${i}`, 1500), { task: `pure${i}` }));
      const withCall = one.execute('await job.mark(); await new Promise((r) => setTimeout(r, 1500)); return 1', { task: 'call' }, { hostApi });
      // Started while the others wait: a native-heavy loop the interrupt handler cannot stop in time.
      const runaway = one.execute("for (let i = 0; i < 1e9; i++) 'abc'.repeat(1e5).split('').join('')", { task: 'runaway' }, { config: cfg({ maxExecutionTimeMs: 300, maxCpuPercent: 100 }) });
      assert.equal((await runaway).kind, 'timeout');
      for (const [i, p] of pure.entries()) {
        const r = await p;
        assert.equal(r.kind, 'success', `a run beside the runaway paid for it: ${JSON.stringify(r)}`);
        assert.equal(JSON.parse((r as { output: string }).output)[0], `p${i}`);
      }
      expectError(await withCall, 'internal', /because of another run on the same worker.*may be run again/);
      assert.equal(marks, 1, 'a run with host calls is never run again behind the caller\'s back');
      assert.equal(one.metrics().workerRestarts, 1);
      await expectHealthy(one);
    });
  });

  it('gives CPU-bound runs a worker each up to the pool size, beside the waiting ones', async () => {
    await withWarmSandbox(2, cfg({ maxExecutionTimeMs: 20_000, maxCpuPercent: 100 }), async (two) => {
      const busy = (tag: string): string => `const t0 = Date.now(); const end = t0 + 600; while (Date.now() < end) {} return [${JSON.stringify(tag)}, t0, Date.now()]`;
      // Placed once the waiting run is known to wait (the pool reads that from the worker).
      const w = two.execute(waiter('w', 1500), { task: 'w' });
      await new Promise((r) => setTimeout(r, 200));
      const results = await Promise.all([w, two.execute(busy('a'), { task: 'a' }), two.execute(busy('b'), { task: 'b' })]);
      const spans = results.map((r) => {
        assert.equal(r.kind, 'success', JSON.stringify(r));
        return JSON.parse((r as { output: string }).output) as [string, number, number];
      });
      // The two busy runs ran at the same time (on two workers), not one after the other.
      const [, a0, a1] = spans[1];
      const [, b0, b1] = spans[2];
      assert.ok(Math.max(a0, b0) < Math.min(a1, b1), `the CPU-bound runs ran one after the other: ${JSON.stringify(spans)}`);
    });
  });
});
