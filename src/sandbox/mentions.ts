/**
 * Which of the runtime's globals a run's code can reach, read from its text
 * before it runs, so that its fresh context installs only those: compiling
 * and installing the rest is most of a small run's cost.
 *
 * Guest code can reach a global only by naming it, or through the global
 * object (`globalThis`, a sloppy function's `this`), or through code made from
 * strings (`eval`, `Function`, `import()`); `with` and the browser names are
 * counted among those too, to be safe. The scan reads every word of the raw
 * text, strings and comments included, so it can only find too much (which
 * costs a little time), never too little: a word spelled with an escape
 * (`\u0067lobalThis`) is the one way to name a global without its letters
 * appearing, and any `\u` sends the run to the full install. Code that can
 * reach no global it does not name cannot tell an absent global from one never
 * installed, nor see the order in which the globals it reaches were defined.
 */

/** Words through which code can reach globals without naming them. */
const ANY_GLOBAL = new Set(['globalThis', 'this', 'eval', 'Function', 'with', 'import', 'self', 'window', 'global', 'frames']);
const WORD = /[A-Za-z_$][\w$]*/g;

/**
 * The names in `candidates` that `code` mentions, in the order of the
 * candidates, or 'all' when the code may reach globals without naming them.
 */
export function reachableGlobals(code: string, candidates: readonly string[]): 'all' | string[] {
  if (code.includes('\\u')) return 'all';
  const words = new Set<string>();
  for (const m of code.matchAll(WORD)) {
    if (ANY_GLOBAL.has(m[0])) return 'all';
    words.add(m[0]);
  }
  return candidates.filter((name) => words.has(name));
}
