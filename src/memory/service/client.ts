/**
 * The memory service's client: implements MemoryStoreApi by sending each call to a worker
 * thread that owns the store (worker.ts, messages in protocol.ts), so no store work runs
 * on the caller's thread (in VS Code, the extension host's, shared with every extension).
 *
 * The client's process holds the folder's lock (the worker opens the store with
 * `access: 'held'`, or read-only when another process holds it). A worker that crashes
 * or runs out of memory is restarted: the calls in flight fail with a MemoryError
 * 'unavailable' saying so, later calls wait for the new worker. Writes are acknowledged
 * only once journaled (fdatasync), so a crash loses none that was acknowledged.
 *
 * A read-only client opened with `takeOver` keeps trying the lock and, once the writer
 * releases it (or dies), swaps its following worker for a writing one: it becomes the writer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ResourceLimits } from 'node:worker_threads';
import type { Logger } from '../../common/logger';
import { silentLogger } from '../../common/logger';
import { Emitter } from '../../common/disposable';
import type { Disposable } from '../../common/disposable';
import type { MemoryStoreApi, OpenOptions, RetentionPolicy, StoreChange } from '../types';
import { ImportCancelledError, ImportFileError, MemoryError } from '../errors';
import { acquireLock, lockForOpen, releaseLock } from '../lock';
import type { Lock } from '../lock';
import { RetentionPolicySchema, parseOrThrow } from '../schemas';
import type { CallArgs, CallName, CallResult, FromWorker, ToWorker, WireError, WorkerInit } from './protocol';
import type { ExchangeProgressOptions } from '../types';

export interface ServiceOptions extends OpenOptions {
  /** The bundled worker (default: memory-worker.js next to this bundle, else the repo's dist/). */
  workerPath?: string;
  /** V8 limits of the worker (it is restarted when it exceeds them). */
  resourceLimits?: ResourceLimits;
  /** Restarts allowed within a minute before the service gives up (default 3). */
  maxRestartsPerMinute?: number;
  /**
   * Opened read-only because another process holds the lock (`onLocked: 'readonly'`): try the
   * lock every TAKEOVER_POLL_MS and become the writer once that process releases it or dies.
   */
  takeOver?: boolean;
}

/** How often a read-only client with `takeOver` tries the writer's lock. */
export const TAKEOVER_POLL_MS = 1000;

/** Default location of the bundled worker: next to this bundle (dist/), else the repo's dist/. */
export function defaultMemoryWorkerPath(): string {
  const beside = path.join(__dirname, 'memory-worker.js');
  if (fs.existsSync(beside)) return beside;
  return path.resolve(__dirname, '..', '..', '..', 'dist', 'memory-worker.js');
}

interface Pending {
  method: CallName;
  onProgress?: (done: number, total?: number) => void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one map holds calls of every result type
  resolve(value: any): void;
  reject(error: Error): void;
}

function fromWire(e: WireError): Error {
  if (e.invalid) return new ImportFileError(e.message, e.invalid);
  if (e.code === 'cancelled') return new ImportCancelledError(e.message);
  return e.code ? new MemoryError(e.code, e.message) : new Error(e.message);
}

export class MemoryClient implements MemoryStoreApi {
  private readonly emitter = new Emitter<StoreChange>();
  readonly onDidChange: (listener: (change: StoreChange) => void) => Disposable = this.emitter.event;
  private readonly accessEmitter = new Emitter<{ readOnly: boolean }>();
  /** Fires when a read-only client took over as the writer (see `takeOver`). */
  readonly onDidChangeAccess: (listener: (access: { readOnly: boolean }) => void) => Disposable = this.accessEmitter.event;
  private takeOverTimer?: NodeJS.Timeout;
  private tryingLock = false;
  /** The worker being stopped on purpose (its exit is no crash). */
  private stopping?: Worker;
  private worker?: Worker;
  private ready: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closing?: Promise<void>;
  private closed = false;
  private crashes: number[] = [];
  private lockLost?: string;
  private retention?: RetentionPolicy;
  private readonly decoder = new TextDecoder();

  private constructor(
    readonly dir: string,
    private readOnlyNow: boolean,
    private lock: Lock | undefined,
    private readonly options: ServiceOptions,
    private readonly logger: Logger,
  ) {
    this.retention = options.retention;
    this.ready = Promise.resolve();
  }

