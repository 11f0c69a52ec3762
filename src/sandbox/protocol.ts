/** Messages between the Sandbox (main thread) and its workers. Internal. */
import type { ExecutionResult, Language, ViolationType } from './types';

/**
 * The guest's `fs` methods (the one list: the prelude installs these, as host
 * calls or as denial stubs, and the host serves them; see confinedFs.ts).
 */
export const FS_METHODS = ['readFile', 'writeFile', 'readdir', 'stat', 'mkdir', 'rm', 'rename'] as const;
export type FsMethod = (typeof FS_METHODS)[number];

/** Each of stdout and stderr is capped at this many characters. */
export const CONSOLE_CAP = 1024 * 1024;
export { OUTPUT_CAP } from './guest/limits';
/** Duty-cycle slice: a run uses the CPU for this long before sleeping in proportion. */
export const SLICE_MS = 20;
/** The longest a finished result is held back to share a message with the next ones (default). */
export const RESULT_BATCH_MAX_AGE_MS = 4;
/** The most results one message carries. */
export const RESULT_BATCH_MAX = 16;

/** Shared-memory layout per worker (Int32 indexes; the Float64 slot is at byte START_BYTE). */
export const SHM = {
  /** Id of the job the worker is executing synchronously right now, 0 when none is (idle, or every run waiting). */
  RUNNING: 0,
  /** Always 0: the duty cycle sleeps on it with Atomics.wait; cancellation notifies it. */
  SLEEP: 1,
  /** Cancel slots: CANCEL_BASE + (id % CANCEL_SLOTS) holds the id of a cancelled job. */
  CANCEL_BASE: 2,
  CANCEL_SLOTS: 64,
  /**
   * Id of the job the worker started last (never reset). Jobs run in the order
   * they were sent, so every job sent up to this one has started or finished.
   */
  LAST_STARTED: 66,
  /** 1 while the worker is idle with the next run's context prepared (the pool prefers such a worker). */
  PREPARED: 67,
  /** How many of the worker's started runs are waiting (a timer, a host call): they take no CPU, so placement does not count them. */
  WAITING: 68,
  /** Int32 slots in the shared block. */
  INTS: 69,
  /** Byte offset of a Float64: Date.now() when RUNNING's job started. */
  START_BYTE: 512,
  BYTES: 520,
} as const;

export interface JobLimits {
  timeMs: number;
  memoryMb: number;
  cpuPercent: number;
  stackKb: number;
  allowNetwork: boolean;
  allowFilesystem: boolean;
}

/** One execution as the worker receives it. */
export interface JobSpec {
  id: number;
  code: string;
  language: Language;
  contextJson: string;
  hostNames: string[];
  limits: JobLimits;
}

/**
 * Executions for a worker, run in this order. The pool sends the jobs it
 * dispatches to one worker in the same turn as one message (fewer messages
 * and wake-ups, like DoneMessage).
 */
export interface RunMessage {
  t: 'run';
  jobs: JobSpec[];
}

export interface HostReplyMessage {
  t: 'reply';
  id: number;
  callId: number;
  ok: boolean;
  /** JSON text of the value when ok ('' for undefined), else the error message. */
  payload: string;
  violation?: { type: ViolationType; reason: string };
}

export interface CancelMessage {
  t: 'cancel';
  id: number;
}

export interface CrashMessage {
  t: 'crash';
}

export type ToWorker = RunMessage | HostReplyMessage | CancelMessage | CrashMessage;

export interface HostCallMessage {
  t: 'call';
  id: number;
  callId: number;
  name: string;
  args: string;
}

/**
 * Finished executions. A worker with a backlog sends several at once, so the
 * main thread wakes (and takes a core from a worker) less often. Measured with
 * interleaved rounds of 100 in flight: +5 % executions/s held 1 ms, +11 % held
 * 4 ms, and +6 % more with RunMessage batching. A result waits at most
 * RESULT_BATCH_MAX_AGE_MS for company (see worker.ts).
 */
export interface DoneMessage {
  t: 'done';
  results: { id: number; result: ExecutionResult }[];
}

/** The worker has loaded its QuickJS module and is ready for jobs. */
export interface ReadyMessage {
  t: 'ready';
}

export type FromWorker = HostCallMessage | DoneMessage | ReadyMessage;

export interface WorkerInit {
  shared: SharedArrayBuffer;
  wasmModule?: WebAssembly.Module;
  wasmPath: string;
  warmMemoryMb?: number;
  resultBatchMaxAgeMs?: number;
}
