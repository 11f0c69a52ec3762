/**
 * Which of the runtime's globals (and of QuickJS's optional built-ins) a run's
 * code can reach, read from its text before it runs, so that its fresh context
 * has only those: compiling and installing the rest is most of a small run's cost.
 *
 * Guest code can reach a global only by naming it, or through the global
 * object (`globalThis`, a sloppy function's `this`), or through code made from
 * strings (`eval`, `Function`, `import()`); `with` and the browser names are
 * counted among those too, to be safe. The scan reads every word of the raw
 * text, strings and comments included, so it can only find too much (which
 * costs a little time), never too little: a word spelled with an escape
 * (`\u0067lobalThis`) is the one way to name a global without its letters
 * appearing, and any `\u` sends the run to the full install.
 *
 * One path is not covered: a built-in that returns its receiver, planted as a
 * getter on Object.prototype (`get: Object.prototype.valueOf`), hands the
 * global object to a bare identifier lookup. Code that does this sees only the
 * globals it names. It gains nothing by it: a run can only ever see less than
 * the full install, never a host object.
 */

/** Words through which code can reach globals without naming them. */
const ANY_GLOBAL = new Set(['globalThis', 'this', 'eval', 'Function', 'with', 'import', 'self', 'window', 'global', 'frames']);
const WORD = /[A-Za-z_$][\w$]*/g;

/**
 * The built-ins a fresh QuickJS context may leave out (quickjs-emscripten's
 * Intrinsics groups) and the globals that name them: none is reachable but by
 * one of these names (no other built-in returns a Map, a Date, a Proxy or a
 * typed array). Leaving them out makes a context much cheaper to create.
 */
export const OPTIONAL_INTRINSICS: Readonly<Record<string, readonly string[]>> = {
  Date: ['Date'],
  Proxy: ['Proxy'],
  MapSet: ['Map', 'Set', 'WeakMap', 'WeakSet'],
  TypedArrays: [
    'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Atomics', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
    'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'Float16Array', 'Float32Array', 'Float64Array',
  ],
};
const OPTIONAL_GROUPS = Object.entries(OPTIONAL_INTRINSICS);
/** Built-ins only a context with every default built-in has (quickjs-emscripten cannot choose them). */
const DEFAULT_CONTEXT_ONLY = ['WeakRef', 'FinalizationRegistry'];

/** What a run's code can reach. */
export interface CodeReach {
  /** The runtime globals (of the candidates) it names, or all. */
  globals: 'all' | string[];
  /**
   * The optional intrinsic groups its context needs, or all: the runtime's
   * modules use the built-ins, so code that names any runtime global gets all.
   */
  intrinsics: 'all' | string[];
}

const ALL: CodeReach = { globals: 'all', intrinsics: 'all' };

/** What `code` can reach of the runtime globals in `candidates` and of the optional built-ins. */
export function codeReach(code: string, candidates: readonly string[]): CodeReach {
  if (code.includes('\\u')) return ALL;
  const words = new Set<string>();
  for (const m of code.matchAll(WORD)) {
    if (ANY_GLOBAL.has(m[0])) return ALL;
    words.add(m[0]);
  }
  const globals = candidates.filter((name) => words.has(name));
  if (globals.length > 0 || DEFAULT_CONTEXT_ONLY.some((n) => words.has(n))) return { globals, intrinsics: 'all' };
  return { globals, intrinsics: OPTIONAL_GROUPS.filter(([, names]) => names.some((n) => words.has(n))).map(([group]) => group) };
}
