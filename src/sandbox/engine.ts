/**
 * The worker-side executor: one QuickJS WASM module per worker (with its own
 * capped WebAssembly.Memory), a fresh runtime + context per execution, every
 * handle disposed. Runs inside a worker thread; never on the caller's thread.
 */
import { readFileSync } from 'node:fs';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type CustomizeVariantOptions,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import { QuickJSFFI } from '@jitl/quickjs-wasmfile-release-sync/ffi';
import type { QuickJSSyncVariant } from '@jitl/quickjs-ffi-types';
import { GUEST_FILENAME, GUEST_HEAD, GUEST_TAIL, PRELUDE_FILENAME, PRELUDE_SOURCE, moduleSource, type Setup } from './runtime';
import { CONSOLE_CAP, FS_METHODS, OUTPUT_CAP, SHM, SLICE_MS, type FromWorker, type HostReplyMessage, type JobSpec } from './protocol';
import { CAPTURED, LAZY_GLOBALS } from './guest/modules';
import { secureRandom, urlOp, urlSetOp } from './hostops';
import { moduleViolation, screenCode } from './screen';
import { stripTypes } from './transpile';
import type { ErrorType, ExecutionResult, ViolationType } from './types';

/** The WebAssembly JS API as used here (the project's TS lib has no DOM/WebAssembly value types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WebAssembly.Module;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * The release-sync variant, assembled here rather than imported from the
 * package's index: its loader uses `import()`, which makes a CommonJS bundle
 * pick the ESM build (that needs import.meta.url). `require` selects the CJS
 * build, which is what runs inside dist/sandbox-worker.js. The WASM bytes are
 * never read by it: the compiled module is passed in.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const emscriptenModuleLoader = require('@jitl/quickjs-wasmfile-release-sync/emscripten-module') as { default: unknown };
const RELEASE_SYNC = {
  type: 'sync',
  importFFI: () => Promise.resolve(QuickJSFFI),
  importModuleLoader: () => Promise.resolve(emscriptenModuleLoader.default),
} as unknown as QuickJSSyncVariant;

const MB = 1024 * 1024;
/** WASM pages (64 KiB) the module starts with: 16 MiB, its measured baseline. */
const BASE_PAGES = 256;
const BASE_BYTES = BASE_PAGES * 65536;
/** Recycle a module whose memory grew by more than this (WASM memory never shrinks). */
const RECYCLE_GROWTH_BYTES = 24 * MB;
/** Arguments of one host call, as JSON text. */
const HOST_ARGS_CAP = 1024 * 1024;
const MAX_HOST_CALLS = 10_000;
/** Script (not module) evaluation, without the library's module sniffing of the source. */
const GLOBAL = { type: 'global' } as const;

interface Prepared {
  holder: Holder;
  rt: QuickJSRuntime;
  ctx: QuickJSContext;
  /** The bridge, the prelude and the run function, in creation order. */
  handles: QuickJSHandle[];
  runFn: QuickJSHandle;
  /** The settings (setup JSON) its environment was installed with. */
  setup: string;
  ref: { job?: Job };
}

/**
 * One QuickJS module instance with its own capped WebAssembly.Memory (QuickJS's
 * own memory limit is no byte cap under emscripten: the memory's maximum is).
 * A run holds one for its whole life, so runs waiting side by side in a worker
 * each keep their own cap; an idle one serves the next run.
 */
interface Holder {
  mod: QuickJSWASMModule;
  memory: WasmMemory;
  memoryMb: number;
  broken: boolean;
  /** The last run's clean-up, done when the result has been sent (see flush) or before the next run here. */
  deferred?: () => void;
}

/** Idle module instances a worker keeps for the next runs (more are let go: each holds its WASM memory). */
const IDLE_HOLDERS = 2;

type Outcome =
  | { kind: 'done'; json: string }
  | { kind: 'fail'; name: string; message: string; stack: string }
  | { kind: 'oversize'; length: number };

interface Job {
  id: number;
  start: number;
  deadline: number;
  cpu: number;
  sliceStart: number;
  stop: boolean;
  timedOut: boolean;
  cancelled: boolean;
  violation?: { type: ViolationType; reason: string };
  outcome?: Outcome;
  hostError?: { name: string; message: string; stack: string };
  neverSettled: boolean;
  syntax?: boolean;
  /** The module's memory reached its cap during the run. */
  memoryExhausted?: boolean;
  memoryMb: number;
  hostNames: string[];
  out: [string[], string[]];
  outLen: [number, number];
  outFull: [boolean, boolean];
  callSeq: number;
  pending: Set<number>;
  replies: HostReplyMessage[];
  wake?: () => void;
  /** When the guest's earliest timer is due, in Date.now() time (-1: no timer). */
  nextTimer: number;
  /** Date.now() when the run started (published with RUNNING for the pool's backstop). */
  startedAtWall: number;
  /** performance.now() when its code stopped (the result is read later, maybe after other runs). */
  end?: number;
}

