/**
 * The Insights panel and the "no dead ends" messages, as a person meets them in a real workbench.
 * The episodes are recorded over MCP by a real client (the SDK over stdio) talking to the
 * standalone server on the workspace's own store, before the extension opens it; then
 * "Agent Memory: Show Insights" must draw exactly those, in a light and a dark theme.
 */
import * as assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChartSummary } from '../../src/views/insights/model';
import { chartData, chartsFrame, tilesRead } from './insightsPanel';
import { StandaloneServer, storeFolder, type Outcome } from './memoryMcp';
import { Workbench } from './workbench';

/** Records episodes through the memory-mcp server over stdio on the given store folder. */
async function recordOverMcp(storeDir: string): Promise<{ success: number; failure: number }> {
  const runs: Array<{ task: string; outcome: Outcome }> = [
    { task: 'Fix the date parser for leap years', outcome: { type: 'success', verdict: 'tests pass' } },
    { task: 'Speed up the nightly report query', outcome: { type: 'success', verdict: '3x faster' } },
    { task: 'Make the upload widget accessible', outcome: { type: 'success', verdict: 'axe clean' } },
    { task: 'Migrate the billing cron to the queue', outcome: { type: 'failure', reason: 'queue not provisioned' } },
  ];
  const server = await StandaloneServer.start(storeDir);
  try {
    for (const r of runs) await server.record(r.task, 'ui-insights', r.outcome);
  } finally {
    await server.close();
  }
  return { success: 3, failure: 1 };
}

/**
 * An export file (JSON Lines) of `n` completed episodes, big enough that its import can be
 * cancelled midway; with `badLastLine`, its last line is not JSON (the import fails late).
 */
function writeBigExport(file: string, n: number, badLastLine = false): void {
  const at = new Date().toISOString();
  const lines = [JSON.stringify({ format: 'agent-memory-export', version: 1, exported_at: at, episodes: n })];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ episode_id: `ep_ui_cancel_${i}`, task: `Imported task ${i} about the ${['parser', 'cache', 'router'][i % 3]}`, domain: 'ui-cancel', task_type: 'testing', context: { tags: [] }, started_at: at, ended_at: at, steps: [{ n: 1, timestamp: at, tool: 'run_tests', action: 'npm test', parameters: {}, result: { status: 'success' } }], outcome: { type: 'success', verdict: 'green' }, reward: 0.8 }));
  }
  if (badLastLine) lines.push('{"episode_id": "ep_ui_cut_off", "task": "cut off mid-wri');
  writeFileSync(file, lines.join('\n') + '\n');
}

function sum(c: ChartSummary, label: string): number {
  return (c.datasets.find((d) => d.label === label)?.data ?? []).reduce<number>((s, v) => s + (v ?? 0), 0);
}

/**
 * Switches the colour theme as a person does (Preferences: Color Theme, type its name, Enter) and
 * waits until the workbench wears it. (code-server does not pick up an edited settings file.)
 */
const THEME_CLASS = { 'Light Modern': 'vs', 'Dark Modern': 'vs-dark', 'Dark High Contrast': 'hc-black' } as const;

async function setTheme(wb: Workbench, theme: keyof typeof THEME_CLASS): Promise<void> {
  const wanted = wb.page.locator(`.monaco-workbench.${THEME_CLASS[theme]}`);
  if (await wanted.count()) return;
  for (let attempt = 1; ; attempt++) {
    await wb.runCommand('Preferences: Color Theme');
    await wb.page.keyboard.type(theme, { delay: 20 });
    const row = wb.page.locator('.quick-input-list .monaco-list-row').filter({ has: wb.page.getByText(theme, { exact: true }) }).first();
    try {
      await row.waitFor({ timeout: 10_000 });
      await row.click();
      await wanted.waitFor({ timeout: 20_000 });
      return;
    } catch (err) {
      await wb.screenshot(`theme-${theme.replace(/\W+/g, '-')}-attempt-${attempt}`);
      await wb.page.keyboard.press('Escape');
      if (attempt === 3) throw err;
    }
  }
}

