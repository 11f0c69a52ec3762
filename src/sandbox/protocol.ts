/** Messages between the Sandbox (main thread) and its workers. Internal. */
import type { ExecutionResult, Language, ViolationType } from './types';

/** Each of stdout and stderr is capped at this many characters. */
export const CONSOLE_CAP = 1024 * 1024;
/** The returned value's JSON text is capped at this many characters. */
export const OUTPUT_CAP = 4 * 1024 * 1024;
/** Duty-cycle slice: a run uses the CPU for this long before sleeping in proportion. */
export const SLICE_MS = 20;

/** Shared-memory layout per worker (Int32 indexes; the Float64 slot is at byte START_BYTE). */
export const SHM = {
  /** Id of the job the worker is executing synchronously right now, 0 when idle. */
  RUNNING: 0,
  /** Always 0: the duty cycle sleeps on it with Atomics.wait; cancellation notifies it. */
  SLEEP: 1,
  /** Cancel slots: CANCEL_BASE + (id % CANCEL_SLOTS) holds the id of a cancelled job. */
  CANCEL_BASE: 2,
  CANCEL_SLOTS: 64,
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

export interface RunMessage {
  t: 'run';
  id: number;
  code: string;
  language: Language;
  contextJson: string;
  hostNames: string[];
  limits: JobLimits;
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

export interface DoneMessage {
  t: 'done';
  id: number;
  result: ExecutionResult;
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
}
