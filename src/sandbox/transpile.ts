/**
 * TypeScript → JavaScript by stripping types with sucrase (no type checking).
 * The code is a function body (top-level `return`/`await`), so it is wrapped in
 * an async function for parsing and unwrapped afterwards; line numbers are kept.
 *
 * Sucrase's parser backtracks, and some short inputs take it exponential time
 * (`x=<T>(<T>(…` : 80 characters, tens of seconds), so a run's stripping is
 * time-boxed to its own budget (a vm timeout interrupts it wherever it is) and
 * answered with a clear error; results are cached by content hash, failures to
 * finish within a budget too, so a repeated input costs nothing the next time.
 */
import { createHash } from 'node:crypto';
import * as vm from 'node:vm';
import type * as Sucrase from 'sucrase';

let sucrase: typeof Sucrase | undefined;
/** Loaded on the first TypeScript run: most runs are JavaScript, and it is most of the worker's start-up time. */
function transform(code: string, options: Sucrase.Options): Sucrase.TransformResult {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sucrase ??= require('sucrase') as typeof Sucrase;
  return sucrase.transform(code, options);
}

export type TranspileResult =
  | { ok: true; code: string }
  | { ok: false; message: string; line?: number; column?: number; timedOut?: false }
  /** Stopped after `budgetMs`: the input needs more than that to strip. */
  | { ok: false; message: string; timedOut: true; budgetMs: number };

const HEAD = 'async function __sandbox_body__() {\n';
const TAIL = '\n}';
const CACHE_MAX = 256;
const cache = new Map<string, TranspileResult>();

function strip(source: string): TranspileResult {
  try {
    const out = transform(HEAD + source + TAIL, {
      transforms: ['typescript'],
      disableESTransforms: true,
      keepUnusedImports: true,
      preserveDynamicImport: true,
    }).code;
    if (out.startsWith(HEAD) && out.endsWith(TAIL)) return { ok: true, code: out.slice(HEAD.length, out.length - TAIL.length) };
    // Sucrase never rewrites the wrapper in practice; fall back to the unwrapped transform.
    return { ok: true, code: transform(source, { transforms: ['typescript'], disableESTransforms: true }).code };
  } catch (err) {
    const e = err as Error & { loc?: { line: number; column: number } };
    const raw = (e.message || String(err)).replace(/\s*\(\d+:\d+\)\s*$/, '');
    if (e.loc) {
      const line = e.loc.line - 1;
      const column = e.loc.column; // sucrase columns are already 1-based
      return { ok: false, message: `SyntaxError: ${raw} (line ${line}, column ${column})`, line, column };
    }
    return { ok: false, message: `SyntaxError: ${raw}` };
  }
}

/** Runs `strip` under a vm timeout: V8 stops it wherever it is once `budgetMs` have passed. */
const box = vm.createContext({ job: undefined as (() => TranspileResult) | undefined });
const call = new vm.Script('job()');

function timedOut(budgetMs: number): TranspileResult {
  return { ok: false, timedOut: true, budgetMs, message: `stripping the TypeScript types took more than ${Math.round(budgetMs)} ms, this run's CPU budget, and was stopped; simplify the type syntax (deeply nested generic calls make the parser backtrack) or send JavaScript` };
}

/**
 * Strips the types of `source`, giving up after `budgetMs` (no limit when
 * omitted). Cached by the content's hash.
 */
export function stripTypes(source: string, budgetMs?: number): TranspileResult {
  const key = createHash('sha256').update(source).digest('base64');
  const hit = cache.get(key);
  if (hit && !(hit.ok === false && hit.timedOut && (budgetMs === undefined || budgetMs > hit.budgetMs))) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  let result: TranspileResult;
  if (budgetMs === undefined) result = strip(source);
  else {
    const budget = Math.max(1, Math.ceil(budgetMs));
    (box as { job?: () => TranspileResult }).job = () => strip(source);
    try {
      result = call.runInContext(box, { timeout: budget }) as TranspileResult;
    } catch (err) {
      if ((err as NodeJS.ErrnoException)?.code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
      result = timedOut(budget);
    } finally {
      (box as { job?: () => TranspileResult }).job = undefined;
    }
  }
  cache.set(key, result);
  if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as string);
  return result;
}
