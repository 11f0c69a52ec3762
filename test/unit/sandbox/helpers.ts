/** Shared helpers for the sandbox suites: build the worker bundle when stale, and small assertions. */
import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { resolveConfig, type ExecutionResult, type SandboxConfig, type Sandbox } from '../../../src/sandbox';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DIST = path.join(ROOT, 'dist');
export const WORKER_PATH = path.join(DIST, 'sandbox-worker.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let built: Promise<void> | undefined;

/**
 * Rebuilds dist/sandbox-worker.js (only that bundle, with the same settings as
 * esbuild.config.mjs) when any source under src/sandbox or src/common is newer.
 */
export function ensureWorkerBuilt(): Promise<void> {
  built ??= (async () => {
    const wasm = path.join(DIST, 'quickjs-release-sync.wasm');
    const sources = Math.max(newestMtime(path.join(ROOT, 'src', 'sandbox')), newestMtime(path.join(ROOT, 'src', 'common')));
    if (existsSync(WORKER_PATH) && existsSync(wasm) && statSync(WORKER_PATH).mtimeMs >= sources) return;
    const { guestBundlePlugin } = await import('../../../scripts/guest-bundle.mjs');
    await build({
      entryPoints: { 'sandbox-worker': path.join(ROOT, 'src', 'sandbox', 'worker.ts') },
      outdir: DIST,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: 'linked',
      logLevel: 'error',
      external: ['vscode'],
      plugins: [guestBundlePlugin],
    });
    copyFileSync(require.resolve('@jitl/quickjs-wasmfile-release-sync/wasm'), wasm);
  })();
  return built;
}

export const cfg = (overrides: Partial<SandboxConfig> = {}): SandboxConfig => resolveConfig('default', overrides);

export function expectSuccess(r: ExecutionResult, output?: string): asserts r is Extract<ExecutionResult, { kind: 'success' }> {
  assert.equal(r.kind, 'success', `expected success, got ${JSON.stringify(r).slice(0, 500)}`);
  if (output !== undefined && r.kind === 'success') assert.equal(r.output, output);
}

export function expectViolation(r: ExecutionResult, type: string): void {
  assert.equal(r.kind, 'security_violation', `expected a ${type} violation, got ${JSON.stringify(r).slice(0, 500)}`);
  if (r.kind === 'security_violation') assert.equal(r.violationType, type, r.reason);
}

export function expectError(r: ExecutionResult, errorType: string, pattern?: RegExp): void {
  assert.equal(r.kind, 'error', `expected a ${errorType} error, got ${JSON.stringify(r).slice(0, 500)}`);
  if (r.kind === 'error') {
    assert.equal(r.errorType, errorType, r.message);
    if (pattern) assert.match(r.message, pattern);
  }
}

/** The check every attack test ends with: a normal execution right after still works. */
export async function expectHealthy(sb: Sandbox, config?: SandboxConfig): Promise<void> {
  const r = await sb.execute('return context.input.n * 2 + [1, 2, 3].reduce((a, b) => a + b, 0)', { task: 'health', input: { n: 21 } }, { config });
  expectSuccess(r, '48');
}
