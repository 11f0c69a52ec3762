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
import { contrastRatio, GRAPHICS_CONTRAST } from '../views/insights/contrast';
import { binLabel, type ChartSummary, type FromWebview, type InsightsData, type ToWebview } from '../views/insights/model';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend, DoughnutController, ArcElement);

declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void; getState(): unknown; setState(state: unknown): void };
const vscode = acquireVsCodeApi();
const started = performance.now();
let firstPaintReported = false;
let current: InsightsData | undefined;
const charts = new Map<string, Chart>();
/** For tests and the curious: the live Chart.js instances by id, and what each draws. */
Object.assign(window, { agentMemoryCharts: charts, agentMemorySummaries: () => Object.fromEntries([...charts].map(([id, c]) => [id, summarize(c)])) });

interface ViewState {
  groupBy: 'taskType' | 'domain';
  measure: 'successRate' | 'meanReward';
}
const state: ViewState = { groupBy: 'taskType', measure: 'successRate', ...(vscode.getState() as Partial<ViewState> | undefined) };

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

const scratch = document.createElement('canvas').getContext('2d')!;

/** A CSS colour as the canvas reads it (#rrggbb or rgba(…)): comparable, and parseable by contrast.ts. */
function canonical(color: string): string {
  scratch.fillStyle = '#000000';
  scratch.fillStyle = color;
  return String(scratch.fillStyle);
}

interface Theme {
  /** A high-contrast theme (dark or light): series get patterns and the theme's contrast border. */
  hc: boolean;
  bg: string;
  fg: string;
  grid: string;
  font: string;
  /** The outline of every bar, line point and axis in high contrast (`--vscode-contrastBorder`). */
  outline: string;
  palette: string[];
  outcome: Record<string, string>;
}

function theme(): Theme {
  const classes = document.body.classList;
  const hc = classes.contains('vscode-high-contrast') || classes.contains('vscode-high-contrast-light');
  const bg = canonical(cssVar('--vscode-editor-background', hc ? '#000000' : '#1e1e1e'));
  const fg = canonical(cssVar('--vscode-charts-foreground', cssVar('--vscode-foreground', '#cccccc')));
  // A high-contrast theme promises legible marks: a chart colour below 3:1 on the background
  // (WCAG 1.4.11) gives way to the foreground; the series stay apart by their patterns.
  const legible = (color: string): string => (!hc || contrastRatio(color, bg) >= GRAPHICS_CONTRAST ? color : fg);
  const c = (n: string, f: string): string => legible(canonical(cssVar(`--vscode-charts-${n}`, f)));
  const blue = c('blue', '#3794ff');
  const red = c('red', '#f14c4c');
  const green = c('green', '#89d185');
  const yellow = c('yellow', '#cca700');
  const orange = c('orange', '#d18616');
  const purple = c('purple', '#b180d7');
  return {
    hc,
    bg,
    fg,
    grid: cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.35)'),
    font: cssVar('--vscode-font-family', 'sans-serif'),
    outline: canonical(cssVar('--vscode-contrastBorder', fg)),
    palette: [blue, orange, green, purple, yellow, red, fg],
    outcome: { success: green, partial_success: yellow, failure: red, abstained: purple, in_progress: blue },
  };
}

/** What tells series apart besides colour in high contrast: a fill pattern for bars, a dash and point style for lines. */
const PATTERNS = ['solid', 'diagonal', 'cross', 'dots', 'horizontal', 'vertical', 'backslash'] as const;
type PatternName = (typeof PATTERNS)[number];
const LINE_DASHES: number[][] = [[], [10, 5], [3, 4], [14, 5, 3, 5], [6, 3, 6, 9], [2, 8], [16, 4]];
const POINT_STYLES = ['circle', 'rect', 'triangle', 'rectRot', 'star', 'crossRot', 'cross'] as const;

const patternCache = new Map<string, CanvasPattern | string>();

