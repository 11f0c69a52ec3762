/**
 * Builds a production bundle and packages it as a .vsix with @vscode/vsce, offline
 * (the bundles carry their dependencies, so no node_modules are packed). Prints the size.
 *   npm run package            → agent-memory-<version>.vsix in the repo root
 *   packageVsix(outDir)        → used by the UI tests
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

export function packageVsix(outDir = root): string {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  const out = path.join(outDir, `${pkg.name}-${pkg.version}.vsix`);
  execFileSync(process.execPath, ['esbuild.config.mjs', '--production'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return out;
}

if (require.main === module) {
  const started = Date.now();
  const file = packageVsix();
  const bytes = statSync(file).size;
  console.log(`${path.relative(process.cwd(), file)}: ${(bytes / 1024 / 1024).toFixed(2)} MB (${bytes} bytes), packaged in ${Date.now() - started} ms`);
}
