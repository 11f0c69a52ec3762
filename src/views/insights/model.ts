/**
 * What the Insights panel sends its webview, and the messages back. Shared by the extension
 * side (panel.ts) and the webview script (webview.ts); pure, no vscode, no DOM.
 * The memory part is computed by the store (MemoryStoreApi.insights); the sandbox part from
 * the pool's own metrics and its bounded list of recent runs.
 */
import type { MemoryInsights } from '../../memory/types';
import type { ExecutionRecord, SandboxMetrics } from '../../sandbox/types';

export interface LatencyBin {
  /** Inclusive lower bound, exclusive upper bound (Infinity for the last bin). */
  fromMs: number;
  toMs: number;
  count: number;
}

export interface SandboxInsights {
  total: number;
  byKind: SandboxMetrics['byKind'];
  p50Ms: number;
  p95Ms: number;
  /** Histogram of the recent runs' durations (the pool keeps the last 100). */
  latency: LatencyBin[];
  recentRuns: number;
}

export interface InsightsData {
  memory: MemoryInsights;
  /** Undefined until the sandbox has been started in this window. */
  sandbox?: SandboxInsights;
}

export type ToWebview = { type: 'data'; data: InsightsData } | { type: 'error'; message: string };

export type FromWebview =
  | { type: 'ready' }
  /** After a render: what each chart drew (tests assert on it) and how long the first paint took. */
  | { type: 'drawn'; charts: Record<string, ChartSummary>; firstPaintMs?: number }
  | { type: 'openEpisodes' | 'refresh' };

export interface ChartSummary {
  labels: string[];
  /**
   * `color`: the dataset's colour (the theme's: it changes with the theme), `border` its outline
   * (the contrast border in high contrast); `pattern`, in high contrast, what tells the series
   * apart besides colour (a bar's fill pattern, a line's point style and dash). Colours as the
   * canvas reads them (#rrggbb or rgba()).
   */
  datasets: Array<{ label: string; data: Array<number | null>; color: string; border: string; pattern?: string }>;
}

/** Bin edges in ms: roughly logarithmic, readable. */
export const LATENCY_EDGES_MS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

export function latencyHistogram(durationsMs: number[], edges = LATENCY_EDGES_MS): LatencyBin[] {
  const bins = edges.map((fromMs, i) => ({ fromMs, toMs: edges[i + 1] ?? Infinity, count: 0 }));
  for (const d of durationsMs) {
    if (!Number.isFinite(d) || d < 0) continue;
    let i = bins.length - 1;
    while (i > 0 && d < bins[i].fromMs) i--;
    bins[i].count++;
  }
  // Trailing empty bins say nothing; keep at least one.
  let end = bins.length;
  while (end > 1 && bins[end - 1].count === 0) end--;
  return bins.slice(0, end);
}

export function sandboxInsights(metrics: SandboxMetrics, recent: ExecutionRecord[]): SandboxInsights {
  return {
    total: metrics.total,
    byKind: metrics.byKind,
    p50Ms: metrics.p50Ms,
    p95Ms: metrics.p95Ms,
    latency: latencyHistogram(recent.map((r) => r.durationMs)),
    recentRuns: recent.length,
  };
}

export function binLabel(bin: LatencyBin): string {
  return bin.toMs === Infinity ? `≥ ${bin.fromMs} ms` : `${bin.fromMs}–${bin.toMs} ms`;
}