/** A repeating 8×8 tile: the background with `name` drawn over it in `color` (solid is the colour itself). */
function hatch(name: PatternName, color: string, bg: string): CanvasPattern | string {
  if (name === 'solid') return color;
  const key = `${name}|${color}|${bg}`;
  const cached = patternCache.get(key);
  if (cached) return cached;
  const tile = document.createElement('canvas');
  tile.width = tile.height = 8;
  const g = tile.getContext('2d')!;
  g.fillStyle = bg;
  g.fillRect(0, 0, 8, 8);
  g.strokeStyle = g.fillStyle = color;
  g.lineWidth = 2;
  const line = (x1: number, y1: number, x2: number, y2: number): void => {
    g.beginPath();
    g.moveTo(x1, y1);
    g.lineTo(x2, y2);
    g.stroke();
  };
  if (name === 'diagonal' || name === 'cross') [-8, 0, 8].forEach((o) => line(o, 8, o + 8, 0));
  if (name === 'backslash' || name === 'cross') [-8, 0, 8].forEach((o) => line(o, 0, o + 8, 8));
  if (name === 'horizontal') line(0, 4, 8, 4);
  if (name === 'vertical') line(4, 0, 4, 8);
  if (name === 'dots') g.fillRect(2, 2, 4, 4);
  const pattern = g.createPattern(tile, 'repeat') ?? color;
  patternCache.set(key, pattern);
  return pattern;
}

/** Extra fields on a dataset, read back by summarize(): its colour and its non-colour mark. */
interface SeriesLook {
  seriesColor?: string;
  pattern?: string;
}

/** A bar series' look; in high contrast a fill pattern (by `index`) and the contrast border. */
function barLook(t: Theme, color: string, index: number): Record<string, unknown> & SeriesLook {
  if (!t.hc) return { backgroundColor: color, borderColor: color };
  const pattern = PATTERNS[index % PATTERNS.length];
  return { backgroundColor: hatch(pattern, color, t.bg), borderColor: t.outline, borderWidth: 2, seriesColor: color, pattern };
}

