/**
 * The Memory explorer's three views: Episodes (domain → task type → episode), Patterns
 * (kind → pattern → evidence episodes) and Sandbox (metrics and recent runs). They refresh on the
 * store's and the sandbox's change events (debounced), never by polling.
 */
import * as vscode from 'vscode';
import { type EpisodeSummary, type MemoryStoreApi, type Pattern, type PatternKind, type TaskType } from '../memory';
import type { ExecutionRecord, Sandbox } from '../sandbox';
import { age, episodeSummary, percent, truncate } from './format';
import type { Failures } from './failures';
import type { Services } from './services';

const REFRESH_DEBOUNCE_MS = 250;
const EPISODES_PER_GROUP = 200;
const EVIDENCE_SHOWN = 20;
const PATTERNS_PER_KIND = 200;
/** Task-type groups with at most this many episodes are shown expanded. */
const EXPAND_GROUPS_UP_TO = 25;
/** Longest tree label; longer text is cut at a word boundary and shown whole in the tooltip. */
const LABEL_CHARS = 72;

export type MemoryNode =
  | { type: 'domain'; domain: string; count: number; taskTypes: Array<{ taskType: TaskType; count: number }> }
  | { type: 'taskType'; domain: string; taskType: TaskType; count: number }
  | { type: 'episode'; episode: EpisodeSummary }
  | { type: 'patternKind'; kind: PatternKind; count: number }
  | { type: 'pattern'; pattern: Pattern }
  | { type: 'metric'; label: string; value: string }
  | { type: 'runs'; records: ExecutionRecord[] }
  | { type: 'run'; record: ExecutionRecord }
  | { type: 'message'; text: string; tooltip?: string; failed?: boolean };

/**
 * Shared plumbing: subscribe to a source's change event once it exists, debounce; a view that
 * cannot load says so in a row that opens the log, and in a message with Retry.
 */
