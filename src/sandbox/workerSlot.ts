/**
 * The pool's workers as the Sandbox holds them: a slot per worker (its shared
 * state block and the runs sent to it), how one is started, and the placement
 * order that picks the worker for the next run.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../common/logger';
import type { HostCallRun, HostCalls } from './hostCalls';
import { SHM, type FromWorker, type JobSpec, type WorkerInit } from './protocol';
import type { ExecutionContext, ExecutionResult, Language } from './types';

const WASM_FILE = 'quickjs-release-sync.wasm';

/** A run as the pool holds it, from `execute` until its result. */
export interface Job extends HostCallRun {
  id: number;
  code: string;
  language: Language;
  context: ExecutionContext;
  contextJson: string;
  /** Created with the run's first host call. */
  host?: HostCalls;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve: (r: ExecutionResult) => void;
  startedAt: number;
  slot?: Slot;
  /** Started again after its worker was killed for another run (at most once). */
  retried?: boolean;
}

export interface Slot {
  index: number;
  worker: Worker;
  i32: Int32Array;
  startedAt: Float64Array;
  jobs: Map<number, Job>;
  dead: boolean;
  referenced: boolean;
  /** The worker reported its QuickJS module loaded. */
  ready: boolean;
  /** Jobs to send at the end of this turn. */
  outbox?: JobSpec[];
  /** performance.now() when its last results arrived (an idle worker prepares the next context from then on). */
  idleSince: number;
}

/** Default location of the bundled worker: next to this bundle (dist/), else the repo's dist/. */
export function defaultWorkerPath(): string {
  const beside = path.join(__dirname, 'sandbox-worker.js');
  if (existsSync(beside)) return beside;
  return path.resolve(__dirname, '..', '..', 'dist', 'sandbox-worker.js');
}

/** The QuickJS WebAssembly file beside the worker bundle. */
export function wasmPathFor(workerPath: string): string {
  return path.join(path.dirname(workerPath), WASM_FILE);
}

/** Compiles the QuickJS WebAssembly once for all workers (undefined if that fails: each worker then loads it). */
export function compileWasm(workerPath: string, log: Logger): WebAssembly.Module | undefined {
  try {
    const Mod = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => WebAssembly.Module } }).WebAssembly.Module;
    return new Mod(readFileSync(wasmPathFor(workerPath)));
  } catch (err) {
    log.warn(`sandbox: could not precompile the QuickJS wasm (${(err as Error).message}); each worker will load it`);
    return undefined;
  }
}

export interface SpawnOptions {
  workerPath: string;
  wasmModule?: WebAssembly.Module;
  warmMemoryMb: number;
  resultBatchMaxAgeMs?: number;
  onMessage: (s: Slot, m: FromWorker) => void;
  /** The worker failed or exited on its own (not when the slot is already dead). */
  onCrash: (s: Slot, why: string) => void;
}

/** Starts a worker (`index` -1 for a standby). */
export function spawnWorker(index: number, o: SpawnOptions): Slot {
  if (!existsSync(o.workerPath)) throw new Error(`sandbox worker not found at ${o.workerPath} (run \`npm run build\`)`);
  const shared = new SharedArrayBuffer(SHM.BYTES);
  const worker = new Worker(o.workerPath, {
    workerData: {
      shared,
      wasmModule: o.wasmModule,
      wasmPath: wasmPathFor(o.workerPath),
      warmMemoryMb: o.warmMemoryMb,
      resultBatchMaxAgeMs: o.resultBatchMaxAgeMs,
    } satisfies WorkerInit,
    // The young generation V8 derives for this old-generation size is small; the glue around
    // QuickJS makes short-lived objects on every run. Measured (bench rounds interleaved in one
    // process): 8 MB gave 8-15 % more executions per second than the default.
    resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 },
    // The worker is a self-contained bundle: it must not inherit the host's loaders and flags
    // (e.g. `--import tsx` made each worker start 5x slower, `--inspect` would clash on the port).
    execArgv: [],
    stdout: false,
    stderr: false,
  });
  const s: Slot = {
    index,
    worker,
    i32: new Int32Array(shared, 0, SHM.INTS),
    startedAt: new Float64Array(shared, SHM.START_BYTE, 1),
    jobs: new Map(),
    dead: false,
    referenced: true,
    ready: false,
    idleSince: 0,
  };
  worker.on('message', (m: FromWorker) => o.onMessage(s, m));
  worker.on('error', (err) => o.onCrash(s, `failed: ${err.message}`));
  worker.on('exit', (code) => {
    if (!s.dead) o.onCrash(s, `exited with code ${code}`);
  });
  setRef(s);
  return s;
}

/** A worker keeps the process alive only while it has runs. */
export function setRef(s: Slot): void {
  const want = s.jobs.size > 0;
  if (want === s.referenced) return;
  s.referenced = want;
  if (want) s.worker.ref();
  else s.worker.unref();
}

/** The worker is idle with the next run's context ready. */
function prepared(s: Slot): boolean {
  return s.jobs.size === 0 && Atomics.load(s.i32, SHM.PREPARED) === 1;
}

/**
 * Placement order: a warm (ready) worker beats one still starting, then the
 * lower load, then fewer runs in all (a new run that turns out CPU-bound
 * delays the waiting runs beside it), then one with the next context prepared
 * (an idle worker may still be cleaning up after its last run and preparing
 * the next: most of a small run's cost).
 */
export function better(a: Slot, b: Slot): boolean {
  if (a.ready !== b.ready) return a.ready;
  const la = load(a);
  const lb = load(b);
  if (la !== lb) return la < lb;
  if (a.jobs.size !== b.jobs.size) return a.jobs.size < b.jobs.size;
  const pa = prepared(a);
  if (pa !== prepared(b)) return pa;
  // Neither prepared (or both): the one idle the longest is the nearest to having its next context ready.
  return a.idleSince < b.idleSince;
}

/**
 * A worker's load for placement: its runs that take CPU (running or not yet
 * started). Runs that wait on a timer or a host call do not count: a worker
 * holds many of those side by side.
 */
export function load(s: Slot): number {
  return s.jobs.size - Atomics.load(s.i32, SHM.WAITING);
}
