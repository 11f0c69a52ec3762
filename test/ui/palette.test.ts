import * as assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Workbench } from './workbench';

describe('UI: the packaged extension in a real workbench', function () {
  this.timeout(300_000);
  let wb: Workbench;

  before(async () => {
    wb = await Workbench.open();
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
    const logLine = wb.page.locator('.part.panel .view-lines', { hasText: 'Agent Memory activated' }).first();
    // A loaded 2-core machine can swallow the first keystrokes of a fresh workbench: try as a person would, up to three times.
    for (let attempt = 1; ; attempt++) {
      await wb.runCommand('Agent Memory: Show Log');
      try {
        await logLine.waitFor({ timeout: 30_000 });
        break;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
    // Monaco renders spaces as no-break spaces.
    assert.match((await logLine.innerText()).replace(/\s+/g, ' '), /\[info\] Agent Memory activated/);
    await wb.screenshot('show-log');
  });
});
