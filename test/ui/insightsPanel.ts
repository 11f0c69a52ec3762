/** Reading the Insights webview in a workbench: its charts' data and its tiles. */
import * as assert from 'node:assert/strict';
import type { Frame } from 'playwright-core';
import type { ChartSummary } from '../../src/views/insights/model';
import type { Workbench } from './workbench';

/** The webview's inner frame holding the charts (webviews are nested iframes). */
export async function chartsFrame(wb: Workbench): Promise<Frame> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    for (const frame of wb.page.frames()) {
      const ok = await frame.evaluate(() => typeof (globalThis as unknown as { agentMemoryCharts?: unknown }).agentMemoryCharts === 'object').catch(() => false);
      if (ok) return frame;
    }
    if (Date.now() > deadline) throw new Error('the Insights webview did not load its script');
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** What each chart draws, as the webview itself summarises its live Chart.js instances. */
export async function chartData(frame: Frame): Promise<Record<string, ChartSummary>> {
  return frame.evaluate(() => (globalThis as unknown as { agentMemorySummaries: () => Record<string, ChartSummary> }).agentMemorySummaries());
}

/** The webview's resolved theme colours: its background, text, and the theme's contrast border (empty outside high contrast). */
export async function themeColors(frame: Frame): Promise<{ bg: string; fg: string; contrastBorder: string; bodyClass: string }> {
  // Runs in the webview (a string: this project's Node typings have no DOM).
  return frame.evaluate(`(() => {
    const style = getComputedStyle(document.body);
    const probe = document.createElement('canvas').getContext('2d');
    const canonical = (c) => {
      if (!c.trim()) return '';
      probe.fillStyle = '#000000';
      probe.fillStyle = c.trim();
      return String(probe.fillStyle);
    };
    return { bg: canonical(style.backgroundColor), fg: canonical(style.color), contrastBorder: canonical(style.getPropertyValue('--vscode-contrastBorder')), bodyClass: document.body.className };
  })()`);
}

/** Waits until the Insights tiles read `expected` (the panel redraws a moment after a store change). */
export async function tilesRead(wb: Workbench, expected: RegExp, timeoutMs = 30_000): Promise<void> {
  const frame = await chartsFrame(wb);
  let text = '';
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await wb.page.waitForTimeout(500)) {
    text = await frame.locator('#tiles').innerText();
    if (expected.test(text)) return;
  }
  assert.match(text, expected);
}
