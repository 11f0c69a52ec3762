import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Workbench } from './workbench';

/** Text of the visible Output view; Monaco renders spaces as no-break spaces. */
async function outputText(wb: Workbench): Promise<string> {
  return (await wb.page.locator('.part.panel .view-lines').first().innerText()).replace(/\s+/g, ' ');
}

/** Runs a palette command until the expected text shows in the panel (a loaded machine can drop keystrokes). */
async function runUntilOutput(wb: Workbench, title: string, expected: string): Promise<void> {
  await wb.runUntilVisible(title, wb.page.locator('.part.panel .view-lines', { hasText: expected }).first());
}

describe('UI: the packaged extension in a real workbench', function () {
  this.timeout(300_000);
  let wb: Workbench;

  before(async () => {
    const workspace = mkdtempSync(path.join(os.tmpdir(), 'agent-memory-ui-ws-'));
    mkdirSync(path.join(workspace, 'src'));
    writeFileSync(path.join(workspace, 'src', 'sample.js'), '// Sum the squares of 1..10\nconst squares = Array.from({ length: 10 }, (_, i) => (i + 1) ** 2);\nconsole.log("squares:", squares.join(" "));\nreturn { total: squares.reduce((a, b) => a + b, 0) };\n');
    writeFileSync(path.join(workspace, 'src', 'forbidden.js'), "const cp = require('child_process');\nreturn cp.execSync('id').toString();\n");
    wb = await Workbench.open({ workspace });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await wb?.screenshot(`failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}`);
  });

  after(async () => {
    await wb?.close();
  });

  it('installs from the .vsix into the extensions folder', () => {
    assert.ok(existsSync(wb.vsix));
    const installed = readdirSync(wb.server.extensionsDir).filter((d) => d.startsWith('agent-memory.agent-memory-'));
    assert.equal(installed.length, 1, `installed: ${readdirSync(wb.server.extensionsDir).join(', ')}`);
    assert.ok(existsSync(path.join(wb.server.extensionsDir, installed[0], 'dist', 'extension.js')));
  });

  it('runs "Agent Memory: Show Log" from the command palette and shows the activation log line', async () => {
    await runUntilOutput(wb, 'Agent Memory: Show Log', 'Agent Memory activated');
    assert.match(await outputText(wb), /\[info\] Agent Memory activated in [\d.]+ ms/);
    await wb.screenshot('show-log');
  });

  it('runs the open JavaScript file with "Agent Memory: Run in Sandbox": value, console and time in its output channel and a result view to copy from', async () => {
    const page = wb.page;
    await wb.openFile('src/sample.js');
    await runUntilOutput(wb, 'Agent Memory: Run in Sandbox', 'value: {"total":385}');
    // The output channel: a header naming the file, the outcome with its time, the value, the console.
    const text = await outputText(wb);
    assert.match(text, /--- \d{4}-\d\d-\d\dT[\d:.]+Z · src\/sample\.js success in [\d.]+ ms value: \{"total":385\} stdout: squares: 1 4 9 16 25 36 49 64 81 100/, text);
    assert.doesNotMatch(text, /\[info\]/, 'the Output view shows the sandbox channel, not the log');
    await wb.screenshot('run-in-sandbox');

    // The result view, opened beside the file: the same text, selectable and copyable.
    const group = page.locator('.editor-group-container', { has: page.locator('.tab.active', { hasText: 'Sandbox Result.log' }) }).first();
    await group.waitFor({ timeout: 30_000 });
    const lines = group.locator('.view-lines');
    await lines.filter({ hasText: 'value: {"total":385}' }).waitFor({ timeout: 30_000 });
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: wb.server.origin });
    await lines.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Control+C');
    let copied = '';
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && !copied.includes('total'); await page.waitForTimeout(250)) {
      copied = await page.evaluate('navigator.clipboard.readText()');
    }
    assert.match(copied, /^--- \S+ · src\/sample\.js\nsuccess in [\d.]+ ms\nvalue: \{"total":385\}\nstdout:\nsquares: 1 4 9 16 25 36 49 64 81 100\n?$/, `copied from the result view: ${JSON.stringify(copied)}`);
    await wb.screenshot('run-in-sandbox-result-view');
  });

  it('refuses a forbidden snippet with a security violation', async () => {
    await wb.openFile('src/forbidden.js');
    await runUntilOutput(wb, 'Agent Memory: Run in Sandbox', 'security violation (subprocess)');
    await wb.screenshot('run-in-sandbox-violation');
    // The warning also goes to the notifications (toasts are hidden in this mode: read the panel).
    const note = wb.page.locator('.notifications-center .notification-list-item', { hasText: 'Sandbox refused the code (subprocess)' }).first();
    await wb.runUntilVisible('Notifications: Show Notifications', note, 15_000);
    await wb.screenshot('notifications-violation');
    await wb.page.keyboard.press('Escape');
  });

  it('fills the Memory explorer from its welcome button', async () => {
    await wb.page.locator('.activitybar [aria-label^="Agent Memory"]').first().click();
    const button = wb.page.locator('.welcome-view-content a, .welcome-view-content .monaco-button', { hasText: 'Run a Sample' }).first();
    await button.waitFor({ timeout: 60_000 });
    await button.click();
    await wb.page.locator('.monaco-list-row', { hasText: 'Sample: sum the squares' }).first().waitFor({ timeout: 60_000 });
    await wb.page.locator('.monaco-list-row', { hasText: 'samples' }).first().waitFor({ timeout: 10_000 });
    await wb.screenshot('memory-explorer-sample');
  });

  it('finds the episode with "Agent Memory: Search Memory" and opens it', async () => {
    const page = wb.page;
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Sample: sum the squares' }).first();
    // The quick pick closes when the workbench takes focus (a late notification or view refresh
    // from the previous test), taking its rows with it: retry the whole search, not one step of it.
    for (let attempt = 1; ; attempt++) {
      try {
        await wb.runCommand('Agent Memory: Search Memory');
        await page.keyboard.type('squares of a list', { delay: 20 });
        await row.waitFor({ timeout: 20_000 });
        assert.match(await row.innerText({ timeout: 5_000 }), /score \d/);
        await wb.screenshot('search-memory');
        await page.keyboard.press('Enter');
        await page.locator('.tab.active', { hasText: /\.md/ }).waitFor({ timeout: 30_000 });
        break;
      } catch (err) {
        await page.keyboard.press('Escape');
        if (attempt === 3) throw err;
      }
    }
    await page.locator('.editor-instance .view-lines', { hasText: 'Sample: sum the squares' }).first().waitFor({ timeout: 30_000 });
    await wb.screenshot('episode-document');
  });
});
