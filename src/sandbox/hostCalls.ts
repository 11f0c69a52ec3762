/**
 * The host side of a run's host calls (hostApi functions and the fs/fetch
 * capabilities), served on the Sandbox's thread: the check of a hostApi's
 * names, and per run the calls in flight, the answer budget and the share of
 * this thread's time they may use.
 */
import { setMaxListeners } from 'node:events';
import { Budget } from './budget';
import { Capabilities, CapabilityViolation } from './capabilities';
import type { HostCallMessage } from './protocol';
import type { ExecutionResult, HostApi, HostCallScope, SandboxConfig, ViolationType } from './types';

/**
 * Bounds on the host calls (hostApi, fs, fetch) of one run, which are served on
 * this thread: a few at a time, their answers counted against one budget, and
 * their synchronous work here (argument parsing, the call, serialising the
 * answer) held to a share of the run's time, so one run cannot keep the
 * thread busy for seconds past its deadline.
 */
export const HOST_CALLS = {
  /** Calls of one run being served at once; the others wait their turn. */
  inFlight: 4,
  /** Characters of JSON all answers of one run may total. */
  replyChars: 32 * 1024 * 1024,
  /** Share of the run's elapsed time its calls may keep this thread busy. */
  threadShare: 0.2,
  /** Thread time every run may use before the share applies (ms). */
  threadAllowanceMs: 20,
} as const;

/** Globals the guest environment defines itself; host functions may not shadow them. */
const RESERVED_ROOTS = new Set([
  'context', 'console', 'fs', 'fetch', 'require', 'eval', 'Function', 'XMLHttpRequest', 'WebSocket', 'globalThis',
  'Object', 'Array', 'JSON', 'Promise', 'Math', 'String', 'Number', 'Boolean', 'Symbol', 'Error', 'Reflect', 'Proxy', 'Map', 'Set', 'Date', 'RegExp',
]);
const HOST_NAME_RE = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

/** What is wrong with a hostApi's names (undefined when nothing is). */
export function checkHostApi(api: HostApi): string | undefined {
  for (const [name, fn] of Object.entries(api)) {
    if (typeof fn !== 'function') return `hostApi['${name}'] is not a function`;
    if (!HOST_NAME_RE.test(name)) return `hostApi name '${name}' must be a dotted identifier path such as 'memory.query'`;
    const root = name.split('.')[0];
    if (RESERVED_ROOTS.has(root)) return `hostApi name '${name}' would shadow the sandbox's own global '${root}'`;
    if (name.split('.').includes('__proto__')) return `hostApi name '${name}' is not allowed`;
  }
  const names = Object.keys(api);
  for (const a of names) for (const b of names) if (b.startsWith(a + '.')) return `hostApi names '${a}' and '${b}' conflict`;
  return undefined;
}

/** The run a host call belongs to, as the Sandbox holds it. */
export interface HostCallRun {
  config: SandboxConfig;
  hostApi: HostApi;
  settled: boolean;
  capabilities?: Capabilities;
  /** The first capability violation of the run: it becomes the run's result. */
  violation?: ExecutionResult & { kind: 'security_violation' };
}

/** Sends the answer of a call to the worker. */
export type ReplyFn = (m: HostCallMessage, ok: boolean, payload: string, violation?: { type: ViolationType; reason: string }) => void;

/** One run's host-call state. */
export interface HostCalls {
  scope: HostCallScope;
  aborter: AbortController;
  waiting: HostCallMessage[];
  inFlight: number;
  /** This thread's time spent on them (ms). */
  busyMs: number;
  startedAt: number;
  replies: Budget;
  timer?: NodeJS.Timeout;
  deadlineTimer?: NodeJS.Timeout;
}

/** A run's host-call state, made on its first call; `startedAt` is the run's start (Date.now() time). */
export function openHostCalls(run: HostCallRun, startedAt: number): HostCalls {
  const aborter = new AbortController();
  // Every request, read and host function of the run may listen to it.
  setMaxListeners(0, aborter.signal);
  const deadline = startedAt + run.config.maxExecutionTimeMs;
  const host: HostCalls = { scope: { signal: aborter.signal, deadline }, aborter, waiting: [], inFlight: 0, busyMs: 0, startedAt, replies: new Budget('host-call answer budget', HOST_CALLS.replyChars, 'characters') };
  // Past the deadline nothing more is served, whether or not the worker has noticed yet.
  host.deadlineTimer = setTimeout(() => aborter.abort(), Math.max(0, deadline - Date.now()));
  host.deadlineTimer.unref();
  if (run.config.allowFilesystem || run.config.allowNetwork) run.capabilities = new Capabilities(run.config, aborter.signal);
  return host;
}