  /** Opens the store in a worker thread. Errors are those of MemoryStore.open (locked, corrupt, invalid). */
  static async open(options: ServiceOptions): Promise<MemoryClient> {
    const client = await MemoryClient.begin(options);
    await client.whenReady();
    return client;
  }

  /**
   * Takes the lock and starts the worker without waiting for the store to open (at 100k
   * episodes the worker loads the database and index for seconds): a server can answer at
   * once, and calls made meanwhile wait for the store. Errors of the lock and the options are
   * thrown here; the store's own (corrupt, unreadable) reject whenReady() and every call, and
   * the lock is released.
   */
  static async begin(options: ServiceOptions): Promise<MemoryClient> {
    if (!options || typeof options.dir !== 'string' || !options.dir) throw new MemoryError('invalid', 'OpenOptions.dir is required');
    if (options.retention) parseOrThrow(RetentionPolicySchema, options.retention, 'retention policy');
    const logger = options.logger ?? silentLogger;
    const dir = path.resolve(options.dir);
    await fs.promises.mkdir(dir, { recursive: true });
    const opened: { client?: MemoryClient } = {};
    const { lock, readOnly } = await lockForOpen(dir, options, logger, (err) => opened.client?.loseLock(err.message));
    const client = new MemoryClient(dir, readOnly, lock, options, logger);
    opened.client = client;
    client.ready = client.start().then(
      () => {
        if (readOnly && options.takeOver && (options.access ?? 'lock') === 'lock') client.watchLock();
      },
      async (e: unknown) => {
        // Every call from now on rejects with this error (they wait on `ready`).
        client.lock = undefined;
        await lock?.release().catch(() => undefined);
        throw e;
      },
    );
    client.ready.catch(() => undefined); // the caller sees it through whenReady() or its calls
    return client;
  }

  /** False once this client writes (from the start, or after taking over from another process). */
  get readOnly(): boolean {
    return this.readOnlyNow;
  }

  // -------------------------------------------------------------------------
  // Taking over from a writer in another process
  // -------------------------------------------------------------------------

  private watchLock(): void {
    this.takeOverTimer = setInterval(() => void this.tryTakeOver(), TAKEOVER_POLL_MS);
    this.takeOverTimer.unref();
  }

  private async tryTakeOver(): Promise<void> {
    if (this.tryingLock || this.closing || this.closed || !this.readOnlyNow) return;
    this.tryingLock = true;
    let lock: Lock;
    try {
      const description = this.options.holderDescription ?? `memory store (${process.title} ${process.pid})`;
      lock = await acquireLock(this.dir, description, this.logger, (err) => {
        this.logger.error(`memory: the lock on ${this.dir} was compromised: ${err.message}; the store stops accepting writes`);
        this.loseLock(err.message);
      }, this.options.lockStaleMs);
    } catch (e) {
      this.tryingLock = false;
      if (!(e instanceof MemoryError && e.code === 'locked')) this.logger.warn(`memory: trying the lock on ${this.dir}: ${(e as Error).message}`);
      return;
    }
    clearInterval(this.takeOverTimer);
    if (this.closing || this.closed) {
      await releaseLock(lock, this.logger);
      return;
    }
    const becoming = this.becomeWriter(lock);
    this.ready = becoming.catch((e: unknown) => this.logger.error(`memory: taking over ${this.dir} as the writer failed; staying read-only: ${(e as Error).message}`));
    await this.ready;
    this.tryingLock = false;
  }

  /**
   * Lets the read-only worker answer what it was asked, stops it and starts a writing one on
   * the files as the other process left them (its snapshot and journal, replayed). Calls made
   * meanwhile wait for the new worker. Views reload everything (an 'imported' change).
   */
  private async becomeWriter(lock: Lock): Promise<void> {
    await this.drained();
    await this.stopWorker();
    try {
      await this.start(false);
    } catch (e) {
      // Stay the follower the view was (the error is logged by tryTakeOver).
      await releaseLock(lock, this.logger);
      await this.start(true);
      throw e;
    }
    this.lock = lock;
    this.readOnlyNow = false;
    this.logger.info(`memory: the other process released ${this.dir}; this one now writes the store`);
    this.accessEmitter.fire({ readOnly: false });
    this.emitter.fire({ type: 'imported' });
  }

