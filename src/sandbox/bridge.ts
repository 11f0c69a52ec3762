/**
 * The host side of the prelude's single bridge function `h(op, ...)`: console
 * output, host calls, denials, results, timers and the guest modules' sources.
 * Every argument is checked: it comes from the guest.
 */
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten-core';
import { moduleSource } from './runtime';
import { FS_METHODS, type FromWorker } from './protocol';
import { secureRandom, urlOp, urlSetOp } from './hostops';
import { appendOutput, type GuestError, type Job } from './runState';
import { moduleViolation } from './screen';
import type { ViolationType } from './types';

/** Arguments of one host call, as JSON text. */
const HOST_ARGS_CAP = 1024 * 1024;
const MAX_HOST_CALLS = 10_000;

/** Answers the bridge call `args` of `job` (`post` sends a host call to the pool). */
export function bridge(ctx: QuickJSContext, job: Job, args: QuickJSHandle[], post: (m: FromWorker) => void): QuickJSHandle | undefined {
  const str = (i: number): string => (args[i] !== undefined && ctx.typeof(args[i]) === 'string' ? ctx.getString(args[i]) : '');
  const op = str(0);
  switch (op) {
    case 'log': {
      const stream = args[1] !== undefined && ctx.typeof(args[1]) === 'number' && ctx.getNumber(args[1]) === 1 ? 1 : 0;
      return appendOutput(job, stream, args[3] !== undefined && ctx.typeof(args[3]) === 'number' ? jsonText(str(2)) : str(2)) ? undefined : ctx.false;
    }
    case 'call': {
      if (job.callSeq >= MAX_HOST_CALLS) throw new Error(`too many host calls (limit ${MAX_HOST_CALLS})`);
      const name = str(1);
      const argsJson = str(2);
      if (argsJson.length > HOST_ARGS_CAP) throw new Error(`arguments of ${name}() are too large (${argsJson.length} characters; limit ${HOST_ARGS_CAP})`);
      const callId = ++job.callSeq;
      job.pending.add(callId);
      post({ t: 'call', id: job.id, callId, name, args: argsJson });
      return ctx.newNumber(callId);
    }
    case 'deny': {
      const [type, reason] = denial(str(1));
      job.violation ??= { type, reason };
      job.stop = true;
      return ctx.newString('SecurityViolation: ' + reason);
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
    case 'lost': {
      // The error module could not be compiled to report the guest's error.
      const oom = args[1] !== undefined && ctx.typeof(args[1]) === 'number' && ctx.getNumber(args[1]) === 1;
      job.outcome ??= { kind: 'fail', name: 'InternalError', message: oom ? 'out of memory' : 'the error could not be reported', stack: '' };
      return undefined;
    }
    case 'src':
      return guestSource(ctx, args[1]);
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
export function guestSource(ctx: QuickJSContext, which: QuickJSHandle | undefined): QuickJSHandle {
  const source = which !== undefined && ctx.typeof(which) === 'string' ? moduleSource(ctx.getString(which)) : undefined;
  if (source === undefined) throw new Error('unknown guest module');
  return ctx.newString(source);
}

/** Reads name/message/stack of an error handle defensively (strings only). */
export function readError(ctx: QuickJSContext, handle: QuickJSHandle): GuestError {
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

/** Text the guest sent as JSON (it holds a NUL, which the bridge's C strings cannot carry). */
function jsonText(json: string): string {
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === 'string' ? v : '';
  } catch {
    return '';
  }
}
