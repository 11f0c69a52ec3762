/**
 * One run's state inside the worker (its limits, output, host calls, how it
 * ended) and the typed ExecutionResult made from it.
 */
import { GUEST_FILENAME, GUEST_HEAD } from './runtime';
import { CONSOLE_CAP, OUTPUT_CAP, type HostReplyMessage } from './protocol';
import type { ErrorType, ExecutionResult, ViolationType } from './types';

export type Outcome =
  | { kind: 'done'; json: string }
  | { kind: 'fail'; name: string; message: string; stack: string }
  | { kind: 'oversize'; length: number };

export interface GuestError {
  name: string;
  message: string;
  stack: string;
}

export interface Job {
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
  hostError?: GuestError;
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


export const round = (ms: number): number => Math.round(ms * 100) / 100;

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

function hostErrorType(message: string): ErrorType {
  const t = classifyError('', message);
  return t === 'runtime' ? 'internal' : t;
}

/** Adds a console line to the run's stdout (0) or stderr (1) within CONSOLE_CAP; false once that stream is full. */
export function appendOutput(job: Job, stream: 0 | 1, text: string): boolean {
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

/** An internal error result that keeps the run's output so far. */
export function internalResult(job: Job, message: string): ExecutionResult {
  return { kind: 'error', errorType: 'internal', message, stdout: job.out[0].join(''), stderr: job.out[1].join(''), executionTimeMs: round(performance.now() - job.start) };
}

/** The typed result of a finished run. */
export function runResult(job: Job): ExecutionResult {
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
  return internalResult(job, 'the execution ended without a result');
}