  /** Resolves once no call is in flight. */
  private async drained(): Promise<void> {
    while (this.pending.size > 0) await new Promise((r) => setTimeout(r, 10));
  }

  // -------------------------------------------------------------------------
  // The worker's life
  // -------------------------------------------------------------------------

  /** Starts a worker; resolves once its store is open. */
  private start(readOnly = this.readOnlyNow): Promise<void> {
    const workerPath = this.options.workerPath ?? defaultMemoryWorkerPath();
    if (!fs.existsSync(workerPath)) return Promise.reject(new MemoryError('invalid', `The memory worker is missing at ${workerPath} (run \`npm run build\`)`));
    const { logger: _logger, onLocked: _onLocked, access: _access, workerPath: _wp, resourceLimits, maxRestartsPerMinute: _mr, ...open } = this.options;
    const { takeOver: _takeOver, ...openOptions } = open;
    const init: WorkerInit = { options: { ...openOptions, dir: this.dir, retention: this.retention }, readOnly, ...(this.lockLost ? { lockLost: this.lockLost } : {}) };
    const worker = new Worker(workerPath, {
      workerData: init,
      ...(resourceLimits ? { resourceLimits } : {}),
      // A self-contained bundle: it must not inherit the host's loaders and flags (e.g. --import tsx, --inspect).
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    this.worker = worker;
    let failure: Error | undefined;
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      worker.on('message', (m: FromWorker) => {
        if (m.t === 'ready') {
          opened = true;
          this.updateRef();
          resolve();
        } else if (m.t === 'openFailed') {
          opened = true;
          reject(fromWire(m.error));
          this.stopping = worker; // its end is no crash to restart from: the store cannot open
          void worker.terminate();
        } else this.onMessage(m);
      });
      worker.on('error', (err) => {
        failure = err;
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (!opened) {
          reject(new MemoryError('unavailable', `The memory worker stopped while opening ${this.dir}: ${this.describeExit(code, failure)}`));
          return;
        }
        if (!this.closing && this.stopping !== worker) this.onCrash(code, failure);
      });
    });
  }

