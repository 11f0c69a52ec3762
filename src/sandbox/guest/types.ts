/**
 * Types shared by the guest runtime's modules (code that runs inside QuickJS)
 * and the engine that serves them. Nothing here runs on the host.
 */

/**
 * The single host bridge function, handed to the prelude in a closure (never a
 * global). Every argument is a string or a number; the host checks types again.
 * Ops: 'log' stream text [1: text is JSON, for text holding a NUL] → false when full; 'call' name argsJson → call id;
 * 'deny' what → 'SecurityViolation: ' + reason; 'require' name → message; 'done' json; 'fail' name
 * message stack; 'lost' [1: out of memory] (the error could not be reported); 'oversize' length; 'src' module → its source; 'now' → ms
 * since the run started; 'timer' due → the earliest timer is due at `due`
 * (Date.now() time; -1: none).
 */
export type Bridge = (op: string, ...args: (string | number)[]) => unknown;

/**
 * The globals to install for a run (sent as JSON to the install module), as
 * the engine computed them from the code: all of them, or only those the code
 * mentions (a global it cannot name it cannot reach: see ../mentions.ts).
 */
export interface Setup {
  /**
   * The globals the host module installs (the roots of the host function names,
   * `fs` when it is on, `fetch` when the network is) to install as accessors:
   * the first touch compiles the module, so a run that uses none of them pays nothing for it.
   */
  h: readonly string[];
  /** Globals to replace by denial stubs. */
  d: readonly string[];
  /** The `fs` methods: host calls when `fs` is on, denial stubs when it is off. */
  f: readonly string[];
  /** Host function names (dotted paths): the host module installs them all. */
  n: readonly string[];
  fs: boolean;
  net: boolean;
  /** Install `console`. */
  k: boolean;
  /** Install `require`. */
  r: boolean;
  /** Install `fs` as denial stubs (it is off). */
  s: boolean;
  /** Lazily installed globals to install: [module, its globals to install] pairs (guest/modules.ts). */
  l: readonly (readonly [string, readonly string[]])[];
}

/** Installs (more) globals in a fresh context, before any guest code runs (install.ts). */
export type Install = (setup: Setup) => void;

/** How a value failed to become the run's result: 0 thrown, 1 not JSON-serialisable, 2 not a string / too large. */
export type FailKind = 0 | 1 | 2;

/**
 * What the prelude captured before any guest code ran, handed to every module
 * compiled later (by then the guest may have replaced globals or prototype
 * methods: modules use these, not the globals).
 */
export interface Intrinsics {
  h: Bridge;
  G: typeof globalThis;
  freeze: ObjectConstructor['freeze'];
  defineProperty: ObjectConstructor['defineProperty'];
  getOwnPropertyNames: ObjectConstructor['getOwnPropertyNames'];
  hasOwn: (o: object, k: PropertyKey) => boolean;
  entries: ObjectConstructor['entries'];
  stringify: JSON['stringify'];
  parse: JSON['parse'];
  String: StringConstructor;
  apply: typeof Reflect.apply;
  Error: ErrorConstructor;
  TypeError: TypeErrorConstructor;
  Promise: PromiseConstructor;
  then: Promise<unknown>['then'];
  join: string[]['join'];
  indexOf: string['indexOf'];
  slice: string['slice'];
  split: string['split'];
  toLowerCase: string['toLowerCase'];
  Map: MapConstructor;
  mapGet: Map<unknown, unknown>['get'];
  mapSet: Map<unknown, unknown>['set'];
  mapDelete: Map<unknown, unknown>['delete'];
  /** A denial stub: calling it records a violation of `what` (the host's message says why). */
  stub: (what: string) => () => never;
  /** Defines a non-writable, non-enumerable, non-configurable property. */
  lock: (o: object, k: string, v: unknown) => void;
  /** Freezes a value and everything reachable from it. */
  deepFreeze: <T>(v: T) => T;
  getOwnPropertyDescriptor: ObjectConstructor['getOwnPropertyDescriptor'];
  getPrototypeOf: ObjectConstructor['getPrototypeOf'];
  keys: ObjectConstructor['keys'];
  isArray: ArrayConstructor['isArray'];
  charCodeAt: string['charCodeAt'];
  /** Function.prototype.toString. */
  fnToString: () => string;
  /** The exports of a guest module (compiled on first need, once per run). */
  need: <T>(module: string) => T;
  /** Ends the run with an error (an uncaught exception in a callback, as Node exits on one). */
  fail: (e: unknown, kind?: FailKind, json?: unknown) => void;
  /**
   * What the engine's calls to the driver reach (see Driver): set by the timers
   * module (`fire` when a timer is due, with Date.now(); `turn` when a host reply
   * arrives) and by the globals module when the host module loads (`settle`).
   */
  fire?: (now: number) => void;
  turn?: () => void;
  settle?: HostModule['settle'];
  /** The runtime's platform objects, registered by each module as it loads (see PlatformKind). */
  platform?: PlatformKind[];
}

/**
 * A kind of the runtime's platform objects (Blob, Headers, URL, …), as
 * structuredClone sees it: `is` checks the brand (the module's own state, not
 * the prototype), and `clone` copies a serialisable one into the module's class
 * (whatever the guest did to the global since); a kind without `clone` is not
 * serialisable (DataCloneError), as HTML says of platform objects.
 */
export interface PlatformKind {
  is(v: object): boolean;
  clone?(v: object): object;
}

/** Error reports and `require`, compiled on first use. */
export interface Cold {
  fail(e: unknown, kind?: FailKind, json?: unknown): void;
  req(name: unknown): never;
}

/** The first touch of an accessor the prelude installed (globals.ts): its value. */
export interface Globals {
  /** A lazily installed global: `module` is [its module, the module's globals]. */
  lazy(name: string, module: readonly [string, readonly string[]]): unknown;
  /** A global of the host module (host functions, fs, fetch). */
  host(name: string, setup: Setup): unknown;
}

/** Host calls and capabilities, compiled on the first touch of one of their globals. */
export interface HostModule {
  install(setup: Setup): void;
  /** Delivers a host reply to the guest promise waiting for it. */
  settle(id: number, ok: boolean, payload: string): void;
}

/**
 * What the engine calls while a run is pending: drive(callId, ok, payload)
 * settles a host call; drive(0, now) fires the timer due at `now`.
 */
export type Driver = (id: number, ok: boolean | number, payload?: string) => void;

/** The prelude's result: `run(setupJson)` installs globals; `run(fn, contextJson)` runs the guest and returns the driver. */
export type Run = (a: string | (() => unknown), contextJson?: string) => Driver | undefined;

/** A lazily installed module: its exports by global name (see modules.ts). */
export type LazyModule = (I: Intrinsics) => Record<string, unknown>;
