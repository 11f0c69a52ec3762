/**
 * The one mocha runner for the extension-host suite. Both launchers (test/launch/desktop.ts with
 * @vscode/test-electron, test/launch/headless.ts with code-server) pass this module as
 * extensionTestsPath; VS Code calls run() inside the real extension host.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import { OUTPUT_MARKER } from './markers';


export function run(): Promise<void> {
  // Pre-format each line (the host forwards console arguments unformatted) and mark it.
  Mocha.reporters.Base.consoleLog = (...args: unknown[]): void => {
    for (const line of format(...args).split('\n')) console.log(OUTPUT_MARKER + line);
  };
  // MOCHA_GREP (passed through the launcher's environment) narrows the run while debugging.
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec', grep: process.env.MOCHA_GREP || undefined, invert: process.env.MOCHA_INVERT === '1' });
  const dir = __dirname;
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith('.test.js')) mocha.addFile(path.join(dir, f));
  }
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed.`)) : resolve()));
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
