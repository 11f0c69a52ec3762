/** The palette commands (category "Agent Memory"). Each returns its result so tests can check it. */
import * as vscode from 'vscode';
import type { EpisodeSummary } from '../memory';
import { exportFile, importFile, ImportCancelledError } from '../mcp';
import { isPresetName, type ExecutionResult, type PresetName } from '../sandbox';
import { SECTION } from './config';
import { METRICS_URI, SANDBOX_RESULT_URI, episodeUri, type MemoryDocuments } from './episodeDocument';
import type { CommandLogger, Failures } from './failures';
import { episodeSummary, formatExecution, truncate } from './format';
import type { MemoryNode } from './trees';
import type { Services } from './services';
import type { SandboxStatus } from './statusBar';
import type { InsightsPanel } from './insights/panel';

const SAMPLE_CODE = `// A sample run recorded as an episode: sum the squares of the input.
const numbers = context.input.numbers;
const total = numbers.reduce((sum, n) => sum + n * n, 0);
console.log('squares of', numbers.join(', '));
return { total };`;

function episodeIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const node = arg as MemoryNode | undefined;
  return node && node.type === 'episode' ? node.episode.id : undefined;
}

/**
 * Long work in a cancellable progress notification. `step` reports a stage and throws if the user
 * (or a token the caller passed: tests, other commands) cancelled; a cancelled run resolves to
 * undefined after telling the user what was (not) done.
 */
async function withCancellableProgress<T>(
  title: string,
  passed: unknown,
  onCancelled: string,
  work: (step: (message: string) => void, isCancelled: () => boolean) => Promise<T>,
): Promise<T | undefined> {
  const extra = passed as vscode.CancellationToken | undefined;
  class Cancelled extends Error {}
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      const isCancelled = (): boolean => token.isCancellationRequested || extra?.isCancellationRequested === true;
      return work((message) => {
        if (isCancelled()) throw new Cancelled();
        progress.report({ message });
      }, isCancelled);
    });
  } catch (err) {
    if (!(err instanceof Cancelled) && !(err instanceof ImportCancelledError)) throw err;
    void vscode.window.showInformationMessage(onCancelled);
    return undefined;
  }
}

export interface CommandParts {
  services: Services;
  logger: CommandLogger;
  status: SandboxStatus;
  failures: Failures;
  documents: MemoryDocuments;
  insights: InsightsPanel;
}

