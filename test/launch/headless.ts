/**
 * Headless launcher for machines that cannot download the desktop VS Code (these machines and CI):
 * runs the extension-host suite inside code-server's real extension host, opened in Chromium.
 * Prints mocha's output, exits with the suite's real exit code, stops every process it started.
 *
 *   node --import tsx test/launch/headless.ts [--timeout-ms N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildExtensionTests } from './buildTests';
import { OUTPUT_MARKER, SCREENSHOT_MARKER } from '../vscode/markers';
import { openBrowser, repoRoot, startCodeServer, type BrowserSession, type CodeServer } from './codeServer';

async function main(): Promise<number> {
  const timeoutIdx = process.argv.indexOf('--timeout-ms');
  const timeoutMs = timeoutIdx > 0 ? Number(process.argv[timeoutIdx + 1]) : 10 * 60_000;
  const started = Date.now();
  const runner = await buildExtensionTests();
  let server: CodeServer | undefined;
  let browser: BrowserSession | undefined;
  const noise: string[] = [];
  mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
  try {
    server = await startCodeServer({ settings: { 'chat.mcp.access': 'all' } });
    mkdirSync(path.join(server.workspace, 'src'), { recursive: true });
    writeFileSync(path.join(server.workspace, 'src', 'sample.js'), 'const answer = 6 * 7;\nreturn { answer };\n');
    process.stderr.write(`[headless] code-server ready on ${server.origin} after ${Date.now() - started} ms\n`);
    browser = await openBrowser();
    const { page } = browser;
    let settle: (code: number) => void = () => undefined;
    const exitCode = new Promise<number>((resolve) => (settle = resolve));
    await page.exposeFunction('codeAutomationExit', (code: number) => settle(Number(code)));
    page.on('console', (msg) => {
      // Mocha's output arrives as console messages from the extension host, each line marked by the runner.
      const text = msg.text();
      const shot = text.indexOf(SCREENSHOT_MARKER);
      if (shot >= 0) {
        // A test asked for a picture of the workbench as it is now (see test/vscode/helpers.ts).
        const name = text.slice(shot + SCREENSHOT_MARKER.length).trim().replace(/[^\w.-]+/g, '-');
        const file = path.join(repoRoot, 'test-results', 'ui', `${name}.png`);
        mkdirSync(path.dirname(file), { recursive: true });
        void page.screenshot({ path: file }).then(() => process.stderr.write(`[headless] screenshot ${path.relative(repoRoot, file)}\n`), () => undefined);
        return;
      }
      const at = text.indexOf(OUTPUT_MARKER);
      if (at >= 0) process.stdout.write(text.slice(at + OUTPUT_MARKER.length) + '\n');
      else noise.push(text);
    });
    page.on('pageerror', (err) => process.stderr.write(`[headless] page error: ${err.message}\n`));
    const url = server.url([
      ['extensionDevelopmentPath', server.remote(repoRoot)],
      ['extensionTestsPath', server.remote(runner)],
    ]);
    await page.goto(url);
    const timer = new Promise<number>((resolve) => setTimeout(() => resolve(-1), timeoutMs).unref());
    const code = await Promise.race([exitCode, timer]);
    if (code === -1) {
      process.stderr.write(`[headless] the suite did not finish within ${timeoutMs} ms\n`);
      await page.screenshot({ path: path.join(repoRoot, 'test-results', 'headless-timeout.png') }).catch(() => undefined);
      process.stderr.write(server.output().slice(-4000));
      return 1;
    }
    process.stderr.write(`[headless] extension-host suite exited with ${code} after ${Date.now() - started} ms\n`);
    return code;
  } finally {
    writeFileSync(path.join(repoRoot, 'test-results', 'extension-host-console.log'), noise.join('\n'));
    await browser?.close();
    await server?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[headless] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
