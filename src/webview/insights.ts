/**
 * The Insights webview's script (bundled for the browser into dist/insights-webview.js; no CDN).
 * It only draws: every number comes from the extension (the store's aggregates, the sandbox's
 * metrics) in a `data` message. Colours are the theme's `--vscode-*` variables, re-read when
 * the theme changes; every chart has a table behind it and a keyboard-reachable description.
 */
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { OUTCOME_TYPES, type MemoryInsights, type TrendSeries } from '../memory/types';
import { binLabel, type ChartSummary, type FromWebview, type InsightsData, type ToWebview } from '../views/insights/model';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend, DoughnutController, ArcElement);

declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void; getState(): unknown; setState(state: unknown): void };
const vscode = acquireVsCodeApi();
const started = performance.now();
let firstPaintReported = false;
let current: InsightsData | undefined;
const charts = new Map<string, Chart>();
/** For tests and the curious: the live Chart.js instances by id. */
(window as unknown as { agentMemoryCharts: Map<string, Chart> }).agentMemoryCharts = charts;

interface ViewState {
  groupBy: 'taskType' | 'domain';
  measure: 'successRate' | 'meanReward';
}
const state: ViewState = { groupBy: 'taskType', measure: 'successRate', ...(vscode.getState() as Partial<ViewState> | undefined) };

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function theme(): { fg: string; grid: string; font: string; palette: string[]; outcome: Record<string, string> } {
  const c = (n: string, f: string): string => cssVar(`--vscode-charts-${n}`, f);
  const blue = c('blue', '#3794ff');
  const red = c('red', '#f14c4c');
  const green = c('green', '#89d185');
  const yellow = c('yellow', '#cca700');
  const orange = c('orange', '#d18616');
  const purple = c('purple', '#b180d7');
  const fg = cssVar('--vscode-charts-foreground', cssVar('--vscode-foreground', '#cccccc'));
  return {
    fg,
    grid: cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.35)'),
    font: cssVar('--vscode-font-family', 'sans-serif'),
    palette: [blue, orange, green, purple, yellow, red, fg],
    outcome: { success: green, partial_success: yellow, failure: red, abstained: purple, in_progress: blue },
  };
}

