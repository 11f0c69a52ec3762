/**
 * The guest runtime's modules that install globals lazily: each global is an
 * accessor on globalThis until first touched, which compiles its module (the
 * source is served by the host: see ../runtime.ts) and replaces the accessors
 * of all its globals with plain, writable values. A run that touches none of
 * them pays for nothing but the accessors.
 */
export const LAZY_GLOBALS: Readonly<Record<string, readonly string[]>> = {
  timers: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'queueMicrotask', 'performance'],
  encoding: ['TextEncoder', 'TextDecoder', 'atob', 'btoa'],
  clone: ['structuredClone'],
  url: ['URL', 'URLSearchParams'],
  crypto: ['crypto'],
  domexception: ['DOMException'],
  events: ['Event', 'EventTarget', 'CustomEvent', 'AbortController', 'AbortSignal'],
  fetch: ['Headers', 'Request', 'Response', 'Blob', 'File'],
};

/** Modules compiled on first need that install no lazy global of their own. */
export const INTERNAL_MODULES = ['install', 'cold', 'globals', 'host', 'console', 'inspect'] as const;

/**
 * The built-ins the prelude captures before any guest code runs (modules get
 * them as Intrinsics, whatever the guest has done to the globals since): the
 * name modules use, and the path from globalThis. A table rather than code,
 * because the prelude is compiled in every context and JSON costs far less.
 */
export const CAPTURED = {
  freeze: 'Object.freeze',
  defineProperty: 'Object.defineProperty',
  getOwnPropertyNames: 'Object.getOwnPropertyNames',
  getOwnPropertyDescriptor: 'Object.getOwnPropertyDescriptor',
  getPrototypeOf: 'Object.getPrototypeOf',
  keys: 'Object.keys',
  entries: 'Object.entries',
  hasOwn: 'Object.hasOwn',
  stringify: 'JSON.stringify',
  parse: 'JSON.parse',
  apply: 'Reflect.apply',
  String: 'String',
  Error: 'Error',
  TypeError: 'TypeError',
  Promise: 'Promise',
  then: 'Promise.prototype.then',
  Map: 'Map',
  mapGet: 'Map.prototype.get',
  mapSet: 'Map.prototype.set',
  mapDelete: 'Map.prototype.delete',
  isArray: 'Array.isArray',
  join: 'Array.prototype.join',
  indexOf: 'String.prototype.indexOf',
  slice: 'String.prototype.slice',
  split: 'String.prototype.split',
  toLowerCase: 'String.prototype.toLowerCase',
  charCodeAt: 'String.prototype.charCodeAt',
  fnToString: 'Function.prototype.toString',
} as const satisfies Readonly<Record<string, string>>;
