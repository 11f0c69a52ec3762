/**
 * No run may end with QuickJS's `JS_FreeRuntime` assertion (`list_empty(&rt->gc_obj_list)`), which
 * aborts the WASM module and printed `Aborted(...)` on the host's stderr in the security tier:
 * freeing a runtime after an out-of-memory (even one whose guest caught the error and kept its
 * objects; quickjs-emscripten#257), or after a run whose module memory grew inside a host call
 * (a multi-megabyte result read by the bridge). The worker must stay up, say nothing on stderr,
 * and the next run must succeed.
 */
import { strict as assert } from 'node:assert';
import { Sandbox } from '../../../src/sandbox';
import { cfg, ensureWorkerBuilt, expectHealthy, WORKER_PATH } from './helpers';

/** Everything written to this process's stderr while `fn` runs (workers' stderr is piped into it). */
async function stderrDuring(fn: () => Promise<void>): Promise<string> {
  let text = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  });
  try {
    await fn();
    // The workers' stderr reaches the parent asynchronously.
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    process.stderr.write = write;
  }
  return text;
}

describe('sandbox: freeing a run never aborts QuickJS', function () {
  this.timeout(60_000);
  let sb: Sandbox;
  const small = cfg({ maxMemoryMb: 32, maxExecutionTimeMs: 10_000 });

  before(async () => {
    await ensureWorkerBuilt();
    sb = new Sandbox({ workers: 1, workerPath: WORKER_PATH });
    await sb.warmUp();
  });
  after(() => sb.close());

  // The guest keeps what it built (globals) and catches the out-of-memory error: the runtime is left with live objects.
  const bombs: Record<string, string> = {
    'arrays, caught': 'globalThis.a = []; try { for (let i = 0; ; i++) a.push([i, i + 1, i + 2]); } catch (e) { return String(e) }',
    'objects, caught': 'globalThis.o = {}; try { for (let i = 0; ; i++) o["k" + i] = { i }; } catch (e) { return String(e) }',
    'arrays, uncaught': 'const a = []; for (let i = 0; ; i++) a.push([i, i + 1, i + 2]);',
  };
  for (const [shape, code] of Object.entries(bombs)) {
    it(`${shape}: no abort on stderr, the worker stays, the next run succeeds`, async () => {
      const restarts = sb.metrics().workerRestarts;
      const stderr = await stderrDuring(async () => {
        const r = await sb.execute(code, { task: 'oom' }, { config: small });
        const ok = (r.kind === 'error' && r.errorType === 'memory_limit') || (r.kind === 'success' && /out of memory/.test(r.output));
        assert.ok(ok, JSON.stringify(r).slice(0, 300));
        await expectHealthy(sb);
      });
      assert.doesNotMatch(stderr, /Aborted\(|gc_obj_list|JS_FreeRuntime/, stderr);
      assert.equal(sb.metrics().workerRestarts, restarts, 'a worker died');
    });
  }

  // From a fresh module (the bombs above recycled theirs): the result is read while the memory grows.
  const results: Record<string, [string, (r: Awaited<ReturnType<Sandbox['execute']>>) => boolean]> = {
    'a 3 MB string result': ["return 'x'.repeat(3 * 1024 * 1024)", (r) => r.kind === 'success' && r.output.length === 3 * 1024 * 1024 + 2],
    'a 5 MB string result (refused as too large)': ["return 'y'.repeat(5 * 1024 * 1024)", (r) => r.kind === 'error' && r.errorType === 'output_limit'],
  };
  for (const [what, [code, expected]] of Object.entries(results)) {
    it(`${what}: no abort on stderr, the worker stays, the next run succeeds`, async () => {
      const restarts = sb.metrics().workerRestarts;
      const stderr = await stderrDuring(async () => {
        const r = await sb.execute(code, { task: 'big result' });
        assert.ok(expected(r), JSON.stringify(r).slice(0, 300));
        await expectHealthy(sb);
        await expectHealthy(sb);
      });
      assert.doesNotMatch(stderr, /Aborted\(|gc_obj_list|JS_FreeRuntime/, stderr);
      assert.equal(sb.metrics().workerRestarts, restarts, 'a worker died');
    });
  }
});
