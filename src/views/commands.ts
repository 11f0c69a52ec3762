/** The palette commands (category "Agent Memory"). Each returns its result so tests can check it. */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { Logger } from '../common/logger';
import type { EpisodeSummary } from '../memory';
import { exportJsonl, importFile } from '../mcp';
import { isPresetName, type ExecutionResult, type PresetName } from '../sandbox';
import { SECTION } from './config';
import { METRICS_URI, episodeUri } from './episodeDocument';
import { episodeSummary, formatExecution, truncate } from './format';
import type { MemoryNode } from './trees';
import type { Services } from './services';
import type { SandboxStatus } from './statusBar';

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

export function registerCommands(services: Services, logger: Logger & vscode.LogOutputChannel, status: SandboxStatus): vscode.Disposable[] {
  const sandboxOutput = vscode.window.createOutputChannel('Agent Memory Sandbox');
  const reg = (id: string, fn: (...args: unknown[]) => unknown): vscode.Disposable => vscode.commands.registerCommand(`agentMemory.${id}`, fn);

  const runInSandbox = async (codeArg?: unknown): Promise<ExecutionResult | undefined> => {
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
        const sub = token.onCancellationRequested(() => abort.abort());
        status.update(sandbox.metrics().active + 1);
        try {
          return await sandbox.execute(code, { task: `Run in Sandbox: ${source}` }, { language, signal: abort.signal });
        } finally {
          sub.dispose();
          status.update(sandbox.metrics().active);
        }
      },
    );
    sandboxOutput.appendLine(formatExecution(result, source));
    sandboxOutput.show(true);
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
        logger.warn(`Search failed: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        if (mine === generation) pick.busy = false;
      }
    };
    return new Promise<string | undefined>((resolve) => {
      pick.onDidChangeValue((v) => void search(v));
      pick.onDidAccept(() => {
        const chosen = pick.selectedItems[0];
        pick.hide();
        if (chosen) void openEpisode(chosen.id);
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

  const exportMemory = async (target?: unknown): Promise<vscode.Uri | undefined> => {
    const uri =
      target instanceof vscode.Uri
        ? target
        : await vscode.window.showSaveDialog({ filters: { 'Agent Memory export (JSON Lines)': ['jsonl'] }, saveLabel: 'Export', defaultUri: vscode.Uri.file('agent-memory-export.jsonl') });
    if (!uri) return undefined;
    try {
      // Streamed a page at a time (JSON Lines): memory stays flat whatever the store's size.
      const store = await services.store();
      const out = fs.createWriteStream(uri.fsPath);
      const n = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Exporting Agent Memory' }, (progress) =>
        exportJsonl(store, out, (done, total) => progress.report({ message: `${done} of ${total ?? '?'} episodes` })),
      );
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      void vscode.window.showInformationMessage(`Exported ${n} episodes to ${uri.fsPath}.`);
      return uri;
    } catch (err) {
      void vscode.window.showErrorMessage(`Export failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  };

  const importMemory = async (source?: unknown): Promise<{ imported: number; skipped: number } | undefined> => {
    const uri =
      source instanceof vscode.Uri
        ? source
        : (await vscode.window.showOpenDialog({ filters: { 'Agent Memory export': ['jsonl', 'json'] }, canSelectMany: false, openLabel: 'Import' }))?.[0];
    if (!uri) return undefined;
    try {
      const store = await services.store();
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Importing into Agent Memory' }, (progress) =>
        importFile(store, uri.fsPath, { progress: (done) => progress.report({ message: `${done} episodes` }) }),
      );
      void vscode.window.showInformationMessage(`Imported ${result.imported} episodes (${result.skipped} already present).`);
      return { imported: result.imported, skipped: result.skipped };
    } catch (err) {
      void vscode.window.showErrorMessage(`Import failed: ${err instanceof Error ? err.message : String(err)} Nothing was changed.`);
      return undefined;
    }
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

  return [
    sandboxOutput,
    reg('runInSandbox', runInSandbox),
    reg('searchMemory', searchMemory),
    reg('openEpisode', openEpisode),
    reg('deleteEpisode', deleteEpisode),
    reg('copyEpisodeId', async (arg?: unknown) => {
      const id = episodeIdOf(arg);
      if (id) await vscode.env.clipboard.writeText(id);
      return id;
    }),
    reg('exportMemory', exportMemory),
    reg('importMemory', importMemory),
    reg('clearMemory', clearMemory),
    reg('choosePreset', choosePreset),
    reg('showMetrics', showMetrics),
    reg('showLog', () => logger.show(true)),
    reg('runSample', runSample),
  ];
}