export interface EngineOptions {
  shared: SharedArrayBuffer;
  wasmModule?: WebAssembly.Module;
  wasmPath: string;
  post: (message: FromWorker) => void;
  /** Called now and then while a run is busy (from the interrupt handler): the worker sends results it holds back. */
  onBusy?: () => void;
  /** Called before the engine waits for the host (a host call or a duty-cycle sleep): nothing may be held back then. */
  onWait?: () => void;
  /** Called when a run starts waiting (its module stays with it): the worker may start the next run. */
  onPause?: () => void;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

export function classifyError(_name: string, message: string): ErrorType {
  if (/stack overflow|Maximum call stack/i.test(message)) return 'stack_overflow';
  if (/out of memory/i.test(message)) return 'memory_limit';
  return 'runtime';
}

/** Position in the agent's code from a QuickJS stack (`guest.js:L:C`), undoing the wrapper on line 1. */
export function guestPosition(stack: string): { line: number; column: number } | undefined {
  const m = new RegExp(GUEST_FILENAME.replace('.', '\\.') + ':(\\d+):(\\d+)').exec(stack);
  if (!m) return undefined;
  const line = Number(m[1]);
  let column = Number(m[2]);
  if (line === 1) column = Math.max(1, column - GUEST_HEAD.length);
  return { line, column };
}

export class Engine {
  private readonly i32: Int32Array;
  private readonly started: Float64Array;
  private wasmModule?: WebAssembly.Module;
  /** Module instances no run holds, the most recently used last. */
  private readonly idle: Holder[] = [];
  private next?: { memoryMb: number; promise: Promise<Holder> };
  /** Runs started and not finished: one executing, the others waiting (a timer, a host call, a module). */
  private readonly jobs = new Map<number, Job>();
  private waiting = 0;
  private prepared?: Prepared;
  /** The last run's settings: the next context is prepared with them. */
  private lastSetup = setupJson({ hostNames: [], limits: { allowFilesystem: false, allowNetwork: false } });
  /** Modules discarded (out of memory, abort, growth, limit change). */
  recycled = 0;

  constructor(private readonly options: EngineOptions) {
    this.i32 = new Int32Array(options.shared, 0, SHM.INTS);
    this.started = new Float64Array(options.shared, SHM.START_BYTE, 1);
    this.wasmModule = options.wasmModule;
  }

  /** Creates the module ahead of the first job. */
  async warm(memoryMb: number): Promise<void> {
    const h = await this.acquire(memoryMb);
    this.release(h);
    this.prepare();
  }

  /** Runs started and not finished. */
  get resident(): number {
    return this.jobs.size;
  }

  /** Runs started, not finished and not waiting: they finish or wait within this turn. */
  get runnable(): number {
    return this.jobs.size - this.waiting;
  }

  onReply(message: HostReplyMessage): void {
    const job = this.jobs.get(message.id);
    if (!job) return;
    job.replies.push(message);
    job.wake?.();
  }

  onCancel(id: number): void {
    const job = this.jobs.get(id);
    if (job) {
      job.cancelled = true;
      job.stop = true;
      job.wake?.();
    }
  }

  private isCancelled(id: number): boolean {
    return Atomics.load(this.i32, SHM.CANCEL_BASE + (id % SHM.CANCEL_SLOTS)) === id;
  }

  private createHolder(memoryMb: number): { memoryMb: number; promise: Promise<Holder> } {
    if (!this.wasmModule) this.wasmModule = new WA.Module(readFileSync(this.options.wasmPath));
    const memory = new WA.Memory({ initial: BASE_PAGES, maximum: Math.ceil(((memoryMb + 16) * MB) / 65536) });
    // The variant's typings name WebAssembly.Memory, which this project's TS lib does not declare.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    const variant = newVariant(RELEASE_SYNC, { wasmModule: this.wasmModule, wasmMemory: memory as unknown as CustomizeVariantOptions['wasmMemory'] });
    const promise = newQuickJSWASMModuleFromVariant(variant).then((mod) => ({ mod, memory, memoryMb, broken: false }));
    return { memoryMb, promise };
  }

