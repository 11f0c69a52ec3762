/**
 * The memory service (the store in its worker thread, MemoryClient) against the same store
 * in the caller's thread (MemoryStore, the baseline), measured in the same run: how long the
 * caller's event loop is blocked (perf_hooks.monitorEventLoopDelay max and p99) during each
 * phase, and the phase's latency. `npm run bench:memory` runs it after memory.bench.ts.
 *   BENCH_SIZES=10000,100000   episodes (default 10000; add 100000 for the large tier)
 *   BENCH_STEPS=10000          add_episode_step calls into one episode (default 10000)
 *   BENCH_KINDS=worker         only the service, without the in-process baseline (default both)
 *   BENCH_CACHE=DIR            where the generated import files are kept (default .cache/bench)
 * Phases: import (of an export file, as `memory-mcp import` runs it), open (cold, from the snapshot), the first query, 1,000
 * queries 50 at a time, queries one at a time (generated ones, then ones made only of the
 * most common words), BENCH_STEPS steps into one episode (p50 at steps 1-10 and at the
 * last 10), a snapshot (with queries one at a time while it runs: their p50/p99/max), an export
 * paged as `memory-mcp export -` reads it (200 episodes a page, as lines), one paged as the
 * export_memory tool reads it (pages within its answer bound, parsed) and an export to a file
 * (as `memory-mcp export FILE` runs it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MemoryClient, MemoryStore } from '../src/memory';
import type { MemoryStoreApi } from '../src/memory';
import { episodeLine, headerLine, parseExportLines } from '../src/memory/exportFormat';
import { commonQueries, genEpisode, genQuery, restoreRngState, rngState } from './memory.bench';

type Store = MemoryStoreApi & { snapshot(): Promise<void> };
type Kind = 'worker' | 'in_process';

const now = (): number => performance.now();
const r1 = (x: number): number => Math.round(x * 10) / 10;
const emit = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return r1(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]);
}

/**
 * Runs a phase with the caller's event loop watched three ways: monitorEventLoopDelay (max,
 * p99); the longest gap between ticks of a 1 ms interval (`blocked_max_ms`), which also counts
 * a phase that never yields to the loop (the histogram takes no sample then, and reads 0); and
 * how much of the worst gap between two ticks the caller's thread spent running (event-loop
 * utilisation, `busy_max_ms`): work on this thread, where a gap the thread spent idle is the
 * OS running other threads (on a loaded machine it can far exceed the busy part).
 */
async function phase<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; eld_max_ms: number; eld_p99_ms: number; blocked_max_ms: number; busy_max_ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let last = now();
  let gap = 0;
  let busy = 0;
  let elu = performance.eventLoopUtilization();
  const tick = (): void => {
    const t = now();
    const since = performance.eventLoopUtilization(elu);
    gap = Math.max(gap, t - last);
    busy = Math.max(busy, since.active);
    last = t;
    elu = performance.eventLoopUtilization();
  };
  const ticker = setInterval(tick, 1);
  h.enable();
  const t = now();
  const value = await fn();
  const ms = now() - t;
  // Let the monitor and the ticker see the loop once more after the phase's last callback.
  await new Promise((r) => setTimeout(r, 5));
  h.disable();
  clearInterval(ticker);
  tick();
  return { value, ms: r1(ms), eld_max_ms: r1(h.max / 1e6), eld_p99_ms: r1(h.percentile(99) / 1e6), blocked_max_ms: r1(gap), busy_max_ms: r1(busy) };
}

/** A phase's loop figures, as printed. */
const loopFigures = (p: { eld_max_ms: number; eld_p99_ms: number; blocked_max_ms: number; busy_max_ms: number }) => ({
  eld_max_ms: p.eld_max_ms,
  eld_p99_ms: p.eld_p99_ms,
  blocked_max_ms: p.blocked_max_ms,
  busy_max_ms: p.busy_max_ms,
});

/**
 * Generated import files are kept between runs in BENCH_CACHE (default .cache/bench; the 100k
 * one takes minutes to build), with the queries of common words and the generator's state
 * after them, so a run from the cache asks the same queries as one that generated the file.
 */
