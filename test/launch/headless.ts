/**
 * Headless launcher for machines that cannot download the desktop VS Code (these machines and CI):
 * runs the extension-host suite inside code-server's real extension host, opened in Chromium.
 * Prints mocha's output, exits with the suite's real exit code, stops every process it started.
 *
 * Two passes: the whole suite in a trusted workspace, then the tests named "untrusted workspace"
 * in a workspace VS Code does not trust (workspace trust on, no startup prompt).
 *
 *   node --import tsx test/launch/headless.ts [--timeout-ms N] [--trusted-only]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildExtensionTests } from './buildTests';
import { DOM_TEXT_MARKER, OUTPUT_MARKER, SCREENSHOT_MARKER, TYPE_MARKER } from '../vscode/markers';
import { openBrowser, repoRoot, startCodeServer, type BrowserSession, type CodeServer } from './codeServer';

const UNTRUSTED_GREP = 'untrusted workspace';

interface Pass {
  name: string;
  trusted: boolean;
  settings: Record<string, unknown>;
  env: Record<string, string>;
}

const PASSES: Pass[] = [
  { name: 'trusted workspace', trusted: true, settings: { 'chat.mcp.access': 'all' }, env: { MOCHA_GREP: UNTRUSTED_GREP, MOCHA_INVERT: '1' } },
  {
    name: 'untrusted workspace',
    trusted: false,
    // The user asks for the loosest sandbox; an untrusted workspace must still get restrictive.
    settings: {
      'security.workspace.trust.enabled': true,
      'security.workspace.trust.startupPrompt': 'never',
      'agentMemory.sandbox.preset': 'permissive',
      'agentMemory.sandbox.allowedHosts': ['example.com'],
    },
    env: { MOCHA_GREP: UNTRUSTED_GREP },
  },
];

async function runPass(pass: Pass, runner: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let server: CodeServer | undefined;
  let browser: BrowserSession | undefined;
  const noise: string[] = [];
  mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
  // MOCHA_GREP (and MOCHA_INVERT=1) narrow a run by hand; the pass's own filter applies otherwise.
  const grep = process.env.MOCHA_GREP ? { MOCHA_GREP: process.env.MOCHA_GREP, MOCHA_INVERT: process.env.MOCHA_INVERT ?? '' } : pass.env;
  // Tells the suite a launcher answers its markers (typing, DOM texts): the desktop runner does not.
  const env = { ...grep, AGENT_MEMORY_HEADLESS: '1' };
  try {
    server = await startCodeServer({ settings: pass.settings, trusted: pass.trusted, env });
    mkdirSync(path.join(server.workspace, 'src'), { recursive: true });
    writeFileSync(path.join(server.workspace, 'src', 'sample.js'), 'const answer = 6 * 7;\nreturn { answer };\n');
    process.stderr.write(`[headless] ${pass.name}: code-server ready on ${server.origin} after ${Date.now() - started} ms\n`);
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
      const dom = text.indexOf(DOM_TEXT_MARKER);
      if (dom >= 0) {
        // A test asked what the workbench shows (see domTexts in test/vscode/helpers.ts).
        const [name, ...selector] = text.slice(dom + DOM_TEXT_MARKER.length).trim().split(' ');
        const file = path.join(repoRoot, 'test-results', 'dom', `${name.replace(/[^\w.-]+/g, '-')}.json`);
        mkdirSync(path.dirname(file), { recursive: true });
        void page
          .locator(selector.join(' '))
          .allInnerTexts()
          .then((texts) => writeFileSync(file, JSON.stringify(texts)), (err: Error) => writeFileSync(file, JSON.stringify({ error: err.message })));
        return;
      }
      const typed = text.indexOf(TYPE_MARKER);
      if (typed >= 0) {
        // A test types into the focused element (a quick pick's filter, say), key by key.
        void page.keyboard.type(text.slice(typed + TYPE_MARKER.length), { delay: 20 }).catch(() => undefined);
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
      process.stderr.write(`[headless] ${pass.name}: the suite did not finish within ${timeoutMs} ms\n`);
      await page.screenshot({ path: path.join(repoRoot, 'test-results', `headless-timeout-${pass.trusted ? 'trusted' : 'untrusted'}.png`) }).catch(() => undefined);
      process.stderr.write(server.output().slice(-4000));
      return 1;
    }
    process.stderr.write(`[headless] ${pass.name}: extension-host suite exited with ${code} after ${Date.now() - started} ms\n`);
    return code;
  } finally {
    writeFileSync(path.join(repoRoot, 'test-results', `extension-host-console-${pass.trusted ? 'trusted' : 'untrusted'}.log`), noise.join('\n'));
    await browser?.close();
    await server?.stop();
  }
}

async function main(): Promise<number> {
  const timeoutIdx = process.argv.indexOf('--timeout-ms');
  const timeoutMs = timeoutIdx > 0 ? Number(process.argv[timeoutIdx + 1]) : 10 * 60_000;
  const runner = await buildExtensionTests();
  let worst = 0;
  // --trusted-only: the first pass alone (the views bench needs no untrusted run).
  const passes = process.argv.includes('--trusted-only') ? PASSES.slice(0, 1) : PASSES;
  for (const pass of passes) {
    const code = await runPass(pass, runner, timeoutMs);
    if (code !== 0) worst = code;
  }
  return worst;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[headless] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