  /** An idle module instance for this memory limit (at once), else a new one (a promise). */
  private acquire(memoryMb: number): Holder | Promise<Holder> {
    this.flush();
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const h = this.idle[i];
      if (h.memoryMb === memoryMb && !h.broken) return this.idle.splice(i, 1)[0];
    }
    let next = this.next;
    this.next = undefined;
    if (!next || next.memoryMb !== memoryMb) next = this.createHolder(memoryMb);
    this.options.onWait?.();
    return next.promise;
  }

  /** Gives a module instance back after a run: kept for the next runs (the fewest that help), else let go. */
  private release(h: Holder): void {
    if (h.broken) return this.drop(h);
    this.idle.push(h);
    // Instances for another memory limit first (a limit change makes them useless), then the least recently used.
    while (this.idle.length > IDLE_HOLDERS) {
      const stale = this.idle.findIndex((x) => x.memoryMb !== h.memoryMb);
      this.drop(this.idle.splice(stale >= 0 ? stale : 0, 1)[0]);
    }
  }

  /** Lets a module instance go (its memory is freed with it). */
  private drop(h: Holder): void {
    this.recycled++;
    const i = this.idle.indexOf(h);
    if (i >= 0) this.idle.splice(i, 1);
    const d = h.deferred;
    h.deferred = undefined;
    d?.();
    if (this.prepared?.holder === h) {
      const p = this.prepared;
      this.prepared = undefined;
      try {
        disposePrepared(p);
      } catch {
        // The instance is being dropped anyway.
      }
    }
  }

  /** The run executes on this thread from now on: publish it (start time first) for the pool's backstop. */
  private enter(job: Job): void {
    Atomics.store(this.i32, SHM.RUNNING, 0);
    this.started[0] = job.startedAtWall;
    Atomics.store(this.i32, SHM.RUNNING, job.id);
  }

  private leave(job: Job): void {
    if (Atomics.load(this.i32, SHM.RUNNING) === job.id) Atomics.store(this.i32, SHM.RUNNING, 0);
  }

  /** Awaits `p` with the run marked waiting, so other runs of this worker execute meanwhile. */
  private async pause<T>(job: Job, p: Promise<T>): Promise<T> {
    this.leave(job);
    Atomics.store(this.i32, SHM.WAITING, ++this.waiting);
    this.options.onPause?.();
    try {
      return await p;
    } finally {
      Atomics.store(this.i32, SHM.WAITING, --this.waiting);
      this.enter(job);
    }
  }

  async run(msg: JobSpec): Promise<ExecutionResult> {
    this.flush();
    const now = performance.now();
    const job: Job = {
      id: msg.id,
      start: now,
      deadline: now + msg.limits.timeMs,
      cpu: msg.limits.cpuPercent,
      sliceStart: now,
      stop: false,
      timedOut: false,
      cancelled: false,
      neverSettled: false,
      memoryMb: msg.limits.memoryMb,
      hostNames: msg.hostNames,
      out: [[], []],
      outLen: [0, 0],
      outFull: [false, false],
      callSeq: 0,
      pending: new Set(),
      replies: [],
      nextTimer: -1,
      startedAtWall: Date.now(),
    };
    this.jobs.set(job.id, job);
    // Start time first (enter): the pool's watchdog never pairs this job's id with another's start time.
    Atomics.store(this.i32, SHM.PREPARED, 0);
    Atomics.store(this.i32, SHM.LAST_STARTED, msg.id);
    this.enter(job);
    try {
      if (this.isCancelled(msg.id)) return this.result(job);
      let code = msg.code;
      if (msg.language === 'typescript') {
        // Within the run's limits: no more than its CPU share of the time limit, nor past its deadline.
        const ts = stripTypes(code, Math.min(job.deadline - now, (msg.limits.timeMs * msg.limits.cpuPercent) / 100));
        if (!ts.ok && ts.timedOut) return { kind: 'error', errorType: 'transpile_limit', message: ts.message, stdout: '', stderr: '', executionTimeMs: round(performance.now() - now) };
        if (!ts.ok) return { kind: 'error', errorType: 'syntax', message: ts.message, line: ts.line, column: ts.column, stdout: '', stderr: '', executionTimeMs: round(performance.now() - now) };
        code = ts.code;
      }
      const hit = screenCode(code, { allowNetwork: msg.limits.allowNetwork });
      if (hit) return { kind: 'security_violation', violationType: hit.violationType, reason: hit.reason };
      const got = this.acquire(msg.limits.memoryMb);
      const holder = got instanceof Promise ? await this.pause(job, got) : got;
      await this.execute(holder, job, code, msg);
      return this.result(job);
    } catch (err) {
      const e = err as Error;
      return this.internal(job, `sandbox worker failure: ${e?.message ?? String(err)}`);
    } finally {
      this.jobs.delete(job.id);
      this.leave(job);
    }
  }

