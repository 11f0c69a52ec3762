/**
 * The worker-side executor: QuickJS module instances (quickjsInstance.ts), a
 * fresh runtime + context per execution (guestContext.ts), every handle
 * disposed; the run loop drives the guest through timers and host replies.
 * Runs inside a worker thread; never on the caller's thread.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import { GUEST_FILENAME, GUEST_HEAD, GUEST_TAIL } from './runtime';
import { SHM, SLICE_MS, type FromWorker, type HostReplyMessage, type JobSpec } from './protocol';
import { bridge, readError } from './bridge';
import { GLOBAL, canServe, createContext, disposePrepared, installGlobals, runtimeGlobals, settingsKey, type Prepared, type Settings } from './guestContext';
import { codeReach, type CodeReach } from './mentions';
import { BASE_BYTES, MB, RECYCLE_GROWTH_BYTES, compileWasm, createHolder, holderMaxBytes, type Holder } from './quickjsInstance';
import { internalResult, round, runResult, type Job } from './runState';
import { screenCode } from './screen';
import { stripTypes } from './transpile';
import type { ExecutionResult } from './types';

/** Idle module instances a worker keeps for the next runs (more are let go: each holds its WASM memory). */
const IDLE_HOLDERS = 2;

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
  /** The last run's settings and reach: the next context is prepared for them. */
  private last: { settings: Settings; reach: CodeReach } = { settings: { hostNames: [], limits: { allowFilesystem: false, allowNetwork: false } }, reach: { globals: [], intrinsics: [] } };
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

  private newHolder(memoryMb: number): { memoryMb: number; promise: Promise<Holder> } {
    this.wasmModule ??= compileWasm(this.options.wasmPath);
    return createHolder(this.wasmModule, memoryMb);
  }

  private newContext(holder: Holder, intrinsics: CodeReach['intrinsics']): Prepared {
    const hooks = {
      interrupt: (job: Job) => this.interrupt(job),
      bridge: (ctx: QuickJSContext, job: Job, args: QuickJSHandle[]) => bridge(ctx, job, args, this.options.post),
    };
    return createContext(holder, hooks, intrinsics);
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
    if (!next || next.memoryMb !== memoryMb) next = this.newHolder(memoryMb);
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

  /** Lets a module instance go (its memory is freed with it; a broken one is not touched again). */
  private drop(h: Holder): void {
    this.recycled++;
    const i = this.idle.indexOf(h);
    if (i >= 0) this.idle.splice(i, 1);
    const d = h.deferred;
    h.deferred = undefined;
    if (!h.broken) d?.();
    if (this.prepared?.holder === h) {
      const p = this.prepared;
      this.prepared = undefined;
      if (h.broken) return;
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
      if (this.isCancelled(msg.id)) return runResult(job);
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
      const reach = codeReach(code, runtimeGlobals(msg));
      const got = this.acquire(msg.limits.memoryMb);
      const holder = got instanceof Promise ? await this.pause(job, got) : got;
      await this.execute(holder, job, code, msg, reach);
      return runResult(job);
    } catch (err) {
      const e = err as Error;
      return internalResult(job, `sandbox worker failure: ${e?.message ?? String(err)}`);
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
   * Called when the worker goes idle: sets up the next run's context now, for
   * the last run's settings and reach, so a lone execution does not wait for it
   * (runtime, context, prelude and globals are most of a small run's cost).
   */
  prepare(): void {
    this.flush();
    const holder = this.idle[this.idle.length - 1];
    if (this.prepared || Atomics.load(this.i32, SHM.RUNNING) !== 0 || !holder || holder.broken) return;
    try {
      const p = (this.prepared = this.newContext(holder, this.last.reach.intrinsics));
      installGlobals(p, this.last.settings, this.last.reach.globals);
      Atomics.store(this.i32, SHM.PREPARED, 1);
    } catch {
      holder.broken = true;
    }
  }

  private async execute(holder: Holder, job: Job, code: string, msg: JobSpec, reach: CodeReach): Promise<void> {
    let rt: QuickJSRuntime | undefined;
    let ctx: QuickJSContext | undefined;
    const handles: QuickJSHandle[] = [];
    let settle: QuickJSHandle | undefined;
    const memoryAtStart = holder.memory.buffer.byteLength;
    try {
      // A context prepared while the worker was idle, else a new one. One from another
      // module belongs to a module already discarded (limit change or recycling): dropped
      // with it. One that cannot serve this run (never used: nothing guest-controlled ran
      // in it) is freed.
      this.last = { settings: { hostNames: msg.hostNames, limits: { allowFilesystem: msg.limits.allowFilesystem, allowNetwork: msg.limits.allowNetwork } }, reach };
      // A context prepared in another instance stays there for the run that takes that one.
      let p = this.prepared?.holder === holder ? this.prepared : undefined;
      if (p) this.prepared = undefined;
      if (p && !canServe(p, settingsKey(msg), reach)) {
        disposePrepared(p);
        p = undefined;
      }
      p ??= this.newContext(holder, reach.intrinsics);
      installGlobals(p, msg, reach.globals);
      rt = p.rt;
      ctx = p.ctx;
      handles.push(...p.handles);
      p.ref.job = job;
      rt.setMemoryLimit(msg.limits.memoryMb * MB);
      rt.setMaxStackSize(msg.limits.stackKb * 1024);
      const c = ctx;
      const compiled = c.evalCode(GUEST_HEAD + code + GUEST_TAIL, GUEST_FILENAME, GLOBAL);
      if (compiled.error) {
        const e = readError(c, compiled.error);
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
        job.hostError = readError(c, started.error);
        started.error.dispose();
        return;
      }
      settle = started.value;
      const runtime = rt;
      for (;;) {
        if (job.stop || job.outcome) break;
        const r = runtime.executePendingJobs();
        if (r.error) {
          job.hostError = readError(c, r.error);
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
      const maxBytes = holderMaxBytes(holder);
      if (holder.memory.buffer.byteLength >= maxBytes - 2 * MB) job.memoryExhausted = true;
      const oom = job.memoryExhausted || (job.outcome?.kind === 'fail' && /out of memory/i.test(job.outcome.message));
      // A run that grew the module's memory is not freed either: when the memory grew inside a
      // host call (the bridge reading a 3 MB result), QuickJS objects were left alive yet
      // unreachable and JS_FreeRuntime aborted; measured on every such run from a fresh module.
      const grew = holder.memory.buffer.byteLength > memoryAtStart;
      const suspect = holder.broken || oom || grew || /out of memory/i.test(job.hostError?.message ?? '') || holder.memory.buffer.byteLength > BASE_BYTES + RECYCLE_GROWTH_BYTES;
      if (suspect) {
        // The module goes, and its memory with it: nothing to free. Freeing the runtime would be
        // worse than useless: after an out-of-memory (even one the guest caught) JS_FreeRuntime
        // finds live objects and aborts the module (`list_empty(&rt->gc_obj_list)`,
        // quickjs-emscripten#257), as it does after the host's stack overflowed.
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
      job.hostError = readError(c, res.error);
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
    this.next = this.newHolder(holder.memoryMb);
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

}
