// Bundles the extension, the sandbox and memory workers, the standalone CLI and the Insights
// webview script into dist/ (the sandbox's guest runtime, src/sandbox/guest/, is inlined as
// text: scripts/guest-bundle.mjs),
// and copies the WASM files they load at run time next to them (no node_modules
// and no network at run time). `node esbuild.config.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { guestBundlePlugin } from './scripts/guest-bundle.mjs';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production') || process.env.NODE_ENV === 'production';
const outdir = 'dist';

/** WASM files the bundles load from their own folder. */
const wasmFiles = [
  ['@jitl/quickjs-wasmfile-release-sync/wasm', 'quickjs-release-sync.wasm'],
  ['sql.js/dist/sql-wasm.wasm', 'sql-wasm.wasm'],
];

function copyWasm() {
  mkdirSync(outdir, { recursive: true });
  for (const [from, to] of wasmFiles) {
    copyFileSync(require.resolve(from), path.join(outdir, to));
  }
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  // src/memory falls back to require.resolve('sql.js/…wasm') only when run from source (tests);
  // the bundles load the copy next to themselves, so the unresolvable fallback is expected.
  logOverride: { 'require-resolve-not-external': 'silent' },
  external: ['vscode'],
};

const entries = [
  { entryPoints: { extension: 'src/extension.ts' } },
  { entryPoints: { 'sandbox-worker': 'src/sandbox/worker.ts' } },
  { entryPoints: { 'memory-worker': 'src/memory/service/worker.ts' } },
  { entryPoints: { cli: 'src/mcp/cli.ts' }, banner: { js: '#!/usr/bin/env node' } },
  // The Insights webview's script (Chart.js bundled in; the webview loads nothing from the network).
  { entryPoints: { 'insights-webview': 'src/webview/insights.ts' }, platform: 'browser', format: 'iife', target: 'es2022', external: [] },
].filter((e) => existsSync(Object.values(e.entryPoints)[0]));

const copyPlugin = {
  name: 'copy-wasm',
  setup(build) {
    build.onEnd((result) => {
      if (result.errors.length === 0) copyWasm();
    });
  },
};

const contexts = await Promise.all(
  entries.map((e) => esbuild.context({ ...common, ...e, outdir, plugins: [guestBundlePlugin, copyPlugin] })),
);

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[esbuild] watching for changes…');
} else {
  const started = Date.now();
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  if (existsSync(path.join(outdir, 'cli.js'))) chmodSync(path.join(outdir, 'cli.js'), 0o755);
  console.log(`[esbuild] built ${entries.length} bundles in ${Date.now() - started} ms`);
}
