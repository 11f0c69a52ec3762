/**
 * The Insights panel and the "no dead ends" messages, as a person meets them in a real workbench.
 * The episodes are recorded over MCP by a real client (the SDK over stdio) talking to the
 * standalone server on the workspace's own store, before the extension opens it; then
 * "Agent Memory: Show Insights" must draw exactly those, in light, dark and high-contrast (dark and light) themes.
 */
import * as assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Frame } from 'playwright-core';
import type { ChartSummary } from '../../src/views/insights/model';
import { contrastRatio, GRAPHICS_CONTRAST, TEXT_CONTRAST } from '../../src/views/insights/contrast';
import { chartData, chartsFrame, themeColors, tilesRead } from './insightsPanel';
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

/** Every drawn series' colour, outline and pattern, chart by chart (charts with nothing to show are hidden: left out). */
function looks(charts: Record<string, ChartSummary>): Array<{ chart: string; label: string; color: string; border: string; pattern?: string }> {
  return Object.entries(charts)
    .filter(([, c]) => c.labels.length > 0)
    .flatMap(([chart, c]) => c.datasets.map((d) => ({ chart, label: d.label, color: d.color, border: d.border, ...(d.pattern ? { pattern: d.pattern } : {}) })));
}

/**
 * A high-contrast theme's charts: its own colours (not Dark Modern's), every mark at least 3:1
 * against the background and its text 4.5:1 (WCAG 1.4.11, 1.4.3), bars outlined in the theme's
 * contrast border, and no series told apart by colour alone.
 */
async function assertHighContrast(frame: Frame, theme: string, charts: Record<string, ChartSummary>, darkModern: Record<string, ChartSummary>): Promise<void> {
  const { bg, fg, contrastBorder, bodyClass } = await themeColors(frame);
  assert.match(bodyClass, /vscode-high-contrast/, `${theme}: the webview's body class`);
  assert.ok(contrastBorder, `${theme} defines --vscode-contrastBorder`);
  const drawn = looks(charts);
  assert.notDeepEqual(drawn, looks(darkModern), `${theme} draws Dark Modern's colours`);
  assert.ok(contrastRatio(fg, bg) >= TEXT_CONTRAST, `${theme}: text ${fg} on ${bg}`);
  for (const d of drawn) {
    const what = `${theme}, ${d.chart} / ${d.label}`;
    assert.ok(contrastRatio(d.color, bg) >= GRAPHICS_CONTRAST, `${what}: ${d.color} on ${bg} is ${contrastRatio(d.color, bg).toFixed(2)}:1`);
    assert.ok(contrastRatio(d.border, bg) >= GRAPHICS_CONTRAST, `${what}: outline ${d.border} on ${bg}`);
    if (d.chart !== 'trend') assert.equal(d.border, contrastBorder, `${what}: bars are outlined in the contrast border`);
  }
  // The stacked outcomes (and the trend lines) differ by pattern too, each series its own.
  for (const chart of ['outcomes', 'trend']) {
    const patterns = drawn.filter((d) => d.chart === chart).map((d) => d.pattern);
    assert.ok(patterns.every(Boolean), `${theme}: every ${chart} series has a pattern: ${JSON.stringify(patterns)}`);
    assert.equal(new Set(patterns).size, patterns.length, `${theme}: ${chart} patterns are distinct: ${JSON.stringify(patterns)}`);
  }
}

/**
 * Switches the colour theme as a person does (Preferences: Color Theme, type its name, Enter) and
 * waits until the workbench wears it. (code-server does not pick up an edited settings file.)
 */
const THEME_CLASS = { 'Light Modern': 'vs', 'Dark Modern': 'vs-dark', 'Dark High Contrast': 'hc-black', 'Light High Contrast': 'hc-light' } as const;

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
    // Large enough that the import is still writing batches when Cancel is clicked or the file
    // changes (20,000 were imported too fast for either).
    writeBigExport(path.join(workspace, 'big-export.jsonl'), 80_000);
    writeBigExport(path.join(workspace, 'cut-off-export.jsonl'), 20_000, true);
    writeBigExport(path.join(workspace, 'changing-export.jsonl'), 80_000);
    wb = await Workbench.open({ workspace });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') await wb?.screenshot(`failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}`);
  });

  after(async () => {
    await wb?.close();
  });

  it('"Agent Memory: Show Insights" draws the episodes recorded over MCP, in light, dark and high-contrast themes', async () => {
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
    let darkModern = light;
    const screenshots = { 'Dark Modern': 'insights-dark', 'Dark High Contrast': 'insights-high-contrast-dark', 'Light High Contrast': 'insights-high-contrast-light' };
    for (const theme of ['Dark Modern', 'Dark High Contrast', 'Light High Contrast'] as const) {
      await setTheme(wb, theme);
      const before = JSON.stringify(looks(previous));
      let now: Record<string, ChartSummary> = {};
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
        now = await chartData(frame);
        if (JSON.stringify(looks(now)) !== before) break;
      }
      assert.notEqual(JSON.stringify(looks(now)), before, `the charts did not take the ${theme} colours`);
      assert.equal(sum(now.outcomes, 'Success'), expected.success);
      assert.equal(sum(now.outcomes, 'Failure'), expected.failure);
      if (theme === 'Dark Modern') darkModern = now;
      else await assertHighContrast(frame, theme, now, darkModern);
      await wb.screenshot(screenshots[theme]);
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