const OUTCOME_LABELS: Record<string, string> = { success: 'Success', partial_success: 'Partial success', failure: 'Failure', abstained: 'Abstained', in_progress: 'In progress' };
const BUCKET_WORDS: Record<MemoryInsights['bucket'], string> = { day: 'daily', week: 'weekly', month: 'monthly' };
const RUN_KINDS = ['success', 'error', 'timeout', 'security_violation'] as const;
const RUN_LABELS: Record<string, string> = { success: 'Success', error: 'Error', timeout: 'Timeout', security_violation: 'Refused (security)' };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function bytes(n: number | undefined): string {
  if (n === undefined) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Fills a section's table from the chart's data: one row per label, one column per dataset. */
function fillTable(id: string, summary: ChartSummary, format: (v: number | null) => string): void {
  const table = document.getElementById(`${id}-table`) as HTMLTableElement;
  table.replaceChildren();
  const head = el('tr');
  head.append(el('th', { scope: 'col' }, document.getElementById(`${id}-table`)!.dataset.first ?? ''));
  for (const ds of summary.datasets) head.append(el('th', { scope: 'col' }, ds.label));
  table.append(el('thead'), el('tbody'));
  table.tHead!.append(head);
  summary.labels.forEach((label, i) => {
    const tr = el('tr');
    tr.append(el('th', { scope: 'row' }, label));
    for (const ds of summary.datasets) tr.append(el('td', {}, format(ds.data[i] ?? null)));
    table.tBodies[0].append(tr);
  });
}

function summarize(chart: Chart): ChartSummary {
  return {
    labels: (chart.data.labels ?? []).map(String),
    datasets: chart.data.datasets.map((d) => ({
      label: String(d.label ?? ''),
      data: (d.data as Array<number | null>).map((v) => (typeof v === 'number' ? v : null)),
      color: String(Array.isArray(d.backgroundColor) ? d.backgroundColor[0] : d.backgroundColor),
    })),
  };
}

/** Creates a chart or updates one in place (live updates keep the canvas and focus). */
function upsert(id: string, config: ChartConfiguration, describe: string, format: (v: number | null) => string): void {
  const section = document.getElementById(id)!;
  const empty = config.data.labels?.length === 0;
  section.classList.toggle('empty', empty);
  const canvas = document.getElementById(`${id}-canvas`) as HTMLCanvasElement;
  canvas.setAttribute('aria-label', describe);
  let chart = charts.get(id);
  if (chart && (chart.config as ChartConfiguration).type === config.type) {
    chart.data = config.data;
    chart.options = config.options ?? {};
    chart.update();
  } else {
    chart?.destroy();
    chart = new Chart(canvas, config);
    charts.set(id, chart);
  }
  fillTable(id, summarize(chart), format);
}

function baseOptions(t: ReturnType<typeof theme>, extra: { stacked?: boolean; indexAxis?: 'x' | 'y'; yMax?: number; legend?: boolean } = {}): ChartConfiguration['options'] {
  const axis = { ticks: { color: t.fg }, grid: { color: t.grid }, border: { color: t.grid } };
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    indexAxis: extra.indexAxis ?? 'x',
    plugins: { legend: { display: extra.legend ?? true, labels: { color: t.fg } }, tooltip: { enabled: true } },
    scales: {
      x: { ...axis, stacked: extra.stacked ?? false, ...(extra.indexAxis === 'y' && extra.yMax !== undefined ? { max: extra.yMax, min: 0 } : {}) },
      y: { ...axis, stacked: extra.stacked ?? false, ...(extra.indexAxis !== 'y' && extra.yMax !== undefined ? { max: extra.yMax, min: 0 } : {}), beginAtZero: true },
    },
  };
}

function drawOutcomes(m: MemoryInsights, t: ReturnType<typeof theme>): void {
  const kinds = [...OUTCOME_TYPES, 'in_progress'] as const;
  const datasets = kinds
    .filter((k) => m.totals.byOutcome[k] > 0)
    .map((k) => ({ label: OUTCOME_LABELS[k], data: m.timeline.map((p) => p[k]), backgroundColor: t.outcome[k], borderColor: t.outcome[k], stack: 'outcomes' }));
  upsert(
    'outcomes',
    { type: 'bar', data: { labels: m.timeline.map((p) => p.start), datasets }, options: baseOptions(t, { stacked: true }) },
    `Episodes per ${m.bucket} by outcome: ${kinds.map((k) => `${m.totals.byOutcome[k]} ${OUTCOME_LABELS[k].toLowerCase()}`).join(', ')}.`,
    (v) => String(v ?? 0),
  );
}

function drawTrend(m: MemoryInsights, t: ReturnType<typeof theme>): void {
  const series: TrendSeries[] = state.groupBy === 'taskType' ? m.byTaskType : m.byDomain;
  const labels = [...new Set(series.flatMap((s) => s.points.map((p) => p.start)))].sort();
  const datasets = series.map((s, i) => {
    const byStart = new Map(s.points.map((p) => [p.start, p]));
    const color = t.palette[i % t.palette.length];
    return {
      label: s.key,
      data: labels.map((l) => {
        const p = byStart.get(l);
        return p ? (state.measure === 'successRate' ? p.successRate : p.meanReward) : null;
      }),
      borderColor: color,
      backgroundColor: color,
      spanGaps: true,
      tension: 0.2,
      pointRadius: 4,
    };
  });
  const what = state.measure === 'successRate' ? 'Success rate' : 'Mean reward';
  document.getElementById('trend-title')!.textContent = `${what} over time by ${state.groupBy === 'taskType' ? 'task type' : 'domain'}`;
  upsert(
    'trend',
    { type: 'line', data: { labels, datasets }, options: baseOptions(t, { yMax: 1 }) },
    `${what} per ${m.bucket}: ${series.map((s) => `${s.key} ${pct(s.successRate)} success over ${s.completed} episodes`).join(', ') || 'no completed episodes'}.`,
    (v) => (v === null ? '–' : state.measure === 'successRate' ? pct(v) : v.toFixed(2)),
  );
}

