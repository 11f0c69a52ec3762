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

export async function chartData(frame: Frame): Promise<Record<string, ChartSummary>> {
  return frame.evaluate(() => {
    const charts = (globalThis as unknown as { agentMemoryCharts: Map<string, { data: { labels?: unknown[]; datasets: Array<{ label?: string; data: unknown[]; backgroundColor?: unknown }> } }> }).agentMemoryCharts;
    const out: Record<string, ChartSummary> = {};
    for (const [id, c] of charts) {
      out[id] = {
        labels: (c.data.labels ?? []).map(String),
        datasets: c.data.datasets.map((d) => ({ label: String(d.label), data: d.data.map((v) => (typeof v === 'number' ? v : null)), color: String(Array.isArray(d.backgroundColor) ? d.backgroundColor[0] : d.backgroundColor) })),
      };
    }
    return out;
  });
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
