/**
 * The guest-side half of the sandbox, evaluated in every fresh QuickJS context
 * before the agent's code (the engine does it ahead, while the worker is idle).
 * It receives the single host bridge function `h` in a closure (never as a
 * global), captures the intrinsics the runtime needs before any guest code can
 * tamper with them, and replaces the Function constructors (reachable from any
 * function's `constructor`) with denial stubs. Everything that crosses to the
 * host is a string or a number.
 *
 * QuickJS compiles this in every fresh context, and compiling is most of a
 * small run's cost: measured, it grows with the source's length (about 0.14 µs
 * a character, 0.18 ms for this kernel's 1,323, against 0.06 ms to create the
 * context and 0.09 ms to run the kernel). It cannot be compiled once and
 * reused: this QuickJS build's binary JSON (QTS_bjson_encode) writes no
 * bytecode ("unsupported tag (-2)" for a compile-only function, "unsupported
 * object class" for a function), and a function compiled in one context keeps
 * that context's globals. So this kernel holds only what every
 * run needs, with as few functions as it can, and is driven by data: the
 * intrinsics it captures come as a table (modules.ts). The globals a run may
 * use (`console`, the denial stubs, `require`, the lazily installed globals, the
 * host functions) are installed by the install module (install.ts), compiled
 * only for a run whose code can reach one of them (the engine reads the code
 * first: see ../mentions.ts). Every other module is compiled on first need from
 * source the host serves through the bridge (`h('src', name)`), evaluated with
 * the `eval` captured here and handed the captured intrinsics, so guest
 * changes to globals cannot reach it.
 *
 * `prelude(h, capturedJson)` captures the intrinsics and returns `run`.
 * `run(setupJson)` installs globals (see Setup): nothing guest-controlled has
 * run yet. What runs later (the accessors, `need`, the run itself) uses only
 * what was captured. `run(fn, contextJson)` installs `context`, calls the guest
 * function and returns the driver the engine calls with host replies and when
 * a timer is due.
 */
import { OUTPUT_CAP } from './limits';
import type { Bridge, Cold, Driver, FailKind, Install, Intrinsics, Run, Setup } from './types';

export default function prelude(h: Bridge, capturedJson: string): Run {
  const G = globalThis;
  // The runtime's own objects have no prototype: the guest may add accessors to
  // Object.prototype before a lazy module loads, and a read that missed an own
  // property (I.platform, a descriptor's absent `get`) would hand it `this`.
  const I = { __proto__: null, h, G } as unknown as Intrinsics;
  /** Compiled modules by name, for this run. */
  const modules = { __proto__: null } as unknown as Record<string, unknown>;
  // Indexed loops over flat tables throughout: QuickJS runs iterators,
  // destructuring and Object.entries far slower, and this runs in every context.
  const captured = JSON.parse(capturedJson) as string[][];
  for (let i = 0; i < captured.length; i++) {
    const path = captured[i];
    let v: unknown = G;
    // A context without the optional built-ins (Map: see ../mentions.ts) leaves theirs undefined: no module that uses them loads there.
    for (let j = 1; j < path.length && v !== undefined; j++) v = (v as Record<string, unknown>)[path[j]];
    (I as unknown as Record<string, unknown>)[path[0]] = v;
  }
  const indirectEval = G.eval;
  const lock = (I.lock = (o, k, v) => {
    I.defineProperty(o, k, { __proto__: null, value: v, writable: false, enumerable: false, configurable: false } as PropertyDescriptor);
  });
  const deepFreeze = (I.deepFreeze = <T>(v: T): T => {
    if (v !== null && typeof v === 'object') {
      const keys = I.getOwnPropertyNames(I.freeze(v));
      for (let i = 0; i < keys.length; i++) deepFreeze((v as Record<string, unknown>)[keys[i]]);
    }
    return v;
  });
  const need = (I.need = <T>(name: string): T => {
    if (!I.hasOwn(modules, name)) lock(modules, name, (indirectEval(h('src', name) as string) as (i: Intrinsics) => T)(I));
    return modules[name] as T;
  });
  const fail = (I.fail = (e: unknown, kind?: FailKind, json?: unknown): void => {
    let cold: Cold;
    try {
      cold = need<Cold>('cold');
    } catch (x) {
      h('lost', x === null ? 1 : 0);
      return;
    }
    cold.fail(e, kind, json);
  });
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
  const stub = (I.stub = (what: string): (() => never) =>
    function (): never {
      throw new I.Error(h('deny', what) as string);
    });
  const gp = I.getPrototypeOf;
  const protos = [Function.prototype, gp(async function () {}), gp(function* () {}), gp(async function* () {})] as object[];
  for (let i = 0; i < protos.length; i++) {
    const s = stub('Function');
    s.prototype = protos[i];
    lock(protos[i], 'constructor', s);
    if (i === 0) lock(G, 'Function', s);
  }

  return function run(a, contextJson) {
    if (typeof a === 'string') {
      need<Install>('install')(I.parse(a) as Setup);
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
