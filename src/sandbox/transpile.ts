/**
 * TypeScript → JavaScript by stripping types with sucrase (no type checking).
 * The code is a function body (top-level `return`/`await`), so it is wrapped in
 * an async function for parsing and unwrapped afterwards; line numbers are kept.
 */
import type * as Sucrase from 'sucrase';

let sucrase: typeof Sucrase | undefined;
/** Loaded on the first TypeScript run: most runs are JavaScript, and it is most of the worker's start-up time. */
function transform(code: string, options: Sucrase.Options): Sucrase.TransformResult {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sucrase ??= require('sucrase') as typeof Sucrase;
  return sucrase.transform(code, options);
}

export type TranspileResult = { ok: true; code: string } | { ok: false; message: string; line?: number; column?: number };

const HEAD = 'async function __sandbox_body__() {\n';
const TAIL = '\n}';

export function stripTypes(source: string): TranspileResult {
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
