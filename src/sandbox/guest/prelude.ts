/**
 * The guest-side half of the sandbox, evaluated in every fresh QuickJS context
 * before the agent's code (the engine does it ahead, while the worker is idle).
 * It receives the single host bridge function `h` in a closure (never as a
 * global), captures the intrinsics the runtime needs before any guest code can
 * tamper with them, and installs the denial stubs, `require`, the host
 * functions and, as accessors, `console` and the lazily installed globals.
 * Everything that crosses to the host is a string or a number.
 *
 * QuickJS parses this in every fresh context, so it holds only what every run
 * needs. Every other module (modules.ts) is compiled on first need from source
 * the host serves through the bridge (`h('src', name)`), evaluated with the
 * `eval` captured here and handed the captured intrinsics, so guest changes to
 * globals cannot reach it.
 *
 * `run(setupJson)` installs the environment (see Setup); `run(fn, contextJson)`
 * installs `context`, calls the guest function and returns the driver the
 * engine calls with host replies and when a timer is due.
 */
import { OUTPUT_CAP } from './limits';
import type { Bridge, Cold, Driver, FailKind, HostModule, Intrinsics, Run, Setup } from './types';

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
  const hasOwn = (o: object, k: PropertyKey): boolean => apply(hasOwnProperty, o, [k]);
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
  /** Compiled modules by name, for this run. */
  const modules: Record<string, unknown> = {};
  const need = <T>(name: string): T => {
    if (hasOwn(modules, name)) return modules[name] as T;
    const exports = (indirectEval(h('src', name) as string) as (i: Intrinsics) => T)(I);
    defineProperty(modules, name, { value: exports });
    return exports;
  };
  const fail = (e: unknown, kind?: FailKind, json?: unknown): void => {
    let cold: Cold;
    try {
      cold = need<Cold>('cold');
    } catch (x) {
      h('fail', 'InternalError', x === null ? 'out of memory' : 'the error could not be reported', '');
      return;
    }
    cold.fail(e, kind, json);
  };
  let fireTimer: ((now: number) => void) | undefined;
  let timerTurn: (() => void) | undefined;
  const I: Intrinsics = {
    h,
    G,
    freeze,
    defineProperty,
    getOwnPropertyNames,
    hasOwn,
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
    getOwnPropertyDescriptor: O.getOwnPropertyDescriptor,
    getPrototypeOf,
    keys: O.keys,
    isArray: Array.isArray,
    charCodeAt: String.prototype.charCodeAt,
    fnToString: Function.prototype.toString,
    need,
    fail,
    setTimerDriver: (fire, turn) => {
      fireTimer = fire;
      timerTurn = turn;
    },
  };
  let settle: HostModule['settle'] | undefined;
  const drive: Driver = (id, ok, payload) => {
    if (id === 0) return fireTimer?.(ok as number);
    timerTurn?.();
    settle?.(id, ok as boolean, payload as string);
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
  /** Until first touched, a global is an accessor; touching it installs its whole module's globals (`names`) as plain values. */
  const lazy = (name: string, module: string, names: readonly string[]): void => {
    const own = (v: unknown): void => {
      defineProperty(G, name, { value: v, writable: true, enumerable: false, configurable: true });
    };
    defineProperty(G, name, {
      configurable: true,
      enumerable: false,
      get() {
        const exports = need<Record<string, unknown>>(module);
        for (let i = 0; i < names.length; i++) {
          const d = I.getOwnPropertyDescriptor(G, names[i]);
          // Only globals still untouched: a value the guest assigned meanwhile stays.
          if (d && d.get && !hasOwn(d, 'value')) defineProperty(G, names[i], { value: exports[names[i]], writable: true, enumerable: false, configurable: true });
        }
        return exports[name];
      },
      set: own,
    });
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
    let konsole: unknown;
    defineProperty(G, 'console', { get: () => (konsole ??= need('console')), enumerable: false, configurable: false });
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
    lock(G, 'require', (name: unknown) => need<Cold>('cold').req(name));
    // The table comes with the setup (JSON parses far faster than this source would).
    const lazyModules = getOwnPropertyNames(setup.l);
    for (let i = 0; i < lazyModules.length; i++) {
      const names = setup.l[lazyModules[i]];
      for (let j = 0; j < names.length; j++) lazy(names[j], lazyModules[i], names);
    }
    settle = undefined;
    if (setup.h) {
      const host = need<HostModule>('host');
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
      return drive;
    }
    void apply(then, p, [finish, fail]);
    return drive;
  };
}
