/**
 * Bundles the extension-host suite (test/vscode/**) into out/test/vscode/ so both launchers
 * (desktop @vscode/test-electron and headless code-server) load the same compiled files.
 */
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './codeServer';

export const vscodeTestsOut = path.join(repoRoot, 'out', 'test', 'vscode');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return testFiles(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Returns the path of the runner module to pass as extensionTestsPath. */
export async function buildExtensionTests(): Promise<string> {
  const src = path.join(repoRoot, 'test', 'vscode');
  rmSync(vscodeTestsOut, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [path.join(src, 'index.ts'), ...testFiles(src)],
    outdir: vscodeTestsOut,
    outbase: src,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  return path.join(vscodeTestsOut, 'index.js');
}
