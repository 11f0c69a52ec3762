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
  fetch: ['Headers', 'Request', 'Response', 'Blob'],
};

/** Modules compiled on first need that install no lazy global of their own. */
export const INTERNAL_MODULES = ['cold', 'host', 'console', 'inspect'] as const;