function drawPatterns(m: MemoryInsights, t: ReturnType<typeof theme>): void {
  const labels = m.topPatterns.map((p) => p.description);
  upsert(
    'patterns',
    {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'Success rate', data: m.topPatterns.map((p) => p.successRate), backgroundColor: t.outcome.success, xAxisID: 'x' },
        ],
      },
      options: {
        ...baseOptions(t, { indexAxis: 'y', yMax: 1, legend: false }),
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (item) => `${pct(Number(item.raw))} success over ${m.topPatterns[item.dataIndex]?.occurrences ?? 0} episodes` } },
        },
      },
    },
    `Top ${m.topPatterns.length} patterns by evidence: ${m.topPatterns.map((p) => `${p.description}, ${pct(p.successRate)} over ${p.occurrences}`).join('; ') || 'none yet'}.`,
    (v) => (v === null ? '–' : pct(v)),
  );
  // The table also carries the evidence count and kind.
  const table = document.getElementById('patterns-table') as HTMLTableElement;
  table.tHead?.rows[0].append(el('th', { scope: 'col' }, 'Evidence (episodes)'), el('th', { scope: 'col' }, 'Kind'));
  m.topPatterns.forEach((p, i) => table.tBodies[0].rows[i]?.append(el('td', {}, String(p.occurrences)), el('td', {}, p.kind.replace(/_/g, ' '))));
}

function drawSandbox(data: InsightsData, t: ReturnType<typeof theme>): void {
  const s = data.sandbox;
  const note = document.getElementById('sandbox-note')!;
  note.textContent = s ? `${s.total} runs in this window · p50 ${s.p50Ms.toFixed(1)} ms · p95 ${s.p95Ms.toFixed(1)} ms · histogram of the last ${s.recentRuns}` : 'The sandbox has not run anything in this window yet.';
  const kindColor: Record<string, string> = { success: t.outcome.success, error: t.outcome.failure, timeout: t.outcome.partial_success, security_violation: t.outcome.abstained };
  const kinds = s ? RUN_KINDS.filter((k) => s.byKind[k] > 0) : [];
  upsert(
    'runs',
    {
      type: 'bar',
      data: { labels: kinds.map((k) => RUN_LABELS[k]), datasets: [{ label: 'Runs', data: kinds.map((k) => s!.byKind[k]), backgroundColor: kinds.map((k) => kindColor[k]) }] },
      options: baseOptions(t, { legend: false }),
    },
    s ? `Sandbox runs by outcome: ${kinds.map((k) => `${s.byKind[k]} ${RUN_LABELS[k].toLowerCase()}`).join(', ')}.` : 'No sandbox runs yet.',
    (v) => String(v ?? 0),
  );
  const bins = s?.latency ?? [];
  upsert(
    'latency',
    { type: 'bar', data: { labels: bins.map(binLabel), datasets: [{ label: 'Runs', data: bins.map((b) => b.count), backgroundColor: t.palette[0] }] }, options: baseOptions(t, { legend: false }) },
    s ? `Latency of the last ${s.recentRuns} runs: ${bins.filter((b) => b.count).map((b) => `${b.count} in ${binLabel(b)}`).join(', ')}.` : 'No sandbox runs yet.',
    (v) => String(v ?? 0),
  );
}

/**
 * What the episodes and patterns take: the live database without its free pages. (Not the files:
 * after a cancelled import the journal holds the import and its undo until the next snapshot.)
 */
function dataBytes(m: MemoryInsights): number {
  return m.size.databaseBytes - m.size.freeBytes;
}