  private interrupt(job: Job): boolean {
    if (job.stop) return true;
    this.options.onBusy?.();
    if (this.isCancelled(job.id)) {
      job.cancelled = job.stop = true;
      return true;
    }
    let now = performance.now();
    if (now >= job.deadline) {
      job.timedOut = job.stop = true;
      return true;
    }
    if (job.cpu < 100) {
      const ran = now - job.sliceStart;
      if (ran >= SLICE_MS) {
        // Duty cycle: having run `ran` ms, sleep so that run / (run + sleep) <= cpu%.
        const sleep = Math.min((ran * (100 - job.cpu)) / job.cpu, job.deadline - now);
        this.options.onWait?.();
        if (sleep > 0) Atomics.wait(this.i32, SHM.SLEEP, 0, sleep);
        now = performance.now();
        job.sliceStart = now;
        if (this.isCancelled(job.id)) {
          job.cancelled = job.stop = true;
          return true;
        }
        if (now >= job.deadline) {
          job.timedOut = job.stop = true;
          return true;
        }
      }
    }
    return false;
  }

  private append(job: Job, stream: 0 | 1, text: string): boolean {
    if (job.outFull[stream]) return false;
    const line = text + '\n';
    const room = CONSOLE_CAP - job.outLen[stream];
    if (line.length <= room) {
      job.out[stream].push(line);
      job.outLen[stream] += line.length;
      return true;
    }
    job.out[stream].push(line.slice(0, Math.max(0, room)));
    job.out[stream].push(`\n[... ${stream === 0 ? 'stdout' : 'stderr'} truncated: more than ${CONSOLE_CAP} characters]\n`);
    job.outLen[stream] = CONSOLE_CAP;
    job.outFull[stream] = true;
    return false;
  }

  /** The host side of the prelude's bridge `h(op, ...)`. Every argument is checked: it comes from the guest. */
  private bridge(ctx: QuickJSContext, job: Job, args: QuickJSHandle[]): QuickJSHandle | undefined {
    const str = (i: number): string => (args[i] !== undefined && ctx.typeof(args[i]) === 'string' ? ctx.getString(args[i]) : '');
    const op = str(0);
    switch (op) {
      case 'log': {
        const stream = args[1] !== undefined && ctx.typeof(args[1]) === 'number' && ctx.getNumber(args[1]) === 1 ? 1 : 0;
        return this.append(job, stream, args[3] !== undefined && ctx.typeof(args[3]) === 'number' ? jsonText(str(2)) : str(2)) ? undefined : ctx.false;
      }
      case 'call': {
        if (job.callSeq >= MAX_HOST_CALLS) throw new Error(`too many host calls (limit ${MAX_HOST_CALLS})`);
        const name = str(1);
        const argsJson = str(2);
        if (argsJson.length > HOST_ARGS_CAP) throw new Error(`arguments of ${name}() are too large (${argsJson.length} characters; limit ${HOST_ARGS_CAP})`);
        const callId = ++job.callSeq;
        job.pending.add(callId);
        this.options.post({ t: 'call', id: job.id, callId, name, args: argsJson });
        return ctx.newNumber(callId);
      }
      case 'deny': {
        const [type, reason] = denial(str(1));
        job.violation ??= { type, reason };
        job.stop = true;
        return ctx.newString(reason);
      }
      case 'require': {
        const name = str(1).slice(0, 200);
        const bare = name.replace(/^node:/, '');
        const type = moduleViolation(bare);
        if (!type) return ctx.newString(requireMessage(job.hostNames));
        const reason = `require(${JSON.stringify(bare)}) is not allowed: the sandbox has no modules`;
        job.violation ??= { type, reason };
        job.stop = true;
        return ctx.newString('SecurityViolation: ' + reason);
      }
      case 'done':
        job.outcome ??= { kind: 'done', json: str(1) };
        return undefined;
      case 'fail':
        job.outcome ??= { kind: 'fail', name: str(1), message: str(2), stack: str(3) };
        return undefined;
      case 'src':
        return this.source(ctx, args[1]);
      case 'url':
        return ctx.newString(urlOp(str(1)));
      case 'urlset':
        return ctx.newString(urlSetOp(str(1)));
      case 'random':
        return ctx.newArrayBuffer(secureRandom(args[1] !== undefined && ctx.typeof(args[1]) === 'number' ? ctx.getNumber(args[1]) : -1));
      case 'now':
        return ctx.newNumber(performance.now() - job.start);
      case 'timer': {
        const due = args[1] !== undefined && ctx.typeof(args[1]) === 'number' ? ctx.getNumber(args[1]) : -1;
        job.nextTimer = due >= 0 ? due : -1;
        return undefined;
      }
      case 'oversize':
        job.outcome ??= { kind: 'oversize', length: args[1] !== undefined && ctx.typeof(args[1]) === 'number' ? ctx.getNumber(args[1]) : 0 };
        return undefined;
      default:
        throw new Error('unknown bridge operation');
    }
  }

