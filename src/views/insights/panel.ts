/**
 * "Agent Memory: Show Insights": one webview panel with charts of what the memory learned and how
 * the sandbox behaves. The numbers come from the store (`insights()`, aggregates computed there)
 * and the sandbox pool; the webview only draws them. It follows the store's and the sandbox's
 * change events (debounced) while open, and loads nothing but its own bundled script.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import type { MemoryStoreApi } from '../../memory';
import type { Sandbox } from '../../sandbox';
import type { Failures } from '../failures';
import type { Services } from '../services';
import { sandboxInsights, type ChartSummary, type FromWebview, type InsightsData, type ToWebview } from './model';

const VIEW_TYPE = 'agentMemory.insights';
const UPDATE_DEBOUNCE_MS = 300;

/** What the command returns: lets tests wait for a drawing and read what was drawn. */
export interface InsightsHandle {
  readonly panel: vscode.WebviewPanel;
  /** Resolves after the next render the webview reports (or the first, if none yet). */
  drawn(): Promise<Record<string, ChartSummary>>;
  /** Time from creating the panel to the webview's first drawn charts. */
  readonly firstPaintMs: number | undefined;
}

export class InsightsPanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private panelDisposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDrawn?: Record<string, ChartSummary>;
  private drawWaiters: Array<(charts: Record<string, ChartSummary>) => void> = [];
  private createdAt = 0;
  private paintMs?: number;

  constructor(
    private readonly services: Services,
    private readonly extensionUri: vscode.Uri,
    private readonly failures: Failures,
  ) {
    const watchStore = (store: MemoryStoreApi): void => {
      this.disposables.push(store.onDidChange(() => this.scheduleUpdate()));
    };
    const watchSandbox = (sandbox: Sandbox): void => {
      this.disposables.push(sandbox.onDidExecute(() => this.scheduleUpdate()));
    };
    void services.peekStore()?.then(watchStore, () => undefined);
    this.disposables.push(services.onDidOpenStore(watchStore));
    const sandbox = services.peekSandbox();
    if (sandbox) watchSandbox(sandbox);
    this.disposables.push(services.onDidCreateSandbox(watchSandbox));
  }

  show(): InsightsHandle {
    if (this.panel) {
      this.panel.reveal();
      this.scheduleUpdate(0);
    } else {
      this.create();
    }
    const firstPaint = (): number | undefined => this.paintMs;
    return {
      panel: this.panel!,
      drawn: () => new Promise((resolve) => this.drawWaiters.push(resolve)),
      get firstPaintMs() {
        return firstPaint();
      },
    };
  }

  private create(): void {
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Agent Memory Insights', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [dist],
    });
    this.createdAt = performance.now();
    this.paintMs = undefined;
    this.lastDrawn = undefined;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'memory.svg');
    panel.webview.html = this.html(panel.webview, vscode.Uri.joinPath(dist, 'insights-webview.js'));
    this.panelDisposables = [
      panel.webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m)),
      panel.onDidChangeViewState(() => {
        if (panel.visible) this.scheduleUpdate(0);
      }),
      panel.onDidDispose(() => {
        for (const d of this.panelDisposables) d.dispose();
        this.panelDisposables = [];
        this.panel = undefined;
      }),
    ];
    this.panel = panel;
  }

  private onMessage(m: FromWebview): void {
    switch (m.type) {
      case 'ready':
      case 'refresh':
        this.scheduleUpdate(0);
        break;
      case 'drawn': {
        if (m.firstPaintMs !== undefined && this.paintMs === undefined) this.paintMs = performance.now() - this.createdAt;
        this.lastDrawn = m.charts;
        const waiters = this.drawWaiters;
        this.drawWaiters = [];
        for (const w of waiters) w(m.charts);
        break;
      }
      case 'openEpisodes':
        void vscode.commands.executeCommand('agentMemory.episodes.focus');
        break;
    }
  }

  /** The charts as last drawn by the webview (tests). */
  get drawnCharts(): Record<string, ChartSummary> | undefined {
    return this.lastDrawn;
  }

  private scheduleUpdate(delay = UPDATE_DEBOUNCE_MS): void {
    if (!this.panel) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.update();
    }, delay);
  }

  private async update(): Promise<void> {
    const panel = this.panel;
    if (!panel || !panel.visible) return; // a hidden panel is brought up to date when shown
    try {
      const store = await this.services.store();
      const sandbox = this.services.peekSandbox();
      const data: InsightsData = {
        memory: await store.insights(),
        ...(sandbox ? { sandbox: sandboxInsights(sandbox.metrics(), sandbox.recent()) } : {}),
      };
      await this.post(panel, { type: 'data', data });
    } catch (err) {
      await this.post(panel, { type: 'error', message: `Could not load the insights: ${err instanceof Error ? err.message : String(err)}` });
      this.failures.report('Show Insights', err, () => this.scheduleUpdate(0));
    }
  }

  private async post(panel: vscode.WebviewPanel, message: ToWebview): Promise<void> {
    if (this.panel === panel) await panel.webview.postMessage(message);
  }

  private html(webview: vscode.Webview, script: vscode.Uri): string {
    const nonce = randomBytes(16).toString('base64');
    const csp = [`default-src 'none'`, `img-src ${webview.cspSource} data:`, `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`, `font-src ${webview.cspSource}`].join('; ');
    const section = (id: string, title: string, first: string, extra = ''): string => `
    <section id="${id}" aria-labelledby="${id}-title">
      <h2 id="${id}-title">${title}</h2>${extra}
      <div class="chart"><canvas id="${id}-canvas" role="img" tabindex="0" aria-describedby="${id}-hint"></canvas></div>
      <p class="empty-note">Nothing to show yet.</p>
      <details><summary id="${id}-hint">Table of this chart (Enter on the chart opens it)</summary><table id="${id}-table" data-first="${first}"></table></details>
    </section>`;
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Agent Memory Insights</title>
<style nonce="${nonce}">
  body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 16px 24px; }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 12px; }
  h1 { font-size: 1.4em; font-weight: 600; margin: 16px 0 4px; }
  h2 { font-size: 1.1em; font-weight: 600; margin: 0 0 8px; }
  #generated, .note, .empty-note { color: var(--vscode-descriptionForeground); }
  button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: 1px solid var(--vscode-button-border, transparent); padding: 4px 12px; cursor: pointer; }
  button:hover { background: var(--vscode-button-hoverBackground); }
  button.secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
  :focus-visible { outline: 1px solid var(--vscode-contrastActiveBorder, var(--vscode-focusBorder)); outline-offset: 2px; }
  #tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 8px; margin: 12px 0; }
  .tile { border: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); padding: 8px; display: flex; flex-direction: column; }
  .tile .value { font-size: 1.5em; font-weight: 600; }
  .tile .label { color: var(--vscode-descriptionForeground); }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
  section { border: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); padding: 12px; min-width: 0; }
  .chart { position: relative; height: 260px; }
  section.empty .chart { display: none; }
  section:not(.empty) .empty-note { display: none; }
  fieldset { border: none; padding: 0; margin: 0 0 8px; display: inline-flex; gap: 8px; }
  legend { float: left; margin-right: 4px; color: var(--vscode-descriptionForeground); }
  table { border-collapse: collapse; margin-top: 8px; width: 100%; }
  th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); }
  td { font-variant-numeric: tabular-nums; }
  #error { color: var(--vscode-errorForeground); border: 1px solid var(--vscode-inputValidation-errorBorder); padding: 8px; }
