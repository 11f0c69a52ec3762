/**
 * The baseline the sandbox benches compare against: plain quickjs-emscripten
 * (the same release-sync build) on the bench's own thread, a fresh runtime and
 * context per run, the context object inlined as JSON and the result read back
 * as JSON text. No worker, no limits beyond memory and stack, no prelude.
 */
import { newQuickJSWASMModuleFromVariant, type QuickJSWASMModule } from 'quickjs-emscripten-core';
import RELEASE_SYNC from '@jitl/quickjs-wasmfile-release-sync';

export interface PlainQuickJS {
  /** Runs `code` (a function body, as the sandbox takes it) with `context`; returns the JSON of its result. */
  run(code: string, context: unknown): string;
}

export async function plainQuickJS(): Promise<PlainQuickJS> {
  const mod: QuickJSWASMModule = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
  return {
    run(code, context) {
      const rt = mod.newRuntime();
      rt.setMemoryLimit(128 * 1024 * 1024);
      rt.setMaxStackSize(256 * 1024);
      const ctx = rt.newContext();
      try {
        const r = ctx.evalCode(`JSON.stringify((function(){const context=${JSON.stringify(context)};${code}})())`, 'plain.js', { type: 'global' });
        if (r.error) {
          const e: unknown = ctx.dump(r.error);
          r.error.dispose();
          throw new Error(`plain QuickJS run failed: ${JSON.stringify(e)}`);
        }
        const json = ctx.getString(r.value);
        r.value.dispose();
        return json;
      } finally {
        ctx.dispose();
        rt.dispose();
      }
    },
  };
}