  /** A guest runtime module's source, compiled by the prelude on first use. */
  private source(ctx: QuickJSContext, which: QuickJSHandle | undefined): QuickJSHandle {
    const source = which !== undefined && ctx.typeof(which) === 'string' ? moduleSource(ctx.getString(which)) : undefined;
    if (source === undefined) throw new Error('unknown guest module');
    return ctx.newString(source);
  }

  /** Reads name/message/stack of an error handle defensively (strings only). */
  private readError(ctx: QuickJSContext, handle: QuickJSHandle): { name: string; message: string; stack: string } {
    const prop = (key: string): string => {
      try {
        const v = ctx.getProp(handle, key);
        try {
          return ctx.typeof(v) === 'string' ? ctx.getString(v) : '';
        } finally {
          v.dispose();
        }
      } catch {
        return '';
      }
    };
    if (ctx.typeof(handle) !== 'object') return { name: 'Error', message: ctx.typeof(handle) === 'string' ? ctx.getString(handle) : 'unknown error', stack: '' };
    return { name: prop('name') || 'Error', message: prop('message').slice(0, 10000), stack: prop('stack').slice(0, 4000) };
  }

  /**
   * The next host reply, or undefined at `until` (a guest timer is due then)
   * or at the deadline (the run has timed out: `job.stop` is set).
   */
  private waitReply(job: Job, until: number): Promise<HostReplyMessage | undefined> {
    const ready = job.replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const at = Math.min(until, job.deadline);
      const timer = setTimeout(() => {
        if (at >= job.deadline) job.timedOut = job.stop = true;
        job.wake = undefined;
        resolve(undefined);
      }, Math.max(0, at - performance.now()));
      job.wake = () => {
        clearTimeout(timer);
        job.wake = undefined;
        if (job.stop || this.isCancelled(job.id)) {
          if (!job.stop) job.cancelled = job.stop = true;
          resolve(undefined);
        } else resolve(job.replies.shift());
      };
    });
  }

  /**
   * A fresh runtime + context with the prelude evaluated, not yet tied to a job:
   * the bridge and the interrupt handler act for whichever job `ref` names.
   * Nothing guest-controlled has run in it. Throws (after cleaning up) on failure.
   */
  private createContext(holder: Holder, setup: string): Prepared {
    const ref: { job?: Job } = {};
    const rt = holder.mod.newRuntime();
    const handles: QuickJSHandle[] = [];
    let ctx: QuickJSContext | undefined;
    try {
      rt.setInterruptHandler(() => (ref.job ? this.interrupt(ref.job) : false));
      ctx = rt.newContext();
      const c = ctx;
      const h = c.newFunction('h', (...args) => {
        if (ref.job) return this.bridge(c, ref.job, args);
        // Before a job is attached (Engine.prepare) the prelude only fetches its sources.
        if (args[0] !== undefined && c.typeof(args[0]) === 'string' && c.getString(args[0]) === 'src') return this.source(c, args[1]);
        throw new Error('no execution is running');
      });
      handles.push(h);
      const prelude = c.evalCode(PRELUDE_SOURCE, PRELUDE_FILENAME, GLOBAL);
      if (prelude.error) {
        const e = this.readError(c, prelude.error);
        prelude.error.dispose();
        throw new Error(`the sandbox prelude failed: ${e.name}: ${e.message}`);
      }
      handles.push(prelude.value);
      const runFn = c.callFunction(prelude.value, c.undefined, h);
      if (runFn.error) {
        const e = this.readError(c, runFn.error);
        runFn.error.dispose();
        throw new Error(`the sandbox prelude failed: ${e.name}: ${e.message}`);
      }
      handles.push(runFn.value);
      const setupArg = c.newString(setup);
      handles.push(setupArg);
      const installed = c.callFunction(runFn.value, c.undefined, setupArg);
      if (installed.error) {
        const e = this.readError(c, installed.error);
        installed.error.dispose();
        throw new Error(`the sandbox environment could not be installed: ${e.name}: ${e.message}`);
      }
      installed.value.dispose();
      return { holder, rt, ctx, handles, runFn: runFn.value, setup, ref };
    } catch (err) {
      try {
        for (let i = handles.length - 1; i >= 0; i--) handles[i].dispose();
        ctx?.dispose();
        rt.dispose();
      } catch {
        holder.broken = true;
      }
      throw err;
    }
  }

  /**
   * Called when the worker goes idle: sets up the next run's context now, with
   * the last run's settings, so a lone execution does not wait for it (runtime,
   * context, prelude and environment are most of a small run's cost).
   */
  prepare(): void {
    this.flush();
    const holder = this.idle[this.idle.length - 1];
    if (this.prepared || Atomics.load(this.i32, SHM.RUNNING) !== 0 || !holder || holder.broken) return;
    try {
      this.prepared = this.createContext(holder, this.lastSetup);
      Atomics.store(this.i32, SHM.PREPARED, 1);
    } catch {
      holder.broken = true;
    }
  }

  private async execute(holder: Holder, job: Job, code: string, msg: JobSpec): Promise<void> {
    let rt: QuickJSRuntime | undefined;
    let ctx: QuickJSContext | undefined;
    const handles: QuickJSHandle[] = [];
    let settle: QuickJSHandle | undefined;
    try {
      // A context prepared while the worker was idle, else a new one. One from another
      // module belongs to a module already discarded (limit change or recycling): dropped
      // with it. One prepared for other settings (never used: nothing guest-controlled ran
      // in it) is freed.
      const setup = setupJson(msg);
      this.lastSetup = setup;
      // A context prepared in another instance stays there for the run that takes that one.
      let p = this.prepared?.holder === holder ? this.prepared : undefined;
      if (p) this.prepared = undefined;
      if (p && p.setup !== setup) {
        disposePrepared(p);
        p = undefined;
      }
      p ??= this.createContext(holder, setup);
      rt = p.rt;
      ctx = p.ctx;
      handles.push(...p.handles);
      p.ref.job = job;
      rt.setMemoryLimit(msg.limits.memoryMb * MB);
      rt.setMaxStackSize(msg.limits.stackKb * 1024);
      const c = ctx;
      const compiled = c.evalCode(GUEST_HEAD + code + GUEST_TAIL, GUEST_FILENAME, GLOBAL);
      if (compiled.error) {
        const e = this.readError(c, compiled.error);
        compiled.error.dispose();
        if (e.name === 'SyntaxError') job.outcome = { kind: 'fail', name: 'SyntaxError', message: e.message, stack: e.stack || '' };
        else job.hostError = e;
        job.syntax = e.name === 'SyntaxError';
        return;
      }
      handles.push(compiled.value);
      const ctxArg = c.newString(msg.contextJson);
      handles.push(ctxArg);
      const started = c.callFunction(p.runFn, c.undefined, compiled.value, ctxArg);
      if (started.error) {
        job.hostError = this.readError(c, started.error);
        started.error.dispose();
        return;
      }
      settle = started.value;
      const runtime = rt;
      for (;;) {
        if (job.stop || job.outcome) break;
        const r = runtime.executePendingJobs();
        if (r.error) {
          job.hostError = this.readError(c, r.error);
          r.error.dispose();
          break;
        }
        if (job.stop || job.outcome) break;
        if (runtime.hasPendingJob()) continue;
        const now = performance.now();
        if (now >= job.deadline) {
          job.timedOut = job.stop = true;
          break;
        }
        const wall = job.nextTimer >= 0 ? Date.now() : 0;
        if (job.nextTimer >= 0 && job.nextTimer <= wall) {
          // One due timer; the loop runs the microtasks it queued before the next.
          if (!this.drive(c, settle, job, [c.newNumber(0), c.newNumber(wall)])) break;
          continue;
        }
        if (job.pending.size > 0 || job.nextTimer >= 0) {
          this.options.onWait?.();
          const reply = await this.pause(job, this.waitReply(job, job.nextTimer >= 0 ? now + (job.nextTimer - wall) : job.deadline));
          job.sliceStart = performance.now();
          if (job.stop) break;
          if (!reply) continue;
          job.pending.delete(reply.callId);
          if (reply.violation) {
            job.violation ??= { type: reply.violation.type, reason: reply.violation.reason };
            job.stop = true;
            break;
          }
          if (!this.drive(c, settle, job, [c.newNumber(reply.callId), reply.ok ? c.true : c.false, c.newString(reply.payload)])) break;
          continue;
        }
        job.neverSettled = true;
        break;
      }
    } catch (err) {
      // A host-side failure (e.g. the host's own stack overflowed): the module is suspect.
      holder.broken = true;
      const e = err as Error;
      job.hostError = { name: e?.name ?? 'Error', message: e?.message ?? String(err), stack: '' };
    } finally {
      job.end = performance.now();
      const dispose = (): void => {
        try {
          settle?.dispose();
          for (let i = handles.length - 1; i >= 0; i--) handles[i].dispose();
          ctx?.dispose();
          rt?.dispose();
        } catch {
          holder.broken = true;
        }
      };
      const maxBytes = Math.ceil(((holder.memoryMb + 16) * MB) / 65536) * 65536;
      if (holder.memory.buffer.byteLength >= maxBytes - 2 * MB) job.memoryExhausted = true;
      const oom = job.memoryExhausted || (job.outcome?.kind === 'fail' && /out of memory/i.test(job.outcome.message));
      const suspect = holder.broken || oom || /out of memory/i.test(job.hostError?.message ?? '') || holder.memory.buffer.byteLength > BASE_BYTES + RECYCLE_GROWTH_BYTES;
      if (suspect) {
        dispose();
        this.recycle(holder);
      } else {
        // The usual case: free the runtime after the result has been posted (see flush), off the caller's wait.
        holder.deferred = () => {
          dispose();
          if (holder.broken) this.recycle(holder);
        };
        this.release(holder);
      }
    }
  }

  /** Calls the prelude's driver (a host reply or a due timer) with `args`, which it disposes; false when that threw. */
  private drive(c: QuickJSContext, driver: QuickJSHandle, job: Job, args: QuickJSHandle[]): boolean {
    const res = c.callFunction(driver, c.undefined, ...args);
    for (const a of args) if (a.alive && a !== c.true && a !== c.false) a.dispose();
    if (res.error) {
      job.hostError = this.readError(c, res.error);
      res.error.dispose();
      return false;
    }
    res.value.dispose();
    return true;
  }

  /** Replaces a module that is broken, out of memory or grown, now, so the next run does not pay for it. */
  private recycle(holder: Holder): void {
    holder.broken = true;
    this.drop(holder);
    if (this.next || this.idle.some((h) => h.memoryMb === holder.memoryMb && !h.broken)) return;
    this.next = this.createHolder(holder.memoryMb);
    this.next.promise.catch(() => undefined);
  }

  /** Finishes the last runs' clean-up (disposal deferred until their results were sent). */
  flush(): void {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const h = this.idle[i];
      const d = h.deferred;
      h.deferred = undefined;
      d?.();
    }
  }

  private internal(job: Job, message: string): ExecutionResult {
    return { kind: 'error', errorType: 'internal', message, stdout: job.out[0].join(''), stderr: job.out[1].join(''), executionTimeMs: round(performance.now() - job.start) };
  }

  private result(job: Job): ExecutionResult {
    const end = job.end ?? performance.now();
    const executionTimeMs = round(end - job.start);
    const stdout = job.out[0].join('');
    const stderr = job.out[1].join('');
    if (job.violation) return { kind: 'security_violation', violationType: job.violation.type, reason: job.violation.reason };
    if (job.cancelled) return { kind: 'error', errorType: 'cancelled', message: 'the execution was cancelled', stdout, stderr, executionTimeMs };
    // A result that came after the deadline (e.g. a host answer that arrived late) is a timeout, not a success.
    if (job.timedOut || (job.outcome?.kind === 'done' && end > job.deadline)) return { kind: 'timeout', elapsedMs: executionTimeMs, partialOutput: stdout };
    const o = job.outcome;
    if (o?.kind === 'done') return { kind: 'success', output: o.json, stdout, stderr, executionTimeMs };
    if (o?.kind === 'oversize') {
      return { kind: 'error', errorType: 'output_limit', message: `the returned value is ${o.length} characters of JSON; the limit is ${OUTPUT_CAP}`, stdout, stderr, executionTimeMs };
    }
    const e = o?.kind === 'fail' ? o : job.hostError;
    if (e && job.memoryExhausted && !job.syntax) {
      // Out of memory often surfaces as a bare `null` exception (no memory left to build an Error).
      return { kind: 'error', errorType: 'memory_limit', message: `out of memory: the execution exceeded its memory limit of ${job.memoryMb} MB`, stdout, stderr, executionTimeMs };
    }
    if (e) {
      const errorType: ErrorType = job.syntax ? 'syntax' : o?.kind === 'fail' ? classifyError(e.name, e.message) : hostErrorType(e.message);
      const pos = guestPosition(e.stack);
      const label = e.name === 'Thrown' ? 'Uncaught' : e.name;
      const message = `${label}: ${e.message}${pos ? ` (line ${pos.line}, column ${pos.column})` : ''}`;
      return { kind: 'error', errorType, message, line: pos?.line, column: pos?.column, stdout, stderr, executionTimeMs };
    }
    if (job.neverSettled) {
      return {
        kind: 'error',
        errorType: 'runtime',
        message: 'the code awaited a promise that can never settle (nothing was pending: no timer and no host call)',
        stdout,
        stderr,
        executionTimeMs,
      };
    }
    return this.internal(job, 'the execution ended without a result');
  }
}

