/**
 * The Sandbox: a pool of worker threads running QuickJS (workerSlot.ts), with
 * a bounded queue, a backstop that terminates a worker stuck past its deadline
 * and replaces it, host calls served on this thread (hostCalls.ts), and a log
 * of past runs (executionLog.ts).
 */
import * as os from 'node:os';
import { type Disposable } from '../common/disposable';
import { silentLogger, type Logger } from '../common/logger';
import { withResolvedPaths } from './allowedPaths';
import { PRESETS, validateConfig } from './config';
import { ExecutionLog } from './executionLog';
import { checkHostApi, closeHostCalls, enqueueCall, openHostCalls, type HostCalls } from './hostCalls';
import { SHM, type FromWorker, type HostCallMessage, type JobSpec, type ToWorker } from './protocol';
import { MAX_CODE_BYTES } from './screen';
import type { ExecuteOptions, ExecutionContext, ExecutionRecord, ExecutionResult, SandboxConfig, SandboxEngine, SandboxMetrics, SandboxOptions } from './types';
import { better, compileWasm, defaultWorkerPath, load, setRef, spawnWorker, type Job, type Slot } from './workerSlot';

export { HOST_CALLS } from './hostCalls';
export { defaultWorkerPath } from './workerSlot';

/**
 * Extra time a worker gets past a job's deadline before it is terminated and
 * replaced. The interrupt handler stops a JS loop within about 1 ms, so this
 * only ever ends a run stuck in a native built-in (which is past its deadline,
 * a timeout either way); a warm standby takes the worker's place at once.
 * Grace + the watchdog's period bound the overshoot of such a run (was 100 +
 * 10 ms: 114 ms measured; the issue asks p99 under 50 ms).
 */
export const BACKSTOP_GRACE_MS = 25;
const WATCHDOG_INTERVAL_MS = 5;
/**
 * Warm standby workers kept ready to replace one killed by the backstop. Two,
 * because a worker takes 100-300 ms to start on a loaded machine, longer than
 * a run that the backstop ends (deadline + grace), so back-to-back kills would
 * otherwise catch the single standby still starting.
 */
const STANDBY_WORKERS = 2;

export class Sandbox implements SandboxEngine {
  private cfg: SandboxConfig;
  private readonly poolSize: number;
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private readonly workerPath: string;
  private readonly resultBatchMaxAgeMs?: number;
  private readonly log: Logger;
  private readonly slots: (Slot | undefined)[] = [];
  private readonly queue: Job[] = [];
  private active = 0;
  private nextId = 1;
  private closed = false;
  private watchdog?: NodeJS.Timeout;
  private wasmModule?: WebAssembly.Module;
  private readonly spares: Slot[] = [];
  private readonly history = new ExecutionLog();
  private restarts = 0;

  readonly onDidExecute: (listener: (record: ExecutionRecord) => void) => Disposable = this.history.onDidExecute;

  constructor(options: SandboxOptions = {}) {
    this.cfg = acceptConfig(options.config ?? PRESETS.default);
    this.poolSize = Math.max(1, Math.floor(options.workers ?? Math.min(2, os.cpus().length || 1)));
    this.maxConcurrent = Math.max(1, Math.floor(options.maxConcurrent ?? 20));
    this.maxQueued = Math.max(0, Math.floor(options.maxQueued ?? 200));
    this.workerPath = options.workerPath ?? defaultWorkerPath();
    this.resultBatchMaxAgeMs = options.resultBatchMaxAgeMs;
    this.log = options.logger ?? silentLogger;
  }

  get config(): SandboxConfig {
    return { ...this.cfg, allowedPaths: [...this.cfg.allowedPaths], allowedHosts: [...this.cfg.allowedHosts] };
  }

  /** Validates the config and resolves its allowed paths (throws SandboxConfigError for a refused one). */
  setConfig(config: SandboxConfig): void {
    this.cfg = acceptConfig(config);
  }

  /** Starts the workers now instead of on the first execution. */
  async warmUp(): Promise<void> {
    for (let i = 0; i < this.poolSize; i++) this.slot(i);
    this.startSpare();
    await this.execute('return 1', { task: 'warm-up' });
  }