export function registerCommands({ services, logger, status, failures, documents, insights }: CommandParts): vscode.Disposable[] {
  const sandboxOutput = vscode.window.createOutputChannel('Agent Memory Sandbox');

  /** `tokenArg` (a CancellationToken, as tests and other extensions pass) cancels the run like the notification's Cancel. */
  const runInSandbox = async (codeArg?: unknown, tokenArg?: unknown): Promise<ExecutionResult | undefined> => {
    let code = typeof codeArg === 'string' ? codeArg : undefined;
    let source = 'argument';
    let language: 'javascript' | 'typescript' = 'javascript';
    if (code === undefined) {
      const editor = vscode.window.activeTextEditor;
      if (!editor) {
        void vscode.window.showWarningMessage('Agent Memory: open a JavaScript or TypeScript file (or select code) to run it in the sandbox.');
        return undefined;
      }
      const doc = editor.document;
      const selection = editor.selection;
      code = selection.isEmpty ? doc.getText() : doc.getText(selection);
      source = `${vscode.workspace.asRelativePath(doc.uri)}${selection.isEmpty ? '' : ` (lines ${selection.start.line + 1}–${selection.end.line + 1})`}`;
      language = doc.languageId === 'typescript' || doc.languageId === 'typescriptreact' ? 'typescript' : 'javascript';
    }
    const sandbox = services.sandbox();
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Agent Memory: running in the sandbox…', cancellable: true },
      async (_progress, token) => {
        const abort = new AbortController();
        const extra = tokenArg as vscode.CancellationToken | undefined;
        const subs = [token, ...(extra?.onCancellationRequested ? [extra] : [])].map((t) => t.onCancellationRequested(() => abort.abort()));
        if (extra?.isCancellationRequested) abort.abort();
        status.update(sandbox.metrics().active + 1);
        try {
          return await sandbox.execute(code, { task: `Run in Sandbox: ${source}` }, { language, signal: abort.signal });
        } finally {
          for (const sub of subs) sub.dispose();
          status.update(sandbox.metrics().active);
        }
      },
    );
    const text = formatExecution(result, source);
    sandboxOutput.appendLine(text);
    sandboxOutput.show(true);
    // The result view: a read-only document the user can select and copy from.
    documents.setSandboxResult(text);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(SANDBOX_RESULT_URI), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: true });
    if (result.kind === 'security_violation') void vscode.window.showWarningMessage(`Sandbox refused the code (${result.violationType}): ${result.reason}`);
    return result;
  };

  const openEpisode = async (arg?: unknown): Promise<vscode.TextDocument | undefined> => {
    let id = episodeIdOf(arg);
    id ??= await vscode.window.showInputBox({ prompt: 'Episode id', ignoreFocusOut: true });
    if (!id) return undefined;
    const doc = await vscode.workspace.openTextDocument(episodeUri(id));
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  };

  const searchMemory = async (): Promise<string | undefined> => {
    const store = await services.store();
    const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { id: string }>();
    pick.placeholder = 'Search past episodes (task, steps, errors, reflections)…';
    pick.matchOnDescription = true;
    pick.matchOnDetail = true;
    let generation = 0;
    const search = async (value: string): Promise<void> => {
      const mine = ++generation;
      if (!value.trim()) {
        pick.items = [];
        return;
      }
      pick.busy = true;
      try {
        const { hits } = await store.query({ query: value, limit: 20 });
        if (mine !== generation) return;
        pick.items = hits.map((h) => ({
          id: h.episode.id,
          label: truncate(h.episode.task, 100),
          description: `${h.episode.domain} · ${h.episode.taskType} · ${h.episode.outcome ?? 'in progress'} · score ${h.score.toFixed(2)}`,
          detail: h.why.join(' · '),
          alwaysShow: true,
        }));
      } catch (err) {
        failures.report('Search Memory', err, () => search(value));
      } finally {
        if (mine === generation) pick.busy = false;
      }
    };
    return new Promise<string | undefined>((resolve) => {
      pick.onDidChangeValue((v) => void search(v));
      pick.onDidAccept(() => {
        const chosen = pick.selectedItems[0];
        pick.hide();
        // Through the command, so a failure to open shows its message with actions.
        if (chosen) void vscode.commands.executeCommand('agentMemory.openEpisode', chosen.id);
        resolve(chosen?.id);
      });
      pick.onDidHide(() => {
        pick.dispose();
        resolve(undefined);
      });
      pick.show();
    });
  };

  const deleteEpisode = async (arg?: unknown): Promise<boolean> => {
    const id = episodeIdOf(arg) ?? (await vscode.window.showInputBox({ prompt: 'Id of the episode to delete' }));
    if (!id) return false;
    const store = await services.store();
    const deleted = await store.deleteEpisode(id);
    if (!deleted) void vscode.window.showWarningMessage(`No episode with id ${id}.`);
    return deleted;
  };

  const choosePreset = async (preset?: unknown): Promise<PresetName | undefined> => {
    let chosen: PresetName | undefined = isPresetName(preset) ? preset : undefined;
    if (!chosen) {
      const items: Array<vscode.QuickPickItem & { preset: PresetName }> = [
        { preset: 'restrictive', label: 'restrictive', description: '3 s · 64 MB · 30 % CPU', detail: 'No file system, no network.' },
        { preset: 'default', label: 'default', description: '5 s · 128 MB · 50 % CPU', detail: 'No file system, no network.' },
        { preset: 'permissive', label: 'permissive', description: '10 s · 256 MB · 80 % CPU', detail: 'File system limited to the allowed paths; network to the allowed hosts.' },
      ];
      const pick = await vscode.window.showQuickPick(items, { placeHolder: 'Sandbox preset for agent code' });
      chosen = pick?.preset;
    }
    if (!chosen) return undefined;
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration(`${SECTION}.sandbox`).update('preset', chosen, target);
    return chosen;
  };

  const exportMemory = async (target?: unknown, token?: unknown): Promise<vscode.Uri | undefined> => {
    const uri =
      target instanceof vscode.Uri
        ? target
        : await vscode.window.showSaveDialog({ filters: { 'Agent Memory export (JSON Lines)': ['jsonl'] }, saveLabel: 'Export', defaultUri: vscode.Uri.file('agent-memory-export.jsonl') });
    if (!uri) return undefined;
    const count = await withCancellableProgress('Agent Memory: exporting', token, 'Export cancelled; nothing was written.', async (step, isCancelled) => {
      const store = await services.store();
      step('reading the memory…');
      // Written by the store's worker a page at a time (JSON Lines): memory stays flat whatever the store's size.
      return exportFile(store, uri.fsPath, { isCancelled, progress: (done, total) => isCancelled() || step(`${done} of ${total ?? '?'} episodes written…`) });
    });
    if (count === undefined) return undefined;
    void vscode.window.showInformationMessage(`Exported ${count} episodes to ${uri.fsPath}.`);
    return uri;
  };

  /** Checks every line, then imports in one transaction; cancelled or failed at any point, nothing changes. */
  const importMemory = async (source?: unknown, token?: unknown): Promise<{ imported: number; skipped: number } | undefined> => {
    const uri =
      source instanceof vscode.Uri
        ? source
        : (await vscode.window.showOpenDialog({ filters: { 'Agent Memory export': ['jsonl', 'json'] }, canSelectMany: false, openLabel: 'Import' }))?.[0];
    if (!uri) return undefined;
    const result = await withCancellableProgress(
      'Agent Memory: importing',
      token,
      'Import cancelled; nothing was changed.',
      async (step, isCancelled) => {
        const store = await services.store();
        // Every line is checked before anything is written: an invalid one imports nothing.
        step(`checking ${uri.fsPath}…`);
        // Progress must not throw here: a cancel is handled inside the store's import, which rolls back.
        const r = await importFile(store, uri.fsPath, { isCancelled, progress: (done) => isCancelled() || step(`${done} episodes imported…`) });
        return { imported: r.imported, skipped: r.skipped };
      },
    );
    if (result) void vscode.window.showInformationMessage(`Imported ${result.imported} episodes (${result.skipped} already present).`);
    return result;
  };

  const clearMemory = async (confirmed?: unknown): Promise<boolean> => {
    if (confirmed !== true) {
      const answer = await vscode.window.showWarningMessage(
        'Clear all episodes and learned patterns from Agent Memory?',
        { modal: true, detail: 'This cannot be undone. Export the memory first if you may want it back.' },
        'Clear Memory',
      );
      if (answer !== 'Clear Memory') return false;
    }
    await (await services.store()).clear();
    return true;
  };

  const showMetrics = async (): Promise<vscode.TextDocument> => {
    const doc = await vscode.workspace.openTextDocument(METRICS_URI);
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  };

  /** The welcome view's button: runs a sample in the sandbox and records it as an episode. */
  const runSample = async (): Promise<EpisodeSummary | undefined> => {
    const store = await services.store();
    const episode = await store.createEpisode({ task: 'Sample: sum the squares of a list in the sandbox', domain: 'samples', taskType: 'code_generation', context: { language: 'javascript', tags: ['sample'] } });
    const started = Date.now();
    const result = await services.sandbox().execute(SAMPLE_CODE, { task: episode.task, input: { numbers: [1, 2, 3, 4] } });
    await store.addStep(episode.id, {
      tool: 'execute_agent_code',
      action: 'Run the sample in the sandbox',
      parameters: { input: { numbers: [1, 2, 3, 4] } },
      result:
        result.kind === 'success'
          ? { status: 'success', output: result.output }
          : result.kind === 'timeout'
            ? { status: 'timeout', message: `timed out after ${result.elapsedMs} ms` }
            : { status: 'error', message: result.kind === 'error' ? `${result.errorType}: ${result.message}` : `${result.violationType}: ${result.reason}` },
      latencyMs: Date.now() - started,
    });
    const done = await store.completeEpisode(episode.id, {
      outcome: result.kind === 'success' ? { type: 'success', verdict: `returned ${result.output}` } : { type: 'failure', reason: `sandbox answered ${result.kind}` },
    });
    return episodeSummary(done.episode);
  };

  const reg = (id: string, what: string, fn: (...args: unknown[]) => unknown): vscode.Disposable => failures.command(id, what, fn);
  return [
    sandboxOutput,
    reg('runInSandbox', 'Run in Sandbox', runInSandbox),
    reg('searchMemory', 'Search Memory', searchMemory),
    reg('openEpisode', 'Open Episode', openEpisode),
    reg('deleteEpisode', 'Delete Episode', deleteEpisode),
    reg('copyEpisodeId', 'Copy Episode Id', async (arg?: unknown) => {
      const id = episodeIdOf(arg);
      if (id) await vscode.env.clipboard.writeText(id);
      return id;
    }),
    reg('exportMemory', 'Export Memory', exportMemory),
    reg('importMemory', 'Import Memory', importMemory),
    reg('clearMemory', 'Clear Memory', clearMemory),
    reg('choosePreset', 'Choose Sandbox Preset', choosePreset),
    reg('showMetrics', 'Show Metrics', showMetrics),
    reg('showInsights', 'Show Insights', () => insights.show()),
    reg('showLog', 'Show Log', () => logger.show(true)),
    reg('runSample', 'Run a Sample', runSample),
  ];
}