function drawSize(m: MemoryInsights, t: ReturnType<typeof theme>): void {
  const parts: Array<[string, number | undefined]> = [
    ['Data', dataBytes(m)],
    ['Free pages (reused first)', m.size.freeBytes],
    ['Snapshot on disk', m.size.snapshotBytes],
    ['Journal on disk (until the next snapshot)', m.size.journalBytes],
  ];
  upsert(
    'size',
    {
      type: 'bar',
      data: { labels: parts.map(([l]) => l), datasets: [{ label: 'Bytes', data: parts.map(([, v]) => v ?? 0), backgroundColor: t.palette[3] }] },
      options: { ...baseOptions(t, { indexAxis: 'y', legend: false }), plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => bytes(Number(item.raw)) } } } },
    },
    `Store size: ${parts.map(([l, v]) => `${l} ${bytes(v)}`).join(', ')}.`,
    (v) => bytes(v ?? 0),
  );
}

function drawTiles(m: MemoryInsights): void {
  const done = m.totals.completed;
  const success = m.totals.byOutcome.success;
  const tiles: Array<[string, string]> = [
    ['Episodes', String(m.totals.episodes)],
    ['Completed', String(done)],
    ['Success rate', done ? pct(success / done) : '–'],
    ['Mean reward', m.totals.meanReward === undefined ? '–' : m.totals.meanReward.toFixed(2)],
    ['Patterns', String(m.totals.patterns)],
    ['Store data', bytes(dataBytes(m))],
  ];
  const box = document.getElementById('tiles')!;
  box.replaceChildren(
    ...tiles.map(([label, value]) => {
      const d = el('div', { class: 'tile', role: 'group', 'aria-label': `${label}: ${value}` });
      d.append(el('span', { class: 'value' }, value), el('span', { class: 'label' }, label));
      return d;
    }),
  );
  document.getElementById('generated')!.textContent = `Updated ${new Date(m.generatedAt).toLocaleTimeString()} · ${BUCKET_WORDS[m.bucket]} buckets`;
}

function render(): void {
  if (!current) return;
  const t = theme();
  Chart.defaults.color = t.fg;
  Chart.defaults.font.family = t.font;
  Chart.defaults.borderColor = t.grid;
  const m = current.memory;
  document.body.classList.toggle('no-episodes', m.totals.episodes === 0);
  drawTiles(m);
  drawOutcomes(m, t);
  drawTrend(m, t);
  drawPatterns(m, t);
  drawSandbox(current, t);
  drawSize(m, t);
  document.getElementById('error')!.hidden = true;
  const summaries = Object.fromEntries([...charts].map(([id, c]) => [id, summarize(c)]));
  const message: FromWebview = { type: 'drawn', charts: summaries };
  if (!firstPaintReported) {
    firstPaintReported = true;
    message.firstPaintMs = performance.now() - started;
  }
  vscode.postMessage(message);
}

function setupControls(): void {
  for (const input of document.querySelectorAll<HTMLInputElement>('input[name="groupBy"], input[name="measure"]')) {
    input.checked = state[input.name as keyof ViewState] === input.value;
    input.addEventListener('change', () => {
      (state as unknown as Record<string, string>)[input.name] = input.value;
      vscode.setState(state);
      render();
    });
  }
  document.getElementById('refresh')!.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  document.getElementById('open-episodes')!.addEventListener('click', () => vscode.postMessage({ type: 'openEpisodes' }));
  // A focused chart toggles its table with Enter or Space.
  for (const canvas of document.querySelectorAll<HTMLCanvasElement>('canvas')) {
    canvas.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' && e.key !== ' ') return;
      e.preventDefault();
      const details = canvas.closest('section')?.querySelector('details');
      if (details) details.open = !details.open;
    });
  }
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const msg = event.data;
  if (msg.type === 'data') {
    current = msg.data;
    render();
  } else if (msg.type === 'error') {
    const box = document.getElementById('error')!;
    box.textContent = msg.message;
    box.hidden = false;
  }
});

// Theme changes swap the body's classes (vscode-light, vscode-dark, vscode-high-contrast…).
new MutationObserver(() => render()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

setupControls();
vscode.postMessage({ type: 'ready' });