describe('UI: Insights and messages with a way forward', function () {
  this.timeout(400_000);
  let wb: Workbench;
  let workspace: string;

  before(async () => {
    workspace = mkdtempSync(path.join(os.tmpdir(), 'agent-memory-ui-insights-'));
    writeFileSync(path.join(workspace, 'not-an-export.json'), 'this is { not json');
    writeBigExport(path.join(workspace, 'big-export.jsonl'), 20_000);
    writeBigExport(path.join(workspace, 'cut-off-export.jsonl'), 20_000, true);
    writeBigExport(path.join(workspace, 'changing-export.jsonl'), 20_000);
    wb = await Workbench.open({ workspace });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await wb?.screenshot(`failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}`);
  });

  after(async () => {
    await wb?.close();
  });

  it('"Agent Memory: Show Insights" draws the episodes recorded over MCP, in light and dark themes', async () => {
    const expected = await recordOverMcp(await storeFolder(wb));
    await setTheme(wb, 'Light Modern');
    await wb.runCommand('Agent Memory: Show Insights');
    await wb.page.locator('.tab', { hasText: 'Agent Memory Insights' }).first().waitFor({ timeout: 60_000 });
    const frame = await chartsFrame(wb);
    let light: Record<string, ChartSummary> = {};
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
      light = await chartData(frame);
      if (light.outcomes && sum(light.outcomes, 'Success') === expected.success) break;
    }
    assert.equal(sum(light.outcomes, 'Success'), expected.success, JSON.stringify(light.outcomes));
    assert.equal(sum(light.outcomes, 'Failure'), expected.failure);
    assert.deepEqual(light.trend.datasets.map((d) => d.label), ['code_generation']);
    assert.ok(light.patterns.labels.length > 0, 'no patterns drawn');
    // The table behind the outcomes chart carries the same numbers.
    const table = (await frame.locator('#outcomes-table').textContent()) ?? '';
    assert.match(table, /Success/);
    assert.match(await frame.locator('#tiles').innerText(), /4\s*Episodes/);
    // Keyboard: Tab reaches the first chart, Enter opens its table.
    await frame.locator('#outcomes-canvas').focus();
    await wb.page.keyboard.press('Enter');
    assert.equal(await frame.locator('#outcomes details').getAttribute('open'), '');
    await wb.screenshot('insights-light');

    // Each theme: the charts redraw in its colours with the same data.
    let previous = light;
    for (const theme of ['Dark Modern'] as const) {
      await setTheme(wb, theme);
      let now: Record<string, ChartSummary> = {};
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
        now = await chartData(frame);
        if (now.outcomes.datasets[0].color !== previous.outcomes.datasets[0].color) break;
      }
      assert.notEqual(now.outcomes.datasets[0].color, previous.outcomes.datasets[0].color, `the charts did not take the ${theme} colours`);
      assert.equal(sum(now.outcomes, 'Success'), expected.success);
      await wb.screenshot(theme === 'Dark Modern' ? 'insights-dark' : 'insights-high-contrast');
      previous = now;
    }
  });

  it('a failing command shows its message with Retry, Open Log and Open Settings', async () => {
    const page = wb.page;
    await wb.runCommand('Agent Memory: Import Memory…');
    await wb.pickFile(path.join(workspace, 'not-an-export.json'));
    const note = page.locator('.notifications-center .notification-list-item', { hasText: 'Import Memory failed' }).first();
    await wb.runUntilVisible('Notifications: Show Notifications', note, 15_000);
    const text = await note.innerText();
    assert.match(text, /not JSON/);
    assert.match(text, /Nothing was changed/);
    for (const action of ['Retry', 'Open Log', 'Open Settings']) assert.ok(await note.locator('.monaco-button', { hasText: action }).count(), `no ${action} button in: ${text}`);
    await wb.screenshot('failure-with-actions');
    await note.locator('.monaco-button', { hasText: 'Open Log' }).first().click();
    // The log holds the message and then its stack (which can push the first line out of view).
    await page.locator('.part.panel .view-lines', { hasText: 'Nothing was changed.' }).first().waitFor({ timeout: 30_000 });
    await wb.screenshot('failure-open-log');
  });
  /** Imports a workspace file through the palette and the file dialog, with the Insights tiles read first. */
  async function startImport(file: string): Promise<void> {
    await wb.runCommand('Agent Memory: Show Insights');
    await tilesRead(wb, /^4\s+Episodes$/m);
    await wb.runCommand('Agent Memory: Import Memory…');
    await wb.pickFile(path.join(workspace, file));
  }

  /** After an import that must change nothing: the tiles still read the four episodes and two patterns. */
  async function assertUnchanged(screenshot: string): Promise<void> {
    await wb.page.keyboard.press('Escape');
    // The panel redraws on every store change: give a leftover batch time to show.
    await wb.page.waitForTimeout(3_000);
    await wb.runCommand('Agent Memory: Show Insights');
    await tilesRead(wb, /^4\s+Episodes$/m);
    await tilesRead(wb, /^2\s+Patterns$/m);
    await wb.screenshot(screenshot);
  }

  it('a cancelled import changes nothing', async () => {
    const page = wb.page;
    await startImport('big-export.jsonl');
    // The progress notification (toasts are hidden in this mode: the Notifications panel shows it).
    const progress = page.locator('.notifications-center .notification-list-item', { hasText: 'Agent Memory: importing' }).first();
    await wb.runUntilVisible('Notifications: Show Notifications', progress, 15_000);
    // Cancel midway, once batches are written: what they wrote must go again.
    await progress.filter({ hasText: /[1-9]\d* episodes imported/ }).waitFor({ timeout: 60_000 });
    await progress.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
    // The panel closes with its last notification, and toasts are hidden: open it again to read the outcome.
    const note = page.locator('.notifications-center .notification-list-item', { hasText: 'Import cancelled; nothing was changed.' }).first();
    await wb.runUntilVisible('Notifications: Show Notifications', note, 20_000);
    await wb.screenshot('import-cancelled');
    await assertUnchanged('import-cancelled-insights');
  });

  it('an import that fails late (a bad last line, after 20,000 good ones) changes nothing', async () => {
    await startImport('cut-off-export.jsonl');
    const note = wb.page.locator('.notifications-center .notification-list-item', { hasText: 'Import Memory failed' }).filter({ hasText: 'cut-off-export.jsonl' }).first();
    await wb.runUntilVisible('Notifications: Show Notifications', note, 120_000);
    const text = await note.innerText();
    assert.match(text, /line 20002/, `the message names the bad line: ${text}`);
    assert.match(text, /nothing was imported/i);
    for (const action of ['Retry', 'Open Log']) assert.ok(await note.locator('.monaco-button', { hasText: action }).count(), `no ${action} button in: ${text}`);
    await wb.screenshot('import-failed-late');
    await assertUnchanged('import-failed-late-insights');
  });

  it('an import that fails midway (the file changes while its batches are written) changes nothing', async () => {
    const file = path.join(workspace, 'changing-export.jsonl');
    await startImport('changing-export.jsonl');
    const page = wb.page;
    const progress = page.locator('.notifications-center .notification-list-item', { hasText: 'Agent Memory: importing' }).first();
    await wb.runUntilVisible('Notifications: Show Notifications', progress, 15_000);
    // Batches are being written: another program appends a line that is not JSON.
    await progress.filter({ hasText: /[1-9]\d* episodes imported/ }).waitFor({ timeout: 60_000 });
    appendFileSync(file, '{"episode_id": "ep_ui_appended", "task": "half a li\n');
    const note = page.locator('.notifications-center .notification-list-item', { hasText: 'Import Memory failed' }).filter({ hasText: 'changing-export.jsonl' }).first();
    await wb.runUntilVisible('Notifications: Show Notifications', note, 60_000);
    const text = await note.innerText();
    assert.match(text, /changed while it was being imported/, text);
    assert.match(text, /nothing was imported/i);
    await wb.screenshot('import-failed-midway');
    await assertUnchanged('import-failed-midway-insights');
  });
});