  execute(code: string, context: ExecutionContext, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    const startedAt = Date.now();
    let config: SandboxConfig;
    try {
      config = options.config ? acceptConfig(options.config) : this.cfg;
    } catch (err) {
      return Promise.resolve(this.finishEarly(startedAt, this.internalError((err as Error).message)));
    }
    if (this.closed) return Promise.resolve(this.finishEarly(startedAt, this.internalError('the sandbox is closed')));
    if (typeof code !== 'string') return Promise.resolve(this.finishEarly(startedAt, this.internalError('code must be a string')));
    const bytes = Buffer.byteLength(code, 'utf8');
    if (bytes > MAX_CODE_BYTES) {
      return Promise.resolve(
        this.finishEarly(startedAt, { kind: 'security_violation', violationType: 'resource_exhaustion', reason: `the code is ${bytes} bytes; the limit is ${MAX_CODE_BYTES} bytes (100 KB)` }),
      );
    }
    const hostApi = options.hostApi ?? {};
    const hostError = checkHostApi(hostApi);
    if (hostError) return Promise.resolve(this.finishEarly(startedAt, this.internalError(hostError)));
    let contextJson: string;
    try {
      contextJson = JSON.stringify({ task: String(context?.task ?? ''), input: context?.input ?? null });
    } catch (err) {
      return Promise.resolve(this.finishEarly(startedAt, this.internalError(`context.input must be JSON-serialisable: ${(err as Error).message}`)));
    }
    if (options.signal?.aborted) return Promise.resolve(this.finishEarly(startedAt, this.cancelled()));
    if (this.active >= this.maxConcurrent && this.queue.length >= this.maxQueued) {
      return Promise.resolve(
        this.finishEarly(startedAt, this.internalError(`sandbox busy: ${this.active} executions running and ${this.queue.length} queued (limits ${this.maxConcurrent} and ${this.maxQueued}); try again later`)),
      );
    }
    return new Promise<ExecutionResult>((resolve) => {
      const job: Job = {
        id: this.nextId++,
        code,
        language: options.language === 'typescript' ? 'typescript' : 'javascript',
        context: { task: String(context?.task ?? ''), input: context?.input },
        config,
        hostApi,
        resolve,
        startedAt,
        settled: false,
        signal: options.signal,
        contextJson,
      };
      if (options.signal) {
        job.onAbort = () => this.cancel(job);
        options.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      if (this.active < this.maxConcurrent) this.dispatch(job);
      else this.queue.push(job);
    });
  }

  metrics(): SandboxMetrics {
    return {
      ...this.history.stats(),
      active: this.active,
      queued: this.queue.length,
      workers: this.slots.filter((s) => s && !s.dead).length,
      workerRestarts: this.restarts,
    };
  }

  recent(): ExecutionRecord[] {
    return this.history.recent();
  }

  /** Test hook: makes one worker die abruptly (as if its WASM module had aborted). */
  crashWorkerForTesting(index = 0): void {
    const s = this.slots[index];
    if (s && !s.dead) s.worker.postMessage({ t: 'crash' } satisfies ToWorker);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    for (const job of this.queue.splice(0)) this.finish(job, this.cancelled('the sandbox was closed'));
    const terminations: Promise<number>[] = [];
    for (const s of this.slots) {
      if (!s) continue;
      s.dead = true;
      for (const job of s.jobs.values()) this.finish(job, this.cancelled('the sandbox was closed'));
      s.jobs.clear();
      terminations.push(s.worker.terminate());
    }
    this.slots.length = 0;
    for (const spare of this.spares.splice(0)) {
      spare.dead = true;
      terminations.push(spare.worker.terminate());
    }
    await Promise.allSettled(terminations);
  }

  dispose(): void {
    void this.close();
    this.history.dispose();
  }

  // ---- internals ---------------------------------------------------------

  private internalError(message: string): ExecutionResult {
    return { kind: 'error', errorType: 'internal', message, stdout: '', stderr: '', executionTimeMs: 0 };
  }

  private cancelled(message = 'the execution was cancelled'): ExecutionResult {
    return { kind: 'error', errorType: 'cancelled', message, stdout: '', stderr: '', executionTimeMs: 0 };
  }

  private loadWasm(): WebAssembly.Module | undefined {
    this.wasmModule ??= compileWasm(this.workerPath, this.log);
    return this.wasmModule;
  }

  private slot(index: number): Slot {
    const existing = this.slots[index];
    if (existing && !existing.dead) return existing;
    const s = this.spawn(index);
    this.slots[index] = s;
    return s;
  }

  /** Keeps warm standby workers, so a worker killed by the backstop is replaced at once. */
  private startSpare(): void {
    while (!this.closed && this.spares.length < STANDBY_WORKERS) {
      try {
        this.spares.push(this.spawn(-1));
      } catch (err) {
        this.log.warn(`sandbox: could not start a standby worker: ${(err as Error).message}`);
        return;
      }
    }
  }

  /** The standby to swap in: a ready one first (the oldest is the likeliest to be ready). */
  private takeSpare(): Slot | undefined {
    const i = this.spares.findIndex((x) => x.ready);
    return this.spares.splice(i >= 0 ? i : 0, 1)[0];
  }

  private spawn(index: number): Slot {
    return spawnWorker(index, {
      workerPath: this.workerPath,
      wasmModule: this.loadWasm(),
      warmMemoryMb: this.cfg.maxMemoryMb,
      resultBatchMaxAgeMs: this.resultBatchMaxAgeMs,
      onMessage: (s, m) => this.onMessage(s, m),
      onCrash: (s, why) => {
        this.log.warn(`sandbox worker ${s.index} ${why}`);
        this.replace(s, 'crashed');
      },
    });
  }

  private pickSlot(): Slot {
    // Prefer the least-loaded live (warm) worker; start another only when every live one is busy
    // (runs that wait do not make a worker busy: CPU-bound runs get a worker each, up to the pool size).
    let best: Slot | undefined;
    let free = -1;
    for (let i = 0; i < this.poolSize; i++) {
      const existing = this.slots[i];
      if (!existing || existing.dead) {
        if (free < 0) free = i;
        continue;
      }
      // Ties go to the lowest index.
      if (!best || better(existing, best)) best = existing;
    }
    if (best && (load(best) <= 0 || free < 0)) return best;
    return this.slot(free >= 0 ? free : 0);
  }

  private dispatch(job: Job): void {
    this.active++;
    let s: Slot;
    try {
      s = this.pickSlot();
    } catch (err) {
      this.finish(job, this.internalError((err as Error).message));
      return;
    }
    this.send(s, job);
  }

  private send(s: Slot, job: Job): void {
    job.slot = s;
    s.jobs.set(job.id, job);
    setRef(s);
    const c = job.config;
    const spec: JobSpec = {
      id: job.id,
      code: job.code,
      language: job.language,
      contextJson: job.contextJson,
      hostNames: Object.keys(job.hostApi),
      limits: {
        timeMs: c.maxExecutionTimeMs,
        memoryMb: c.maxMemoryMb,
        cpuPercent: c.maxCpuPercent,
        stackKb: c.maxStackKb,
        allowNetwork: c.allowNetwork,
        allowFilesystem: c.allowFilesystem,
      },
    };
    // Jobs sent to one worker in the same turn (e.g. when a batch of results frees several places) share a message.
    if (s.outbox) s.outbox.push(spec);
    else {
      s.outbox = [spec];
      queueMicrotask(() => {
        const jobs = s.outbox ?? [];
        s.outbox = undefined;
        // A worker replaced meanwhile: its jobs (still in s.jobs) were moved or ended by replace().
        if (!s.dead) s.worker.postMessage({ t: 'run', jobs } satisfies ToWorker);
      });
    }
    this.startWatchdog();
  }

  private onMessage(s: Slot, m: FromWorker): void {
    if (m.t === 'ready') {
      s.ready = true;
      return;
    }
    if (m.t === 'done') {
      for (const { id, result } of m.results) {
        const job = s.jobs.get(id);
        if (!job) continue;
        s.jobs.delete(id);
        this.finish(job, result);
      }
      s.idleSince = performance.now();
      setRef(s);
      return;
    }
    const job = s.jobs.get(m.id);
    if (m.t === 'call') {
      if (!job || job.settled) {
        this.reply(s, m, false, 'the execution has ended');
        return;
      }
      enqueueCall(job, this.hostCalls(s, job), m, (call, ok, payload, violation) => this.reply(s, call, ok, payload, violation));
    }
  }

  private reply(s: Slot, m: HostCallMessage, ok: boolean, payload: string, violation?: { type: NonNullable<Job['violation']>['violationType']; reason: string }): void {
    if (s.dead) return;
    s.worker.postMessage({ t: 'reply', id: m.id, callId: m.callId, ok, payload, violation } satisfies ToWorker);
  }

  /** The run's host-call state, made on its first call (the worker published the run's start time before it could call). */
  private hostCalls(s: Slot, job: Job): HostCalls {
    const startedAt = Atomics.load(s.i32, SHM.RUNNING) === job.id && s.startedAt[0] >= job.startedAt ? s.startedAt[0] : Date.now();
    return (job.host ??= openHostCalls(job, startedAt));
  }

  private cancel(job: Job): void {
    if (job.settled) return;
    const qi = this.queue.indexOf(job);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      this.finish(job, this.cancelled(), false);
      return;
    }
    const s = job.slot;
    if (s && !s.dead) {
      Atomics.store(s.i32, SHM.CANCEL_BASE + (job.id % SHM.CANCEL_SLOTS), job.id);
      Atomics.notify(s.i32, SHM.SLEEP);
      s.worker.postMessage({ t: 'cancel', id: job.id } satisfies ToWorker);
    }
    // The caller gets its answer now; the worker's late result is ignored.
    this.finish(job, this.cancelled());
  }