/** A line series' look; in high contrast a dash and a point style (by `index`), wider, points outlined. */
function lineLook(t: Theme, color: string, index: number): Record<string, unknown> & SeriesLook {
  if (!t.hc) return { borderColor: color, backgroundColor: color, pointRadius: 4 };
  const dash = LINE_DASHES[index % LINE_DASHES.length];
  const pointStyle = POINT_STYLES[index % POINT_STYLES.length];
  return { borderColor: color, backgroundColor: color, borderWidth: 3, borderDash: dash, pointStyle, pointRadius: 6, pointBorderColor: t.outline, pointBorderWidth: 2, seriesColor: color, pattern: `${pointStyle} ${dash.join(',') || 'solid'}` };
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
  const first = (v: unknown): string => String(Array.isArray(v) ? v[0] : v);
  return {
    labels: (chart.data.labels ?? []).map(String),
    datasets: chart.data.datasets.map((d) => {
      const look = d as SeriesLook;
      return {
        label: String(d.label ?? ''),
        data: (d.data as Array<number | null>).map((v) => (typeof v === 'number' ? v : null)),
        color: canonical(look.seriesColor ?? first(d.backgroundColor)),
        border: canonical(first(d.borderColor ?? d.backgroundColor)),
        ...(look.pattern ? { pattern: look.pattern } : {}),
      };
    }),
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

function baseOptions(t: Theme, extra: { stacked?: boolean; indexAxis?: 'x' | 'y'; yMax?: number; legend?: boolean } = {}): ChartConfiguration['options'] {
  const axis = { ticks: { color: t.fg }, grid: { color: t.grid }, border: { color: t.hc ? t.outline : t.grid } };
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    indexAxis: extra.indexAxis ?? 'x',
    // In high contrast the legend shows each series' point style or pattern, not a colour swatch alone.
    plugins: { legend: { display: extra.legend ?? true, labels: { color: t.fg, usePointStyle: t.hc } }, tooltip: { enabled: true } },
    scales: {
      x: { ...axis, stacked: extra.stacked ?? false, ...(extra.indexAxis === 'y' && extra.yMax !== undefined ? { max: extra.yMax, min: 0 } : {}) },
      y: { ...axis, stacked: extra.stacked ?? false, ...(extra.indexAxis !== 'y' && extra.yMax !== undefined ? { max: extra.yMax, min: 0 } : {}), beginAtZero: true },
    },
  };
}

function drawOutcomes(m: MemoryInsights, t: Theme): void {
  const kinds = [...OUTCOME_TYPES, 'in_progress'] as const;
  const datasets = kinds
    .filter((k) => m.totals.byOutcome[k] > 0)
    .map((k) => ({ label: OUTCOME_LABELS[k], data: m.timeline.map((p) => p[k]), ...barLook(t, t.outcome[k], kinds.indexOf(k)), stack: 'outcomes' }));
  upsert(
    'outcomes',
    { type: 'bar', data: { labels: m.timeline.map((p) => p.start), datasets }, options: baseOptions(t, { stacked: true }) },
    `Episodes per ${m.bucket} by outcome: ${kinds.map((k) => `${m.totals.byOutcome[k]} ${OUTCOME_LABELS[k].toLowerCase()}`).join(', ')}.`,
    (v) => String(v ?? 0),
  );
}

function drawTrend(m: MemoryInsights, t: Theme): void {
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
      ...lineLook(t, color, i),
      spanGaps: true,
      tension: 0.2,
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

function drawPatterns(m: MemoryInsights, t: Theme): void {
  const labels = m.topPatterns.map((p) => p.description);
  upsert(
    'patterns',
    {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'Success rate', data: m.topPatterns.map((p) => p.successRate), ...barLook(t, t.outcome.success, 0), xAxisID: 'x' },
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

function drawSandbox(data: InsightsData, t: Theme): void {
  const s = data.sandbox;
  const note = document.getElementById('sandbox-note')!;
  note.textContent = s ? `${s.total} runs in this window · p50 ${s.p50Ms.toFixed(1)} ms · p95 ${s.p95Ms.toFixed(1)} ms · histogram of the last ${s.recentRuns}` : 'The sandbox has not run anything in this window yet.';
  const kindColor: Record<string, string> = { success: t.outcome.success, error: t.outcome.failure, timeout: t.outcome.partial_success, security_violation: t.outcome.abstained };
  const kinds = s ? RUN_KINDS.filter((k) => s.byKind[k] > 0) : [];
  upsert(
    'runs',
    {
      type: 'bar',
      // One bar per outcome, named on the axis: colour is not what tells them apart.
      data: { labels: kinds.map((k) => RUN_LABELS[k]), datasets: [{ label: 'Runs', data: kinds.map((k) => s!.byKind[k]), backgroundColor: kinds.map((k) => kindColor[k]), ...(t.hc ? { borderColor: t.outline, borderWidth: 2 } : {}) }] },
      options: baseOptions(t, { legend: false }),
    },
    s ? `Sandbox runs by outcome: ${kinds.map((k) => `${s.byKind[k]} ${RUN_LABELS[k].toLowerCase()}`).join(', ')}.` : 'No sandbox runs yet.',
    (v) => String(v ?? 0),
  );
  const bins = s?.latency ?? [];
  upsert(
    'latency',
    { type: 'bar', data: { labels: bins.map(binLabel), datasets: [{ label: 'Runs', data: bins.map((b) => b.count), ...barLook(t, t.palette[0], 0) }] }, options: baseOptions(t, { legend: false }) },
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

function drawSize(m: MemoryInsights, t: Theme): void {
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
      data: { labels: parts.map(([l]) => l), datasets: [{ label: 'Bytes', data: parts.map(([, v]) => v ?? 0), ...barLook(t, t.palette[3], 0) }] },
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