abstract class RefreshingTree implements vscode.TreeDataProvider<MemoryNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<MemoryNode | undefined | void>();
  readonly onDidChangeTreeData = this.changed.event;
  protected readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;

  /** `what` names the view's load in a failure message ("Load Episodes"). */
  constructor(
    private readonly failures: Failures,
    private readonly what: string,
  ) {}

  refresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.changed.fire();
    }, REFRESH_DEBOUNCE_MS);
  }

  abstract getTreeItem(node: MemoryNode): vscode.TreeItem;
  protected abstract children(node?: MemoryNode): Promise<MemoryNode[]>;

  async getChildren(node?: MemoryNode): Promise<MemoryNode[]> {
    try {
      return await this.children(node);
    } catch (err) {
      const failure = this.failures.report(this.what, err, () => this.refresh());
      return [{ type: 'message', text: failure.message.replace(/^Agent Memory: /, ''), tooltip: 'Open the log for details; Refresh tries again.', failed: true }];
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

abstract class StoreTree extends RefreshingTree {
  constructor(
    protected readonly services: Services,
    failures: Failures,
    what: string,
  ) {
    super(failures, what);
    const watch = (store: MemoryStoreApi): void => {
      this.disposables.push(store.onDidChange(() => this.refresh()));
      this.refresh();
    };
    this.disposables.push(services.onDidOpenStore(watch));
  }
}

function episodeItem(e: EpisodeSummary): vscode.TreeItem {
  const item = new vscode.TreeItem(truncate(e.task, LABEL_CHARS), vscode.TreeItemCollapsibleState.None);
  item.id = `episode:${e.id}`;
  const reward = e.reward !== undefined ? `reward ${e.reward.toFixed(2)} · ` : '';
  item.description = `${reward}${age(e.endedAt ?? e.startedAt)}`;
  const md = new vscode.MarkdownString();
  md.appendText(e.task);
  md.appendMarkdown(`\n\n${e.domain} · ${e.taskType} · ${e.outcome ?? 'in progress'} · ${e.stepCount} steps`);
  if (e.gist) md.appendMarkdown('\n\n').appendText(e.gist);
  item.tooltip = md;
  item.iconPath = outcomeIcon(e.outcome);
  item.contextValue = 'episode';
  item.command = { command: 'agentMemory.openEpisode', title: 'Open Episode', arguments: [e.id] };
  return item;
}

function outcomeIcon(outcome: EpisodeSummary['outcome']): vscode.ThemeIcon {
  switch (outcome) {
    case 'success':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'partial_success':
      return new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    case 'failure':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    case 'abstained':
      return new vscode.ThemeIcon('circle-slash');
    default:
      return new vscode.ThemeIcon('clock');
  }
}

export class EpisodesTree extends StoreTree {
  constructor(services: Services, failures: Failures) {
    super(services, failures, 'Load Episodes');
  }

  getTreeItem(node: MemoryNode): vscode.TreeItem {
    switch (node.type) {
      case 'domain': {
        const item = new vscode.TreeItem(node.domain, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `domain:${node.domain}`;
        item.description = `${node.count}`;
        item.iconPath = new vscode.ThemeIcon('folder-library');
        return item;
      }
      case 'taskType': {
        // Small groups open at once; large ones wait for a click, so the first paint stays small.
        const state = node.count <= EXPAND_GROUPS_UP_TO ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
        const item = new vscode.TreeItem(node.taskType, state);
        item.id = `taskType:${node.domain}/${node.taskType}`;
        item.description = `${node.count}`;
        item.iconPath = new vscode.ThemeIcon('symbol-category');
        return item;
      }
      case 'episode':
        return episodeItem(node.episode);
      default:
        return messageItem(node);
    }
  }

  protected async children(node?: MemoryNode): Promise<MemoryNode[]> {
    const store = await this.services.store();
    if (!node) {
      const byDomain = new Map<string, Array<{ taskType: TaskType; count: number }>>();
      for (const g of (await store.episodeGroups()).groups) {
        if (g.count === 0) continue;
        const list = byDomain.get(g.domain) ?? [];
        list.push({ taskType: g.taskType, count: g.count });
        byDomain.set(g.domain, list);
      }
      return [...byDomain]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([domain, taskTypes]) => ({ type: 'domain', domain, taskTypes, count: taskTypes.reduce((n, t) => n + t.count, 0) }));
    }
    if (node.type === 'domain') return node.taskTypes.map((t) => ({ type: 'taskType', domain: node.domain, taskType: t.taskType, count: t.count }));
    if (node.type === 'taskType') {
      const { episodes, total } = await store.listEpisodes({ domain: node.domain, taskType: node.taskType, limit: EPISODES_PER_GROUP });
      const nodes: MemoryNode[] = episodes.map((episode) => ({ type: 'episode', episode }));
      if (total > episodes.length) nodes.push({ type: 'message', text: `${total - episodes.length} older episodes not shown`, tooltip: 'The newest are listed; Search Memory finds any episode.' });
      return nodes;
    }
    return [];
  }
}

const PATTERN_KINDS: Array<{ kind: PatternKind; label: string; icon: string }> = [
  { kind: 'tool_sequence', label: 'Tool sequences', icon: 'list-ordered' },
  { kind: 'error_recovery', label: 'Error recoveries', icon: 'debug-restart' },
  { kind: 'decision_point', label: 'Decision points', icon: 'git-compare' },
  { kind: 'context_pattern', label: 'Context patterns', icon: 'symbol-namespace' },
];

export class PatternsTree extends StoreTree {
  constructor(services: Services, failures: Failures) {
    super(services, failures, 'Load Patterns');
  }

  getTreeItem(node: MemoryNode): vscode.TreeItem {
    switch (node.type) {
      case 'patternKind': {
        const meta = PATTERN_KINDS.find((k) => k.kind === node.kind)!;
        const item = new vscode.TreeItem(meta.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `kind:${node.kind}`;
        item.description = `${node.count}`;
        item.iconPath = new vscode.ThemeIcon(meta.icon);
        return item;
      }
      case 'pattern': {
        const p = node.pattern;
        const item = new vscode.TreeItem(truncate(p.description, LABEL_CHARS), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `pattern:${p.id}`;
        item.description = `${percent(p.successRate)} · ${p.occurrences}×`;
        item.tooltip = `${p.description}\n${p.domain} · ${p.taskType}\nsuccess ${percent(p.successRate)} over ${p.occurrences} episodes${p.avgLatencyMs !== undefined ? `, avg ${Math.round(p.avgLatencyMs)} ms` : ''}`;
        item.iconPath = new vscode.ThemeIcon(p.successRate >= 0.7 ? 'lightbulb' : 'lightbulb-empty');
        item.contextValue = 'pattern';
        return item;
      }
      case 'episode': {
        const item = episodeItem(node.episode);
        item.id = undefined; // the same episode can be evidence of many patterns
        return item;
      }
      default:
        return messageItem(node);
    }
  }

  protected async children(node?: MemoryNode): Promise<MemoryNode[]> {
    const store = await this.services.store();
    if (!node) {
      const { patternKinds } = await store.episodeGroups();
      return PATTERN_KINDS.filter(({ kind }) => patternKinds[kind] > 0).map(({ kind }) => ({ type: 'patternKind', kind, count: patternKinds[kind] }));
    }
    if (node.type === 'patternKind') {
      const patterns = await store.listPatterns({ kind: node.kind, limit: PATTERNS_PER_KIND });
      const nodes: MemoryNode[] = patterns.map((pattern) => ({ type: 'pattern', pattern }));
      if (node.count > patterns.length) nodes.push({ type: 'message', text: `${node.count - patterns.length} weaker patterns not shown`, tooltip: 'Patterns with the most evidence are listed; Show Insights charts the rest.' });
      return nodes;
    }
    if (node.type === 'pattern') {
      const episodes = await Promise.all(node.pattern.evidence.slice(0, EVIDENCE_SHOWN).map((id) => store.getEpisode(id)));
      return episodes.flatMap((e) => (e ? [{ type: 'episode' as const, episode: episodeSummary(e) }] : []));
    }
    return [];
  }
}

export class SandboxTree extends RefreshingTree {
  constructor(
    private readonly services: Services,
    failures: Failures,
  ) {
    super(failures, 'Load Sandbox');
    const watch = (sandbox: Sandbox): void => {
      this.disposables.push(sandbox.onDidExecute(() => this.refresh()));
      this.refresh();
    };
    const existing = services.peekSandbox();
    if (existing) watch(existing);
    this.disposables.push(services.onDidCreateSandbox(watch));
  }

  getTreeItem(node: MemoryNode): vscode.TreeItem {
    switch (node.type) {
      case 'metric': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.value;
        item.iconPath = new vscode.ThemeIcon('dashboard');
        return item;
      }
      case 'runs': {
        const item = new vscode.TreeItem('Recent runs', vscode.TreeItemCollapsibleState.Expanded);
        item.description = `${node.records.length}`;
        item.iconPath = new vscode.ThemeIcon('history');
        return item;
      }
      case 'run': {
        const r = node.record;
        const item = new vscode.TreeItem(`${r.kind}`, vscode.TreeItemCollapsibleState.None);
        item.description = `${r.durationMs.toFixed(1)} ms · ${age(new Date(r.startedAt).toISOString())}`;
        item.tooltip = r.summary;
        item.iconPath = new vscode.ThemeIcon(r.kind === 'success' ? 'pass' : r.kind === 'security_violation' ? 'shield' : r.kind === 'timeout' ? 'watch' : 'error');
        return item;
      }
      default:
        return messageItem(node);
    }
  }

  protected children(node?: MemoryNode): Promise<MemoryNode[]> {
    const sandbox = this.services.peekSandbox();
    if (!sandbox) return Promise.resolve([]);
    if (!node) {
      const m = sandbox.metrics();
      const c = sandbox.config;
      const records = sandbox.recent();
      const nodes: MemoryNode[] = [
        { type: 'metric', label: 'Limits', value: `${c.maxExecutionTimeMs / 1000} s · ${c.maxMemoryMb} MB · ${c.maxCpuPercent}% CPU` },
        { type: 'metric', label: 'Executions', value: `${m.total}: ${m.byKind.success} ok · ${m.byKind.error} error · ${m.byKind.timeout} timeout · ${m.byKind.security_violation} refused` },
        { type: 'metric', label: 'Latency', value: `p50 ${m.p50Ms.toFixed(1)} ms · p95 ${m.p95Ms.toFixed(1)} ms` },
        { type: 'metric', label: 'Pool', value: `${m.workers} workers · ${m.active} active · ${m.queued} queued · ${m.workerRestarts} restarts` },
      ];
      if (records.length) nodes.push({ type: 'runs', records });
      return Promise.resolve(nodes);
    }
    if (node.type === 'runs') return Promise.resolve(node.records.slice(0, 50).map((record) => ({ type: 'run' as const, record })));
    return Promise.resolve([]);
  }
}

function messageItem(node: MemoryNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.type === 'message' ? node.text : node.type, vscode.TreeItemCollapsibleState.None);
  if (node.type === 'message') {
    item.tooltip = node.tooltip;
    item.iconPath = new vscode.ThemeIcon(node.failed ? 'error' : 'info');
    if (node.failed) item.command = { command: 'agentMemory.showLog', title: 'Open Log' };
  }
  return item;
}
