/**
 * The guest-side half of the sandbox, evaluated in every fresh QuickJS context
 * before the agent's code (the engine does it ahead, while the worker is idle).
 * It receives the single host bridge function `h` in a closure (never as a
 * global), captures the intrinsics the runtime needs before any guest code can
 * tamper with them, and installs the denial stubs, `require` and, as
 * accessors, `console`, the host functions and the lazily installed globals.
 * Everything that crosses to the host is a string or a number.
 *
 * QuickJS compiles this in every fresh context, and compiling is most of a
 * small run's cost (about 0.2 µs a byte of minified source on these machines,
 * against far less to run it), so it is kept to what every run needs and is
 * driven by data: the intrinsics it captures and the lazy globals come as
 * tables in the setup JSON (modules.ts). Every other module is compiled on
 * first need from source the host serves through the bridge (`h('src', name)`),
 * evaluated with the `eval` captured here and handed the captured intrinsics,
 * so guest changes to globals cannot reach it.
 *
 * `run(setupJson)` installs the environment (see Setup): nothing guest-controlled
 * has run yet, so it may use the globals as they are. What runs later (the
 * accessors, `need`, the run itself) uses only what it captured. `run(fn,
 * contextJson)` installs `context`, calls the guest function and returns the
 * driver the engine calls with host replies and when a timer is due.
 */
import { OUTPUT_CAP } from './limits';
import type { Bridge, Cold, Driver, FailKind, Globals, Intrinsics, Run, Setup } from './types';

export default function prelude(h: Bridge): Run {
  const G = globalThis;
  // The runtime's own objects have no prototype: the guest may add accessors to
  // Object.prototype before a lazy module loads, and a read that missed an own
  // property (I.platform, a descriptor's absent `get`) would hand it `this`.
  /** Filled by install from the setup's table, before any guest code runs. */
  const I = { __proto__: null, h, G } as unknown as Intrinsics & { hasOwnProperty: (k: PropertyKey) => boolean };
  /** Compiled modules by name, for this run. */
  const modules = { __proto__: null } as unknown as Record<string, unknown>;
  let indirectEval: (source: string) => unknown;
  const descriptor = (value: unknown, writable: boolean): PropertyDescriptor => ({ __proto__: null, value, writable, enumerable: false, configurable: writable }) as PropertyDescriptor;
  const lock = (o: object, k: string, v: unknown): void => {
    I.defineProperty(o, k, descriptor(v, false));
  };
  const deepFreeze = <T>(v: T): T => {
    if (v !== null && typeof v === 'object') {
      const keys = I.getOwnPropertyNames(I.freeze(v));
      for (let i = 0; i < keys.length; i++) deepFreeze((v as Record<string, unknown>)[keys[i]]);
    }
    return v;
  };
  const need = <T>(name: string): T => {
    if (!I.hasOwn(modules, name)) I.defineProperty(modules, name, descriptor((indirectEval(h('src', name) as string) as (i: Intrinsics) => T)(I), false));
    return modules[name] as T;
  };
  const fail = (e: unknown, kind?: FailKind, json?: unknown): void => {
    let cold: Cold;
    try {
      cold = need<Cold>('cold');
    } catch (x) {
      h('lost', x === null ? 1 : 0);
      return;
    }
    cold.fail(e, kind, json);
  };
  const finish = (v: unknown): void => {
    let json: string | undefined;
    try {
      json = v === undefined ? 'null' : I.stringify(v);
    } catch (e) {
      fail(e, 1);
      return;
    }
    if (typeof json === 'string' && json.length <= OUTPUT_CAP) h('done', json);
    else fail(v, 2, json);
  };
  const drive: Driver = (id, ok, payload) => {
    if (id === 0) return I.fire?.(ok as number);
    I.turn?.();
    I.settle?.(id, ok as boolean, payload as string);
  };
  /** A denial stub: calling it records a violation (the host's message says why). */
  const stub = (what: string): (() => never) =>
    function (): never {
      throw new I.Error(h('deny', what) as string);
    };
  /**
   * An accessor until first touched; the touch is answered by the globals
   * module (compiled then, see globals.ts): a lazily installed global's module
   * (`arg`: its name and globals), or the host module (`arg`: the setup). Only
   * lazy globals take an assignment before their first touch.
   */
  const accessor = (name: string, kind: keyof Globals, arg: unknown): void => {
    I.defineProperty(G, name, {
      configurable: true,
      get: () => need<Globals>('globals')[kind](name, arg as never),
      set: kind === 'lazy' ? (v: unknown) => I.defineProperty(G, name, descriptor(v, true)) : undefined,
    });
  };

  // Indexed loops over the setup's flat tables throughout: QuickJS runs iterators,
  // destructuring and Object.entries far slower, and this runs in every context.
  function install(setup: Setup): void {
    const captured = setup.c;
    for (let i = 0; i < captured.length; i++) {
      const path = captured[i];
      let v: unknown = G;
      for (let j = 1; j < path.length; j++) v = (v as Record<string, unknown>)[path[j]];
      (I as unknown as Record<string, unknown>)[path[0]] = v;
    }
    indirectEval = G.eval;
    I.hasOwn = (o: object, k: PropertyKey) => I.apply(I.hasOwnProperty, o, [k]);
    I.lock = lock;
    I.deepFreeze = deepFreeze;
    I.need = need;
    I.fail = fail;
    let konsole: unknown;
    I.defineProperty(G, 'console', { get: () => (konsole ??= need('console')) });
    const gp = I.getPrototypeOf;
    const protos = [Function.prototype, gp(async function () {}), gp(function* () {}), gp(async function* () {})] as object[];
    const ctor = stub('Function');
    for (let i = 0; i < protos.length; i++) {
      const s = i === 0 ? ctor : stub('Function');
      s.prototype = protos[i];
      lock(protos[i], 'constructor', s);
    }
    lock(G, 'Function', ctor);
    const denied = setup.d;
    for (let i = 0; i < denied.length; i++) lock(G, denied[i], stub(denied[i]));
    if (!setup.fs) {
      const fs: Record<string, unknown> = {};
      for (let i = 0; i < setup.f.length; i++) fs[setup.f[i]] = stub('fs.' + setup.f[i]);
      lock(G, 'fs', I.freeze(fs));
    }
    lock(G, 'require', (name: unknown) => need<Cold>('cold').req(name));
    const lazies = setup.l;
    for (let i = 0; i < lazies.length; i++) {
      const names = lazies[i][1];
      for (let j = 0; j < names.length; j++) accessor(names[j], 'lazy', lazies[i]);
    }
    for (let i = 0; i < setup.h.length; i++) accessor(setup.h[i], 'host', setup);
  }

  return function run(a, contextJson) {
    if (typeof a === 'string') {
      install(JSON.parse(a) as Setup);
      return undefined;
    }
    lock(G, 'context', deepFreeze(I.parse(contextJson as string)));
    let p: unknown;
    try {
      p = a();
    } catch (e) {
      fail(e);
      return drive;
    }
    try {
      void I.apply(I.then, p, [finish, fail]);
    } catch (e) {
      // `then` looks up the promise's constructor and Symbol.species, which the guest may have made throw.
      fail(e);
    }
    return drive;
  };
}