const DENIALS: Record<string, [ViolationType, string]> = {
  Function: ['code_injection', 'the Function constructor is not allowed in the sandbox'],
  eval: ['code_injection', 'eval() is not allowed in the sandbox'],
  XMLHttpRequest: ['network', 'XMLHttpRequest is not available in the sandbox'],
  WebSocket: ['network', 'WebSocket is not available in the sandbox'],
  fetch: ['network', 'fetch() is not allowed: network access is disabled by the sandbox configuration'],
};
for (const m of FS_METHODS) DENIALS[`fs.${m}`] = ['filesystem', `fs.${m}() is not allowed: file-system access is disabled by the sandbox configuration`];

/** What a denial stub stands for (the prelude only installs stubs named here). */
function denial(what: string): [ViolationType, string] {
  return Object.prototype.hasOwnProperty.call(DENIALS, what) ? DENIALS[what] : ['code_injection', 'a denied operation was called'];
}

function requireMessage(hostNames: string[]): string {
  const roots = [...new Set(hostNames.map((n) => n.split('.')[0]))];
  return `require is not available in the sandbox; use the provided globals (${['context', 'console', ...roots].join(', ')})`;
}

const setupCache = new Map<string, string>();
/** The setup's tables in the flat form the prelude walks with indexed loops. */
const LAZY_TABLE = Object.entries(LAZY_GLOBALS);
const CAPTURED_TABLE = Object.entries(CAPTURED).map(([name, path]) => [name, ...path.split('.')]);

