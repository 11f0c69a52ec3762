/**
 * Desktop launcher: the same extension-host suite through @vscode/test-electron, for developer
 * machines that can download the desktop VS Code. (These machines and CI cannot; they use
 * test/launch/headless.ts, which runs the very same runner module in code-server.)
 *
 *   npm run test:vscode:desktop
 */
import { runTests } from '@vscode/test-electron';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildExtensionTests } from './buildTests';
import { repoRoot } from './codeServer';

async function main(): Promise<void> {
  const extensionTestsPath = await buildExtensionTests();
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'agent-memory-desktop-'));
  await runTests({
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath,
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
