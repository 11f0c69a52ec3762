/** Read-only virtual documents: `agent-memory:/episode/<id>.md`, `/pattern/<id>.md` (linked both ways), `/metrics.md` and the last sandbox result. */
import * as vscode from 'vscode';
import { episodeMarkdown, episodeSummary, patternMarkdown } from './format';
import type { Services } from './services';

export const SCHEME = 'agent-memory';
const REFRESH_DEBOUNCE_MS = 250;

export function episodeUri(id: string): vscode.Uri {
  return vscode.Uri.from({ scheme: SCHEME, path: `/episode/${id}.md` });
}

export const METRICS_URI = vscode.Uri.from({ scheme: SCHEME, path: '/metrics.md' });
/** The last "Run in Sandbox" result: value, console and time, as text to select and copy. */
export const SANDBOX_RESULT_URI = vscode.Uri.from({ scheme: SCHEME, path: '/Sandbox Result.log' });

export class MemoryDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  private sandboxResult = 'No sandbox run yet in this window.\n';
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly services: Services) {
    this.disposables.push(services.onDidOpenStore((store) => this.disposables.push(store.onDidChange(() => this.refreshOpen()))));
  }

  /** After the store changed (debounced): the open episode, pattern and metrics documents render again. */
  private refreshOpen(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === SCHEME && doc.uri.path !== SANDBOX_RESULT_URI.path) this.changed.fire(doc.uri);
    }, REFRESH_DEBOUNCE_MS);
  }

  setSandboxResult(text: string): void {
    this.sandboxResult = text.endsWith('\n') ? text : `${text}\n`;
    this.changed.fire(SANDBOX_RESULT_URI);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    if (uri.path === METRICS_URI.path) return this.metrics();
    if (uri.path === SANDBOX_RESULT_URI.path) return this.sandboxResult;
    const store = await this.services.store();
    const pattern = /^\/pattern\/(.+)\.md$/.exec(uri.path);
    if (pattern) {
      const p = await store.getPattern(decodeURIComponent(pattern[1]));
      if (!p) return `# Pattern not found\n\nNo pattern with id \`${pattern[1]}\` (its episodes may have been deleted).\n`;
      const evidence = await Promise.all(p.evidence.map((id) => store.getEpisode(id)));
      return patternMarkdown(p, evidence.flatMap((e) => (e ? [episodeSummary(e)] : [])));
    }
    const m = /^\/episode\/(.+)\.md$/.exec(uri.path);
    if (!m) return `Unknown Agent Memory document: ${uri.toString()}`;
    const id = decodeURIComponent(m[1]);
    const episode = await store.getEpisode(id);
    return episode ? episodeMarkdown(episode, await store.patternsOfEpisode(id)) : `# Episode not found\n\nNo episode with id \`${m[1]}\` (it may have been deleted).\n`;
  }

  private async metrics(): Promise<string> {
    const store = await this.services.store();
    const stats = await store.stats();
    const usage = await store.toolUsage();
    const sandbox = this.services.peekSandbox();
    const server = await this.services.peekServer()?.catch(() => undefined);
    const section = (title: string, value: unknown): string => `## ${title}\n\n\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\`\n`;
    return [
      '# Agent Memory metrics',
      '',
      section('Store', stats),
      section('Tool usage', usage),
      section('Sandbox', sandbox ? { config: sandbox.config, ...sandbox.metrics() } : 'not started yet'),
      section('MCP server', server ? { url: server.url, sessions: server.sessions() } : 'not started yet'),
    ].join('\n');
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