/** Frees a prepared context (throws if the module misbehaves). */
function disposePrepared(p: Prepared): void {
  for (let i = p.handles.length - 1; i >= 0; i--) p.handles[i].dispose();
  p.ctx.dispose();
  p.rt.dispose();
}

/** The prelude's settings for a run, as JSON (cached per distinct shape). */
function setupJson(msg: Pick<JobSpec, 'hostNames'> & { limits: Pick<JobSpec['limits'], 'allowFilesystem' | 'allowNetwork'> }): string {
  const { allowFilesystem: fs, allowNetwork: net } = msg.limits;
  const key = `${fs ? 1 : 0}${net ? 1 : 0}${msg.hostNames.join(',')}`;
  let s = setupCache.get(key);
  if (s) return s;
  const setup: Setup = {
    h: msg.hostNames.length > 0 || fs || net,
    d: net ? ['eval', 'XMLHttpRequest', 'WebSocket'] : ['eval', 'XMLHttpRequest', 'WebSocket', 'fetch'],
    f: [...FS_METHODS],
    n: msg.hostNames,
    fs,
    net,
    l: LAZY_TABLE,
    c: CAPTURED_TABLE,
  };
  s = JSON.stringify(setup);
  if (setupCache.size > 100) setupCache.clear();
  setupCache.set(key, s);
  return s;
}

/** Text the guest sent as JSON (it holds a NUL, which the bridge's C strings cannot carry). */
function jsonText(json: string): string {
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === 'string' ? v : '';
  } catch {
    return '';
  }
}

function hostErrorType(message: string): ErrorType {
  const t = classifyError('', message);
  return t === 'runtime' ? 'internal' : t;
}