  private startWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(() => this.checkDeadlines(), WATCHDOG_INTERVAL_MS);
    this.watchdog.unref();
  }

  /** The backstop: a worker still running a job past deadline + grace is terminated and replaced. */
  private checkDeadlines(): void {
    let busy = false;
    const now = Date.now();
    for (const s of this.slots) {
      if (!s || s.dead || s.jobs.size === 0) continue;
      busy = true;
      const id = Atomics.load(s.i32, SHM.RUNNING);
      if (!id) continue;
      const job = s.jobs.get(id);
      if (!job) continue;
      const started = s.startedAt[0];
      // The worker switched runs while this was read (it clears RUNNING, writes the start time, sets RUNNING).
      if (Atomics.load(s.i32, SHM.RUNNING) !== id) continue;
      // A start time older than the job itself belongs to an earlier job: not published yet.
      if (started < job.startedAt) continue;
      const elapsed = now - started;
      if (elapsed > job.config.maxExecutionTimeMs + BACKSTOP_GRACE_MS) {
        this.log.warn(`sandbox: job ${id} ignored its deadline (${elapsed} ms); terminating worker ${s.index}`);
        // Left in s.jobs (settled): replace() needs it to tell which of the others had run.
        this.finish(job, { kind: 'timeout', elapsedMs: elapsed, partialOutput: '' });
        this.replace(s, 'deadline');
      }
    }
    if (!busy && this.watchdog) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
    }
  }

  /** Discards a dead or stuck worker; its unfinished jobs fail (started) or move to a new worker (not started). */
  private replace(s: Slot, why: 'crashed' | 'deadline'): void {
    if (s.dead || this.closed) return;
    const si = this.spares.indexOf(s);
    if (si >= 0) {
      s.dead = true;
      this.spares.splice(si, 1);
      return;
    }
    s.dead = true;
    this.restarts++;
    const running = Atomics.load(s.i32, SHM.RUNNING);
    const lastStarted = Atomics.load(s.i32, SHM.LAST_STARTED);
    void s.worker.terminate().catch(() => undefined);
    const orphans = [...s.jobs.values()];
    s.jobs.clear();
    if (this.slots[s.index] === s) this.slots[s.index] = undefined;
    // Swap in the warm standby (or start a replacement now), then start a new standby.
    const spare = this.takeSpare();
    if (spare && !spare.dead) {
      spare.index = s.index;
      this.slots[s.index] = spare;
    } else {
      try {
        this.slot(s.index);
      } catch (err) {
        this.log.warn(`sandbox: could not start a replacement worker: ${(err as Error).message}`);
      }
    }
    this.startSpare();
    // A worker runs its jobs in the order they were sent, so every job up to the one it started
    // last has run: such a job is not run again (its host calls may have had effects), and one
    // that finished had its result lost with the worker (results can wait to be sent together).
    let started = orphans.some((j) => j.id === lastStarted);
    const verb = why === 'crashed' ? 'crashed' : 'was stopped';
    for (const job of orphans) {
      const hadStarted = started;
      if (job.id === lastStarted) started = false;
      if (job.settled) continue;
      // A run that shared the worker with the one that ran away (or crashed it) and has made no host
      // call has had no effect outside its own QuickJS: it runs again, once, on another worker.
      const rerun = job.id !== running && !job.host && !job.retried;
      if ((job.id === running || hadStarted) && !rerun) {
        const when = job.id === running ? 'during this execution' : 'while this execution was in progress or sending its result';
        const retry = job.id === running ? '' : ' (because of another run on the same worker); it did not fail by itself and may be run again';
        this.finish(job, { kind: 'error', errorType: 'internal', message: `the sandbox worker ${verb} ${when} and was replaced${retry}`, stdout: '', stderr: '', executionTimeMs: Date.now() - job.startedAt });
        continue;
      }
      // Not started, or safe to start again: run it on another worker.
      if (hadStarted) job.retried = true;
      this.active--;
      this.dispatch(job);
    }
  }

  private finishEarly(startedAt: number, result: ExecutionResult): ExecutionResult {
    this.history.record(result, startedAt);
    return result;
  }

  private finish(job: Job, result: ExecutionResult, wasActive = true): void {
    if (job.settled) return;
    job.settled = true;
    if (wasActive) this.active--;
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    const final = job.violation ?? result;
    if (job.host) closeHostCalls(job.host);
    this.history.record(final, job.startedAt);
    job.resolve(final);
    this.pump();
  }

  private pump(): void {
    while (this.active < this.maxConcurrent && this.queue.length > 0) {
      const next = this.queue.shift();
      if (next) this.dispatch(next);
    }
  }
}

/** A config as the Sandbox holds it: validated, allowed paths resolved and checked. */
function acceptConfig(config: SandboxConfig): SandboxConfig {
  return withResolvedPaths(validateConfig(config));
}

export type { Disposable };
