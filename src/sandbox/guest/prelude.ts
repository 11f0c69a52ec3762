/**
 * The guest-side half of the sandbox, evaluated in every fresh QuickJS context
 * before the agent's code (the engine does it ahead, while the worker is idle).
 * It receives the single host bridge function `h` in a closure (never as a
 * global), captures the intrinsics it needs before any guest code can tamper
 * with them, and installs `console`, the denial stubs, `require` and the host
 * functions. Everything that crosses to the host is a string or a number.
 *
 * QuickJS parses this in every fresh context (about 0.15 µs a character), so it
 * holds only what every run needs. The rest is compiled on first use from
 * modules the host serves through the bridge (`h('src', n)`): cold.ts (console
 * formatting, error reports, `require`) and host.ts (host calls, fs, fetch).
 * They are evaluated with the `eval` captured here and receive the captured
 * intrinsics, so guest changes to globals cannot reach them.
 *
 * `run(setupJson)` installs the environment (see Setup); `run(fn, contextJson)`
 * installs `context`, calls the guest function and returns `settle(callId, ok,
 * payload)` for host replies when the run has host functions.
 */
import { OUTPUT_CAP } from '../protocol';
import { SOURCE_COLD, SOURCE_HOST, type Bridge, type Cold, type FailKind, type HostModule, type Intrinsics, type Run, type Setup } from './types';

export default function prelude(h: Bridge): Run {
  const G = globalThis;
  const O = Object;
  const freeze = O.freeze;
  const defineProperty = O.defineProperty;
  const getOwnPropertyNames = O.getOwnPropertyNames;
  const getPrototypeOf = O.getPrototypeOf;
  const hasOwnProperty = O.prototype.hasOwnProperty;
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const apply = Reflect.apply;
  const then = Promise.prototype.then;
  const Err = Error;
  const indirectEval = G.eval;
  const lock = (o: object, k: string, v: unknown): void => {
    defineProperty(o, k, { value: v, writable: false, enumerable: false, configurable: false });
  };
  const deepFreeze = <T>(v: T): T => {
    if (v !== null && typeof v === 'object') {
      freeze(v);
      const keys = getOwnPropertyNames(v);
      for (let i = 0; i < keys.length; i++) deepFreeze((v as Record<string, unknown>)[keys[i]]);
    }
    return v;
  };
  const I: Intrinsics = {
    h,
    G,
    freeze,
    defineProperty,
    getOwnPropertyNames,
    hasOwn: (o, k) => apply(hasOwnProperty, o, [k]),
    entries: O.entries,
    stringify,
    parse,
    String,
    apply,
    Error: Err,
    TypeError,
    Promise,
    then,
    join: Array.prototype.join,
    indexOf: String.prototype.indexOf,
    slice: String.prototype.slice,
    split: String.prototype.split,
    toLowerCase: String.prototype.toLowerCase,
    Map,
    mapGet: Map.prototype.get,
    mapSet: Map.prototype.set,
    mapDelete: Map.prototype.delete,
    lock,
    deepFreeze,
  };
  const compile = <T>(n: number): T => (indirectEval(h('src', n) as string) as (i: Intrinsics) => T)(I);
  let cold: Cold | undefined;
  let host: HostModule | undefined;
  let settle: HostModule['settle'] | undefined;

  const logger = (stream: 0 | 1) =>
    function (): void {
      // eslint-disable-next-line prefer-rest-params
      (cold ??= compile<Cold>(SOURCE_COLD)).log(stream, arguments);
    };
  const fail = (e: unknown, kind?: FailKind, json?: unknown): void => {
    try {
      cold ??= compile<Cold>(SOURCE_COLD);
    } catch (x) {
      h('fail', 'InternalError', x === null ? 'out of memory' : 'the error could not be reported', '');
      return;
    }
    cold.fail(e, kind, json);
  };
  /** A denial stub: calling it records a violation (the host's message says why). */
  const stub = (what: string, proto?: object): (() => never) => {
    const f = function (): never {
      throw new Err('SecurityViolation: ' + (h('deny', what) as string));
    };
    if (proto) {
      f.prototype = proto;
      lock(proto, 'constructor', f);
    }
    return f;
  };
  const finish = (v: unknown): void => {
    let json: string | undefined;
    try {
      json = v === undefined ? 'null' : stringify(v);
    } catch (e) {
      fail(e, 1);
      return;
    }
    if (typeof json === 'string' && json.length <= OUTPUT_CAP) h('done', json);
    else fail(v, 2, json);
  };

  function install(setup: Setup): void {
    lock(G, 'console', freeze({ log: logger(0), info: logger(0), debug: logger(0), trace: logger(0), warn: logger(1), error: logger(1) }));
    const protos = [Function.prototype, getPrototypeOf(async function () {}) as object, getPrototypeOf(function* () {}) as object, getPrototypeOf(async function* () {}) as object];
    for (let i = 0; i < protos.length; i++) {
      const s = stub('Function', protos[i]);
      if (i === 0) lock(G, 'Function', s);
    }
    for (let i = 0; i < setup.d.length; i++) lock(G, setup.d[i], stub(setup.d[i]));
    if (!setup.fs) {
      const fs: Record<string, unknown> = {};
      for (let i = 0; i < setup.f.length; i++) fs[setup.f[i]] = stub('fs.' + setup.f[i]);
      lock(G, 'fs', freeze(fs));
    }
    lock(G, 'require', (name: unknown) => (cold ??= compile<Cold>(SOURCE_COLD)).req(name));
    settle = undefined;
    if (setup.h) {
      host ??= compile<HostModule>(SOURCE_HOST);
      host.install(setup);
      settle = host.settle;
    }
  }

  return function run(a, contextJson) {
    if (typeof a === 'string') {
      install(parse(a) as Setup);
      return undefined;
    }
    lock(G, 'context', deepFreeze(parse(contextJson as string)));
    let p: unknown;
    try {
      p = a();
    } catch (e) {
      fail(e);
      return settle;
    }
    void apply(then, p, [finish, fail]);
    return settle;
  };
}
