/** Read-only virtual documents: `agent-memory:/episode/<id>.md`, `agent-memory:/metrics.md` and the last sandbox result. */
import * as vscode from 'vscode';
import { episodeMarkdown } from './format';
import type { Services } from './services';

export const SCHEME = 'agent-memory';

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

  constructor(private readonly services: Services) {}

  setSandboxResult(text: string): void {
    this.sandboxResult = text.endsWith('\n') ? text : `${text}\n`;
    this.changed.fire(SANDBOX_RESULT_URI);
  }

  /** Re-renders open documents (after the store changed). */
  refresh(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    if (uri.path === METRICS_URI.path) return this.metrics();
    if (uri.path === SANDBOX_RESULT_URI.path) return this.sandboxResult;
    const m = /^\/episode\/(.+)\.md$/.exec(uri.path);
    if (!m) return `Unknown Agent Memory document: ${uri.toString()}`;
    const episode = await (await this.services.store()).getEpisode(decodeURIComponent(m[1]));
    return episode ? episodeMarkdown(episode) : `# Episode not found\n\nNo episode with id \`${m[1]}\` (it may have been deleted).\n`;
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
    this.changed.dispose();
  }
}
