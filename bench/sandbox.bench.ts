/**
 * Sandbox benchmark: prints one JSON object per line ({"bench": "...", ...}).
 * Run with `npm run bench:sandbox` (builds dist/ first).
 */
import * as os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { Sandbox, resolveConfig, type ExecutionResult } from '../src/sandbox';
import { plainQuickJS } from './plain-quickjs';

const WORKER = path.resolve(__dirname, '..', 'dist', 'sandbox-worker.js');
const SIMPLE = 'const xs = context.input.xs; return xs.map((x) => x * 2).reduce((a, b) => a + b, 0)';
const INPUT = { xs: [1, 2, 3, 4, 5] };

const emit = (bench: string, figures: Record<string, unknown>): void => console.log(JSON.stringify({ bench, ...figures }));
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : 0;
};
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function check(r: ExecutionResult, kind: ExecutionResult['kind']): void {
  if (r.kind !== kind) throw new Error(`expected ${kind}, got ${JSON.stringify(r).slice(0, 300)}`);
}

async function main(): Promise<void> {
  // Every figure depends on the machine's load (2 cores, shared): print it, and compare with the node:vm reference below.
  emit('machine', { cpus: os.cpus().length, loadAvg1m: r3(os.loadavg()[0]), loadAvg5m: r3(os.loadavg()[1]) });
  const rssBase = process.memoryUsage().rss;
  const sb = new Sandbox({ workers: 2, workerPath: WORKER, config: resolveConfig('default') });
  await sb.warmUp();
  const rssWorkers = process.memoryUsage().rss;
  emit('rss_per_idle_worker', { workers: 4, rssMbPerWorker: r3((rssWorkers - rssBase) / 4 / 1024 / 1024), note: 'RSS growth after starting 2 pool workers + 2 warm standbys, one warm-up run' });

  // Warm sequential latency.
  for (let i = 0; i < 200; i++) check(await sb.execute(SIMPLE, { task: 'warm', input: INPUT }), 'success');
  const lat: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = performance.now();
    const r = await sb.execute(SIMPLE, { task: 'lat', input: INPUT });
    lat.push(performance.now() - t);
    check(r, 'success');
  }
  emit('simple_warm_latency', { n: lat.length, p50Ms: r3(pct(lat, 50)), p99Ms: r3(pct(lat, 99)), targetP50Ms: 1 });

  // Against plain QuickJS (issue 17): a fresh runtime and context per run on this thread, same script,
  // interleaved rounds; and its serial rate, the bar for the sandbox's throughput below.
  const plain = await plainQuickJS();
  const plainRun = (): void => {
    if (plain.run(SIMPLE, { task: 'plain', input: INPUT }) !== '30') throw new Error('plain QuickJS gave a wrong result');
  };
  for (let i = 0; i < 500; i++) plainRun();
  const vsPlain: { sandbox: number[]; plain: number[]; plainPerSecond: number[] } = { sandbox: [], plain: [], plainPerSecond: [] };
  for (let round = 0; round < 6; round++) {
    const xs: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      check(await sb.execute(SIMPLE, { task: 'lat', input: INPUT }), 'success');
      xs.push(performance.now() - t);
    }
    vsPlain.sandbox.push(pct(xs, 50));
    const ys: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      plainRun();
      ys.push(performance.now() - t);
    }
    vsPlain.plainPerSecond.push(300 / ((performance.now() - t0) / 1000));
    vsPlain.plain.push(pct(ys, 50));
  }
  const plainP50 = pct(vsPlain.plain, 50);
  const plainSerialPerSecond = Math.round(pct(vsPlain.plainPerSecond, 50));
  emit('simple_warm_latency_vs_plain_quickjs', {
    rounds: 6,
    sandboxP50Ms: r3(pct(vsPlain.sandbox, 50)),
    plainQuickjsP50Ms: r3(plainP50),
    ratio: r3(pct(vsPlain.sandbox, 50) / plainP50),
    target: '<= 1.5',
    plainSerialPerSecond,
    note: 'median of 6 interleaved rounds of 300 runs each; plain QuickJS: a fresh runtime + context per run on this thread (bench/plain-quickjs.ts)',
  });

  // The guest runtime (issue 13): what the first touch of a lazily installed global adds to a run, and a
  // 1,000-timer script; each against a run that touches none, interleaved in the same rounds.
  const p50Of = async (code: string, n: number): Promise<number> => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      check(await sb.execute(code, { task: 'rt' }, { config: resolveConfig('default', { maxCpuPercent: 100 }) }), 'success');
      xs.push(performance.now() - t);
    }
    return pct(xs, 50);
  };
  const firstUse: Record<string, string> = {
    none: 'return 1',
    // Code that may reach the global object gets every runtime global installed (src/sandbox/mentions.ts).
    anyGlobal: 'return typeof globalThis',
    URL: "return new URL('../b?c=1', 'https://example.com/a/').href.length",
    TextEncoder: "return new TextEncoder().encode('héllo').length",
    setTimeout: 'return await new Promise((r) => setTimeout(() => r(1), 0))',
    consoleObject: "console.log({ a: [1, 2], b: 'x' }); return 1",
    timers1000: 'let n = 0; await new Promise((done) => { for (let i = 0; i < 1000; i++) setTimeout(() => { if (++n === 1000) done() }, 0) }); return n',
  };
  const useRounds: Record<string, number[]> = {};
  for (let round = 0; round < 5; round++) for (const [k, code] of Object.entries(firstUse)) (useRounds[k] ??= []).push(await p50Of(code, k === 'timers1000' ? 10 : 60));
  const med = (k: string): number => pct(useRounds[k], 50);
  emit('runtime_first_use', {
    note: 'p50 of a run that touches the global once, minus a run that touches none (median of 5 interleaved rounds)',
    noneP50Ms: r3(med('none')),
    everyGlobalInstalledAddsMs: r3(med('anyGlobal') - med('none')),
    urlAddsMs: r3(med('URL') - med('none')),
    textEncoderAddsMs: r3(med('TextEncoder') - med('none')),
    setTimeoutAddsMs: r3(med('setTimeout') - med('none')),
    consoleLogObjectAddsMs: r3(med('consoleObject') - med('none')),
    targetFirstUseMs: 3,
  });
  emit('timers_1000', { p50Ms: r3(med('timers1000')), note: '1,000 setTimeout(0) callbacks, then the run settles (median of 5 rounds of 10)', targetMs: 50 });

  // Against a worker built from another commit (BENCH_BASELINE_WORKER=path), same script, interleaved rounds.
  const baselinePath = process.env.BENCH_BASELINE_WORKER;
  if (baselinePath) {
    const base = new Sandbox({ workers: 2, workerPath: path.resolve(baselinePath), config: resolveConfig('default') });
    await base.warmUp();
    for (let i = 0; i < 200; i++) check(await base.execute(SIMPLE, { task: 'warm', input: INPUT }), 'success');
    const series: { current: number[]; baseline: number[] } = { current: [], baseline: [] };
    for (let round = 0; round < 6; round++) {
      for (const [name, box] of [['current', sb], ['baseline', base]] as const) {
        const xs: number[] = [];
        for (let i = 0; i < 300; i++) {
          const t = performance.now();
          check(await box.execute(SIMPLE, { task: 'lat', input: INPUT }), 'success');
          xs.push(performance.now() - t);
        }
        series[name].push(pct(xs, 50));
      }
    }
    const cur = pct(series.current, 50);
    const bas = pct(series.baseline, 50);
    emit('simple_warm_latency_vs_baseline_worker', { baselineWorker: baselinePath, rounds: 6, currentP50Ms: r3(cur), baselineP50Ms: r3(bas), ratio: r3(cur / bas), target: '<= 1.10', note: 'median of 6 interleaved rounds of 300 runs each' });
    await base.close();
  }

  // node:vm reference for the same script.
  const vmScript = new vm.Script(`(function(){ ${SIMPLE} })()`);
  const vmLat: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = performance.now();
    vmScript.runInNewContext({ context: { task: 'vm', input: INPUT } });
    vmLat.push(performance.now() - t);
  }
  emit('node_vm_reference', { n: vmLat.length, p50Ms: r3(pct(vmLat, 50)), p99Ms: r3(pct(vmLat, 99)), sandboxOverVmP50: r3(pct(lat, 50) / pct(vmLat, 50)) });


  // Runs that wait: 20 at once, each awaiting a 600 ms timer (three rounds, median), with the server
  // memory they add, sampled while all of them wait, and the host's event-loop delay throughout.
  const waitCode = 'await new Promise((r) => setTimeout(r, 600)); return 1';
  const waitRounds: { wallMs: number; rssMbPerRun: number }[] = [];
  const wh = monitorEventLoopDelay({ resolution: 1 });
  wh.enable();
  for (let round = 0; round < 3; round++) {
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const t = performance.now();
    const rs = await Promise.all(Array.from({ length: 20 }, () => sb.execute(waitCode, { task: 'wait' })));
    const wallMs = performance.now() - t;
    clearInterval(sampler);
    for (const r of rs) check(r, 'success');
    waitRounds.push({ wallMs: Math.round(wallMs), rssMbPerRun: r3((peak - rss0) / 20 / 1024 / 1024) });
  }
  wh.disable();
  const byWall = [...waitRounds].sort((a, b) => a.wallMs - b.wallMs);
  emit('waiting_20x600ms', {
    rounds: waitRounds,
    wallMs: byWall[1].wallMs,
    rssMbPerRun: r3(pct(waitRounds.map((r) => r.rssMbPerRun), 50)),
    eventLoopP99Ms: r3(wh.percentile(99) / 1e6),
    plainSerialWallMs: 20 * 600,
    targetWallMs: 2000,
    targetRssMbPerRun: 4,
    note: 'wall time for all 20 (median of 3 rounds); rssMbPerRun: peak RSS growth while they wait / 20',
  });

  // 200 waiting runs and 40 more at once: the pool holds maxConcurrent side by side, queues up to
  // maxQueued and refuses the rest with a busy answer; the host stays responsive.
  {
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const bh = monitorEventLoopDelay({ resolution: 1 });
    bh.enable();
    const t = performance.now();
    const rs = await Promise.all(Array.from({ length: 240 }, () => sb.execute('await new Promise((r) => setTimeout(r, 100)); return 1', { task: 'flood' })));
    const wallMs = performance.now() - t;
    bh.disable();
    clearInterval(sampler);
    const busy = rs.filter((r) => r.kind === 'error' && /sandbox busy/.test(r.message)).length;
    const ok = rs.filter((r) => r.kind === 'success').length;
    emit('waiting_flood_240', { submitted: 240, success: ok, busyRefused: busy, other: 240 - ok - busy, wallMs: Math.round(wallMs), peakRssGrowthMb: r3((peak - rss0) / 1024 / 1024), eventLoopP99Ms: r3(bh.percentile(99) / 1e6), note: 'each waits 100 ms; maxConcurrent 20 + maxQueued 200 accepted' });
  }

  // Throughput with 100 in flight, and the main thread's event-loop delay meanwhile. A parallel warm-up
  // first: measured in one process, a worker takes about 4,000 runs to reach its steady speed (about
  // 1.7x its first thousand), and its rate is printed too. Then three measured rounds: this shared
  // 2-core machine's speed drifts by tens of percent over minutes, so the median is reported.
  const parallel = async (total: number): Promise<{ ok: number; secs: number; cpuUs: number }> => {
    let next = 0;
    let ok = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const lane = async (): Promise<void> => {
      while (next < total) {
        next++;
        const r = await sb.execute(SIMPLE, { task: 'tp', input: INPUT });
        if (r.kind === 'success' && r.output === '30') ok++;
      }
    };
    await Promise.all(Array.from({ length: 100 }, lane));
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { ok, secs, cpuUs: cpu.user + cpu.system };
  };
  const warm = 8000;
  const w = await parallel(warm);
  const total = 5000;
  const rounds: { perSecond: number; correct: number; cpuUsPerExecution: number }[] = [];
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  for (let i = 0; i < 3; i++) {
    const r = await parallel(total);
    rounds.push({ perSecond: Math.round(total / r.secs), correct: r.ok, cpuUsPerExecution: Math.round(r.cpuUs / total) });
  }
  h.disable();
  const perSecond = [...rounds.map((r) => r.perSecond)].sort((a, b) => a - b)[1];
  emit('throughput_100_in_flight', {
    executionsPerRound: total,
    warmupExecutions: warm,
    warmupPerSecond: Math.round(warm / w.secs),
    rounds,
    perSecond,
    note: 'median of the three rounds; cpuUsPerExecution is the whole process (workers + main thread)',
    targetPerSecond: 2000,
    plainSerialPerSecond,
    ratioToPlainSerial: r3(perSecond / plainSerialPerSecond),
    targetRatioToPlainSerial: '>= 1',
  });
  emit('event_loop_delay_during_100_parallel', { p50Ms: r3(h.percentile(50) / 1e6), p99Ms: r3(h.percentile(99) / 1e6), maxMs: r3(h.max / 1e6), targetP99Ms: 10 });

  // Timeout overshoot (measured by the caller: wall time minus the deadline).
  const deadline = 100;
  const over = async (code: string, n: number): Promise<number[]> => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await sb.execute(code, { task: 'to' }, { config: resolveConfig('default', { maxExecutionTimeMs: deadline, maxCpuPercent: 100 }) });
      xs.push(performance.now() - t - deadline);
      check(r, 'timeout');
    }
    return xs;
  };
  const js = await over('let i = 0; while (i >= 0) i++', 30);
  emit('timeout_overshoot_js_loop', { deadlineMs: deadline, n: js.length, p50Ms: r3(pct(js, 50)), p99Ms: r3(pct(js, 99)), targetP99Ms: 10 });
  const pr = await over('async function g() { for (let i = 0; ; i++) await null } await g()', 30);
  emit('timeout_overshoot_promise_loop', { deadlineMs: deadline, n: pr.length, p50Ms: r3(pct(pr, 50)), p99Ms: r3(pct(pr, 99)), targetP99Ms: 10 });
  const nat = await over("for (let i = 0; i < 1e9; i++) 'abc'.repeat(1e5).split('').join('')", 20);
  emit('timeout_overshoot_native_op', { deadlineMs: deadline, n: nat.length, p50Ms: r3(pct(nat, 50)), p99Ms: r3(pct(nat, 99)), targetP99Ms: 50, workerRestarts: sb.metrics().workerRestarts });

  emit('machine_after', { loadAvg1m: r3(os.loadavg()[0]), loadAvg5m: r3(os.loadavg()[1]) });
  await sb.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