/** Ends a run's host calls: those in flight are aborted, those waiting dropped. */
export function closeHostCalls(host: HostCalls): void {
  host.aborter.abort();
  clearTimeout(host.timer);
  clearTimeout(host.deadlineTimer);
  host.waiting.length = 0;
}

/** Queues a call; serves as many as the run's in-flight limit and thread share allow. */
export function enqueueCall(run: HostCallRun, host: HostCalls, m: HostCallMessage, reply: ReplyFn): void {
  host.waiting.push(m);
  pumpCalls(run, host, reply);
}

function pumpCalls(run: HostCallRun, host: HostCalls, reply: ReplyFn): void {
  if (host.timer) return;
  while (host.inFlight < HOST_CALLS.inFlight && host.waiting.length > 0) {
    if (run.settled || host.aborter.signal.aborted) {
      host.waiting.length = 0;
      return;
    }
    const allowed = HOST_CALLS.threadAllowanceMs + HOST_CALLS.threadShare * (Date.now() - host.startedAt);
    if (host.busyMs > allowed) {
      // Over its share: wait until the run's elapsed time has caught up with the thread time used.
      const waitMs = Math.ceil((host.busyMs - HOST_CALLS.threadAllowanceMs) / HOST_CALLS.threadShare - (Date.now() - host.startedAt));
      host.timer = setTimeout(() => {
        host.timer = undefined;
        pumpCalls(run, host, reply);
      }, Math.max(1, waitMs));
      return;
    }
    const m = host.waiting.shift() as HostCallMessage;
    host.inFlight++;
    void serveCall(run, host, m, reply).finally(() => {
      host.inFlight--;
      pumpCalls(run, host, reply);
    });
  }
}

async function serveCall(run: HostCallRun, host: HostCalls, m: HostCallMessage, reply: ReplyFn): Promise<void> {
  // This thread's time on the call: its synchronous start, then serialising the answer.
  let t0 = performance.now();
  const pause = (): void => {
    if (t0 >= 0) host.busyMs += performance.now() - t0;
    t0 = -1;
  };
  try {
    let args: unknown[];
    try {
      const parsed: unknown = JSON.parse(m.args);
      args = Array.isArray(parsed) ? parsed : [];
    } catch {
      reply(m, false, 'invalid arguments');
      return;
    }
    let pending: unknown;
    const fn = Object.prototype.hasOwnProperty.call(run.hostApi, m.name) ? run.hostApi[m.name] : undefined;
    if (fn) pending = fn.apply(host.scope, args);
    else if (run.capabilities?.has(m.name)) pending = run.capabilities.call(m.name, args);
    else if (m.name === 'fetch') throw new CapabilityViolation('network', 'fetch() is not allowed: network access is disabled by the sandbox configuration');
    else if (m.name.startsWith('fs.')) throw new CapabilityViolation('filesystem', `${m.name}() is not allowed: file-system access is disabled by the sandbox configuration`);
    else throw new Error(`${m.name} is not a host function`);
    pause();
    const value = await pending;
    // An answer that comes after the run ended (or its deadline passed) is never delivered.
    if (run.settled || host.aborter.signal.aborted) return;
    t0 = performance.now();
    let json: string | undefined;
    try {
      json = value === undefined ? '' : JSON.stringify(value);
    } catch (err) {
      throw new Error(`${m.name}() returned a value that is not JSON-serialisable: ${(err as Error).message}`, { cause: err });
    }
    host.replies.reserve((json ?? '').length, `the answer of ${m.name}()`);
    reply(m, true, json ?? '');
  } catch (err) {
    if (run.settled || host.aborter.signal.aborted) return;
    if (err instanceof CapabilityViolation) {
      run.violation ??= { kind: 'security_violation', violationType: err.violationType, reason: err.message };
      reply(m, false, err.message, { type: err.violationType, reason: err.message });
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    reply(m, false, `${m.name}() failed: ${message}`);
  } finally {
    pause();
  }
}