const CACHE = process.env.BENCH_CACHE ?? path.resolve(__dirname, '..', '.cache', 'bench');

function generatedImport(n: number, t0: number): { file: string; common: string[] } {
  const file = path.join(CACHE, `memory-service-${n}.jsonl`);
  const side = `${file}.json`;
  if (fs.existsSync(file) && fs.existsSync(side)) {
    const kept = JSON.parse(fs.readFileSync(side, 'utf8')) as { common: string[]; rng: number };
    restoreRngState(kept.rng);
    return { file, common: kept.common };
  }
  fs.mkdirSync(CACHE, { recursive: true });
  const texts: string[] = [];
  const fd = fs.openSync(`${file}.tmp`, 'w');
  fs.writeSync(fd, headerLine(n));
  for (let i = 0; i < n; i += 500) {
    let chunk = '';
    for (let j = i; j < Math.min(n, i + 500); j++) {
      const g = genEpisode(t0);
      texts.push(g.text);
      chunk += episodeLine(g.ep);
    }
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
  const common = commonQueries(texts, 100);
  fs.renameSync(`${file}.tmp`, file);
  fs.writeFileSync(side, JSON.stringify({ common, rng: rngState() }));
  return { file, common };
}

function open(kind: Kind, dir: string): Promise<Store> {
  const options = { dir, snapshotDebounceMs: 3_600_000, dedupe: false };
  return kind === 'worker' ? MemoryClient.open(options) : MemoryStore.open(options);
}

async function runKind(kind: Kind, n: number, steps: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mem-svc-bench-${kind}-${n}-`));
  const t0 = Date.now();
  const out: Record<string, unknown> = { bench: 'memory_service', store: kind, episodes: n };
  inProgress = out;
  try {
    let store = await open(kind, dir);
    // Generated beforehand into an export file: only the store's work falls inside the phase.
    const { file, common } = generatedImport(n, t0);
    // The import as `memory-mcp import` and the VS Code command run it: the store reads the file.
    const imp = await phase(() => store.importFile(file));
    if (imp.value.imported !== n) throw new Error(`imported ${imp.value.imported} of ${n}`);
    out.import = { ms: imp.ms, ...loopFigures(imp), rss_mb: Math.round(process.memoryUsage().rss / 1048576) };
    await store.close();

    const opened = await phase(() => open(kind, dir));
    store = opened.value;
    out.open = { ms: opened.ms, ...loopFigures(opened) };
    const queries = Array.from({ length: 1000 }, () => genQuery());
    const first = await phase(() => store.query({ query: queries[0] }));
    out.first_query = { ms: first.ms, ...loopFigures(first) };

    const lat: number[] = [];
    const many = await phase(async () => {
      for (let i = 0; i < queries.length; i += 50) {
        await Promise.all(
          queries.slice(i, i + 50).map(async (q) => {
            const t = now();
            await store.query({ query: q, limit: 10 });
            lat.push(now() - t);
          }),
        );
      }
    });
    out.queries_1000_by_50 = { ms: many.ms, per_query_p50_ms: pct(lat, 50), per_query_p99_ms: pct(lat, 99), ...loopFigures(many) };
    const serial: number[] = [];
    for (const q of queries.slice(0, 200)) {
      const t = now();
      await store.query({ query: q, limit: 10 });
      serial.push(now() - t);
    }
    out.query_serial_p50_ms = pct(serial, 50);
    out.query_serial_p99_ms = pct(serial, 99);
    // Queries made only of the most common words (every episode a candidate).
    const serialCommon: number[] = [];
    for (const q of common) {
      const t = now();
      await store.query({ query: q, limit: 10 });
      serialCommon.push(now() - t);
    }
    out.query_common_terms_serial_p50_ms = pct(serialCommon, 50);
    out.query_common_terms_serial_p99_ms = pct(serialCommon, 99);

    const stepLat: number[] = [];
    const ep = await store.createEpisode({ task: 'one very long session of edits', taskType: 'refactoring' });
    const st = await phase(async () => {
      for (let i = 1; i <= steps; i++) {
        const t = now();
        await store.addStep(ep.id, { tool: i % 3 ? 'edit_file' : 'run_tests', action: `change ${i}`, parameters: { path: `src/f${i % 50}.ts` }, result: { status: 'success', output: `ok ${i}` } });
        stepLat.push(now() - t);
      }
    });
    out.add_steps = {
      steps,
      ms: st.ms,
      p50_first_10_ms: pct(stepLat.slice(0, 10), 50),
      p50_last_10_ms: pct(stepLat.slice(-10), 50),
      p50_first_500_ms: pct(stepLat.slice(0, 500), 50),
      p50_last_500_ms: pct(stepLat.slice(-500), 50),
      ratio_last_to_first_500: r1(pct(stepLat.slice(-500), 50) / pct(stepLat.slice(0, 500), 50)),
      ...loopFigures(st),
    };
    // Queries one at a time for as long as the snapshot runs (reads must not wait for it).
    const during: number[] = [];
    const snap = await phase(async () => {
      let done = false;
      const taking = store.snapshot().finally(() => (done = true));
      for (let i = 0; !done; i++) {
        const t = now();
        await store.query({ query: queries[i % queries.length], limit: 10 });
        during.push(now() - t);
      }
      await taking;
    });
    out.snapshot = {
      ms: snap.ms,
      queries_during: during.length,
      query_p50_ms: during.length ? pct(during, 50) : null,
      query_p99_ms: during.length ? pct(during, 99) : null,
      query_max_ms: during.length ? r1(Math.max(...during)) : null,
      ...loopFigures(snap),
    };
    // Paged as `memory-mcp export -` reads it: lines serialised by the store, 200 episodes a page.
    const exp = await phase(async () => {
      let page = await store.exportLines({ limit: 200 });
      let count = page.count;
      while (page.next !== undefined) {
        page = await store.exportLines({ after: page.next, limit: 200 });
        count += page.count;
      }
      return count;
    });
    out.export_paged = { ms: exp.ms, episodes: exp.value, ...loopFigures(exp) };
    // Paged as the export_memory tool reads it: up to 100 episodes within its 32k-character answer, parsed for structuredContent.
    const tool = await phase(async () => {
      let pages = 0;
      let count = 0;
      for (let offset = 0; ; pages++) {
        const page = await store.exportLines({ offset, limit: 100, maxChars: 32_000 - 600 });
        count += parseExportLines(page.lines).length;
        offset += page.count;
        if (page.next === undefined) return { pages: pages + 1, count };
      }
    });
    out.export_memory_pages = { ms: tool.ms, pages: tool.value.pages, episodes: tool.value.count, ...loopFigures(tool) };
    // The export as `memory-mcp export FILE` and the VS Code command run it: the store writes the file.
    const exportFile = path.join(dir, 'export.jsonl');
    const expFile = await phase(() => store.exportFile(exportFile));
    out.export_file = { ms: expFile.ms, episodes: expFile.value, ...loopFigures(expFile) };
    fs.rmSync(exportFile);
    out.rss_mb = Math.round(process.memoryUsage().rss / 1048576);
    await store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  emit(out);
}

/** The figures of the size being measured: printed, marked incomplete, if the run is stopped (e.g. by `timeout`). */
let inProgress: Record<string, unknown> | undefined;
process.once('SIGTERM', () => {
  if (inProgress) emit({ ...inProgress, incomplete: true });
  process.exit(143);
});

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '10000').split(',').map(Number);
  const steps = Number(process.env.BENCH_STEPS ?? 10_000);
  emit({ bench: 'memory_service', node: process.version, cpus: os.cpus().length, load: os.loadavg().map(r1) });
  const kinds = (process.env.BENCH_KINDS ?? 'worker,in_process').split(',') as Kind[];
  for (const n of sizes) for (const kind of kinds) await runKind(kind, n, steps);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