  /** Closes the worker's store (a writer's final snapshot) and ends the worker. */
  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.stopping = worker;
    await new Promise<void>((resolve) => {
      const id = ++this.nextId;
      worker.ref();
      worker.on('exit', () => resolve());
      worker.on('message', (m: FromWorker) => {
        if (m.t === 'closed' && m.id === id) resolve();
      });
      worker.postMessage({ t: 'close', id } satisfies ToWorker);
    });
    await worker.terminate();
    if (this.worker === worker) this.worker = undefined;
  }

  private describeExit(code: number, err: Error | undefined): string {
    if (err && (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') return 'it ran out of memory';
    if (err) return `it failed (${err.message})`;
    return `it exited with code ${code}`;
  }

  /** Fails the calls in flight with a clear error and starts a new worker (within the restart budget). */
  private onCrash(code: number, err: Error | undefined): void {
    const why = this.describeExit(code, err);
    this.logger.error(`memory: the store's worker stopped (${why}); restarting it`);
    const inFlight = [...this.pending.values()];
    this.pending.clear();
    for (const p of inFlight) {
      p.reject(
        new MemoryError(
          'unavailable',
          `The memory worker stopped while serving ${p.method} (${why}). It is being restarted; the call may or may not have taken effect, so check before repeating a write. Every write acknowledged before it stopped is kept.`,
        ),
      );
    }
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < 60_000);
    this.crashes.push(now);
    if (this.crashes.length > (this.options.maxRestartsPerMinute ?? 3)) {
      const e = new MemoryError('unavailable', `The memory worker stopped ${this.crashes.length} times within a minute (last: ${why}); the store is not served any more. Reopen it (reload the window or restart the server).`);
      this.logger.error(`memory: ${e.message}`);
      this.ready = Promise.reject(e);
      this.ready.catch(() => undefined);
      return;
    }
    this.ready = this.start();
    this.ready.catch((e: unknown) => this.logger.error(`memory: the restarted worker could not open the store: ${(e as Error).message}`));
  }

  private onMessage(m: FromWorker): void {
    switch (m.t) {
      case 'result':
      case 'resultJson':
      case 'error': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        this.updateRef();
        if (m.t === 'error') p.reject(fromWire(m.error));
        else if (m.t === 'result') p.resolve(m.value);
        else {
          try {
            p.resolve(JSON.parse(this.decoder.decode(m.bytes)));
          } catch (e) {
            p.reject(e as Error);
          }
        }
        return;
      }
      case 'change':
        this.emitter.fire(m.change);
        return;
      case 'progress':
        this.pending.get(m.id)?.onProgress?.(m.done, m.total);
        return;
      case 'log':
        this.logger[m.level](m.message);
        return;
      default:
        return;
    }
  }

  /** The worker keeps the process alive only while calls are in flight (like a pending socket would). */
  private updateRef(): void {
    if (!this.worker) return;
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private loseLock(message: string): void {
    this.lockLost = message;
    this.worker?.postMessage({ t: 'lockLost', message } satisfies ToWorker);
  }

  private call<M extends CallName>(method: M, ...args: CallArgs<M>): Promise<CallResult<M>> {
    return this.send(method, args);
  }

  /**
   * An import or export: its callbacks stay here. onProgress is called on the worker's
   * progress messages; the signal's abort sends a cancel message.
   */
  private exchange<M extends 'importFile' | 'exportFile'>(method: M, file: string, options: ExchangeProgressOptions & Record<string, unknown> = {}): Promise<CallResult<M>> {
    const { onProgress, signal, ...rest } = options;
    if (signal?.aborted) return Promise.reject(new ImportCancelledError(`The ${method === 'importFile' ? 'import' : 'export'} was cancelled before it started; nothing was changed.`));
    let id = 0;
    const cancel = (): void => {
      if (id) this.worker?.postMessage({ t: 'cancel', id } satisfies ToWorker);
    };
    signal?.addEventListener('abort', cancel, { once: true });
    return this.send<M>(method, [file, rest], onProgress, (sent) => {
      id = sent;
      if (signal?.aborted) cancel();
    }).finally(() => signal?.removeEventListener('abort', cancel));
  }

  private send<M extends CallName>(method: M, args: unknown[], onProgress?: Pending['onProgress'], onSent?: (id: number) => void): Promise<CallResult<M>> {
    if (this.closed || this.closing) return Promise.reject(new MemoryError('closed', 'The memory store is closed'));
    return this.ready.then(
      () =>
        new Promise<CallResult<M>>((resolve, reject) => {
          const worker = this.worker;
          if (!worker) {
            reject(new MemoryError('unavailable', `The memory worker is not running (serving ${method}); try again`));
            return;
          }
          const id = ++this.nextId;
          this.pending.set(id, { method, resolve, reject, onProgress });
          this.updateRef();
          worker.postMessage({ t: 'call', id, method, args } satisfies ToWorker);
          onSent?.(id);
        }),
    );
  }

  /** Tests: end the worker abruptly ('exit', 'terminate') or make it exhaust its heap ('oom'); resolves once it has stopped. */
  crashWorkerForTesting(how: 'exit' | 'oom' | 'terminate' = 'exit'): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    const stopped = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    if (how === 'terminate') void worker.terminate();
    else worker.postMessage({ t: 'crash', how } satisfies ToWorker);
    return stopped;
  }

  /** Resolves once a worker is serving (after a restart, the new one). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  // -------------------------------------------------------------------------
  // MemoryStoreApi
  // -------------------------------------------------------------------------

  createEpisode(...args: CallArgs<'createEpisode'>): Promise<CallResult<'createEpisode'>> {
    return this.call('createEpisode', ...args);
  }
  addStep(...args: CallArgs<'addStep'>): Promise<CallResult<'addStep'>> {
    return this.call('addStep', ...args);
  }
  completeEpisode(...args: CallArgs<'completeEpisode'>): Promise<CallResult<'completeEpisode'>> {
    return this.call('completeEpisode', ...args);
  }
  getEpisode(...args: CallArgs<'getEpisode'>): Promise<CallResult<'getEpisode'>> {
    return this.call('getEpisode', ...args);
  }
  getEpisodePage(...args: CallArgs<'getEpisodePage'>): Promise<CallResult<'getEpisodePage'>> {
    return this.call('getEpisodePage', ...args);
  }
  query(...args: CallArgs<'query'>): Promise<CallResult<'query'>> {
    return this.call('query', ...args);
  }
  analyzePatterns(...args: CallArgs<'analyzePatterns'>): Promise<CallResult<'analyzePatterns'>> {
    return this.call('analyzePatterns', ...args);
  }
  listPatterns(...args: CallArgs<'listPatterns'>): Promise<CallResult<'listPatterns'>> {
    return this.call('listPatterns', ...args);
  }
  listEpisodes(...args: CallArgs<'listEpisodes'>): Promise<CallResult<'listEpisodes'>> {
    return this.call('listEpisodes', ...args);
  }
  deleteEpisode(...args: CallArgs<'deleteEpisode'>): Promise<CallResult<'deleteEpisode'>> {
    return this.call('deleteEpisode', ...args);
  }
  deleteEpisodes(...args: CallArgs<'deleteEpisodes'>): Promise<CallResult<'deleteEpisodes'>> {
    return this.call('deleteEpisodes', ...args);
  }
  clear(...args: CallArgs<'clear'>): Promise<CallResult<'clear'>> {
    return this.call('clear', ...args);
  }
  exportAll(...args: CallArgs<'exportAll'>): Promise<CallResult<'exportAll'>> {
    return this.call('exportAll', ...args);
  }
  exportLines(...args: CallArgs<'exportLines'>): Promise<CallResult<'exportLines'>> {
    return this.call('exportLines', ...args);
  }
  importAll(...args: CallArgs<'importAll'>): Promise<CallResult<'importAll'>> {
    return this.call('importAll', ...args);
  }
  /** Imports a file; the worker reads and parses it (nothing of it crosses to this thread). */
  importFile(...[file, options]: CallArgs<'importFile'>): Promise<CallResult<'importFile'>> {
    return this.exchange('importFile', file, { ...options });
  }
  /** Writes the export file; the worker builds and writes the lines. */
  exportFile(...[file, options]: CallArgs<'exportFile'>): Promise<CallResult<'exportFile'>> {
    return this.exchange('exportFile', file, { ...options });
  }
  stats(...args: CallArgs<'stats'>): Promise<CallResult<'stats'>> {
    return this.call('stats', ...args);
  }
  patternsOfEpisode(...args: CallArgs<'patternsOfEpisode'>): Promise<CallResult<'patternsOfEpisode'>> {
    return this.call('patternsOfEpisode', ...args);
  }
  getPattern(...args: CallArgs<'getPattern'>): Promise<CallResult<'getPattern'>> {
    return this.call('getPattern', ...args);
  }
  episodeGroups(...args: CallArgs<'episodeGroups'>): Promise<CallResult<'episodeGroups'>> {
    return this.call('episodeGroups', ...args);
  }
  insights(...args: CallArgs<'insights'>): Promise<CallResult<'insights'>> {
    return this.call('insights', ...args);
  }
  addPhrasings(...args: CallArgs<'addPhrasings'>): Promise<CallResult<'addPhrasings'>> {
    return this.call('addPhrasings', ...args);
  }
  recordToolCall(...args: CallArgs<'recordToolCall'>): Promise<CallResult<'recordToolCall'>> {
    return this.call('recordToolCall', ...args);
  }
  toolUsage(...args: CallArgs<'toolUsage'>): Promise<CallResult<'toolUsage'>> {
    return this.call('toolUsage', ...args);
  }
  /** Writes a snapshot now (the worker keeps answering meanwhile only between its slices). */
  snapshot(): Promise<void> {
    return this.call('snapshot');
  }

  setRetention(policy: RetentionPolicy): void {
    this.retention = parseOrThrow(RetentionPolicySchema, policy, 'retention policy');
    this.worker?.postMessage({ t: 'retention', policy: this.retention } satisfies ToWorker);
  }

  /** Lets the calls in flight finish, closes the store (final snapshot), stops the worker, releases the lock. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    clearInterval(this.takeOverTimer);
    await this.ready.catch(() => undefined);
    await this.stopWorker();
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new MemoryError('closed', `The memory store closed before ${p.method} was answered`));
    this.pending.clear();
    this.emitter.dispose();
    this.accessEmitter.dispose();
    await releaseLock(this.lock, this.logger);
    this.lock = undefined;
  }

  dispose(): void {
    this.close().catch((e: unknown) => this.logger.error(`memory: close failed: ${(e as Error).message}`));
  }
}