</style>
</head>
<body>
<header>
  <h1>Agent Memory Insights</h1>
  <span id="generated" aria-live="polite">Loading…</span>
  <button id="refresh" class="secondary">Refresh</button>
  <button id="open-episodes" class="secondary">Open Episodes View</button>
</header>
<div id="error" role="alert" hidden></div>
<div id="tiles" aria-label="Totals"></div>
<main>
  ${section('outcomes', 'Episodes over time by outcome', 'Period')}
  ${section(
    'trend',
    'Success rate over time by task type',
    'Period',
    `
      <div>
        <fieldset><legend>Group by</legend>
          <label><input type="radio" name="groupBy" value="taskType"> task type</label>
          <label><input type="radio" name="groupBy" value="domain"> domain</label>
        </fieldset>
        <fieldset><legend>Show</legend>
          <label><input type="radio" name="measure" value="successRate"> success rate</label>
          <label><input type="radio" name="measure" value="meanReward"> mean reward</label>
        </fieldset>
      </div>`,
  )}
  ${section('patterns', 'Top patterns: success rate (evidence in the table)', 'Pattern')}
  ${section('runs', 'Sandbox runs by outcome', 'Outcome', '<p id="sandbox-note" class="note"></p>')}
  ${section('latency', 'Sandbox latency (recent runs)', 'Duration')}
  ${section('size', 'Store size', 'Part')}
</main>
<script nonce="${nonce}" src="${webview.asWebviewUri(script).toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
