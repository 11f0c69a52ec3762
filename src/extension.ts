/**
 * Wires the pure core into VS Code; nothing else lives here. One LogOutputChannel is passed down
 * as the Logger, everything hangs off context.subscriptions, settings are read at point of use.
 * Activation is cheap: the store, the sandbox's WASM and the MCP server start on first use.
 */
import * as vscode from 'vscode';
import path from 'node:path';
import { registerCommands } from './views/commands';
import { Failures } from './views/failures';
import { InsightsPanel } from './views/insights/panel';
import { SERVER_SETTINGS, SECTION, readRetention, readSamplePhrasings, readSandboxConfig, serverEnabled } from './views/config';
import { MemoryDocuments, SCHEME } from './views/episodeDocument';
import { AgentMemoryMcpProvider, MCP_PROVIDER_ID } from './views/mcpProvider';
import { Services } from './views/services';
import { SandboxStatus } from './views/statusBar';
import { StoreAccessNotice } from './views/storeAccess';
import { EpisodesTree, PatternsTree, SandboxTree } from './views/trees';

/** What activate() returns: used by the extension-host tests, harmless to others. */
export interface AgentMemoryApi {
  readonly activationMs: number;
  readonly services: Services;
  readonly mcpProvider: AgentMemoryMcpProvider;
  readonly trees: { episodes: EpisodesTree; patterns: PatternsTree; sandbox: SandboxTree };
  readonly failures: Failures;
  readonly insights: InsightsPanel;
}

let active: Services | undefined;

export function activate(context: vscode.ExtensionContext): AgentMemoryApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Agent Memory', { log: true });
  context.subscriptions.push(log);

  const storageRoot = context.storageUri ?? context.globalStorageUri;
  const services = new Services({
    storeDir: path.join(storageRoot.fsPath, 'memory'),
    logger: log,
    sandboxConfig: () => readSandboxConfig().config,
    retention: readRetention,
    samplePhrasings: readSamplePhrasings,
  });
  active = services;
  // Disposed last (subscriptions are disposed in reverse), after the views that use it.
  context.subscriptions.push(services);

  const mcpProvider = new AgentMemoryMcpProvider(services, serverEnabled);
  context.subscriptions.push(mcpProvider, vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, mcpProvider));

  const documents = new MemoryDocuments(services);
  context.subscriptions.push(documents, vscode.workspace.registerTextDocumentContentProvider(SCHEME, documents));

  const failures = new Failures(log);
  context.subscriptions.push(failures);
  const trees = { episodes: new EpisodesTree(services, failures), patterns: new PatternsTree(services, failures), sandbox: new SandboxTree(services, failures) };
  const episodesView = vscode.window.createTreeView('agentMemory.episodes', { treeDataProvider: trees.episodes, showCollapseAll: true });
  context.subscriptions.push(
    trees.episodes,
    trees.patterns,
    trees.sandbox,
    episodesView,
    vscode.window.createTreeView('agentMemory.patterns', { treeDataProvider: trees.patterns, showCollapseAll: true }),
    vscode.window.createTreeView('agentMemory.sandbox', { treeDataProvider: trees.sandbox }),
    new StoreAccessNotice(services, episodesView),
    failures.command('refresh', 'Refresh', () => {
      trees.episodes.refresh();
      trees.patterns.refresh();
      trees.sandbox.refresh();
    }),
  );

  const status = new SandboxStatus(services);
  const insights = new InsightsPanel(services, context.extensionUri, failures);
  context.subscriptions.push(status, insights, ...registerCommands({ services, logger: log, status, failures, documents, insights }));

  const applySettings = (): void => {
    const effective = readSandboxConfig();
    for (const note of effective.notes) log.warn(note);
    const refused = effective.notes.filter((n) => n.startsWith('Refused: the allowed path'));
    if (refused.length) void vscode.window.showWarningMessage(`Agent Memory: ${refused.join(' ')} Change agentMemory.sandbox.allowedPaths.`);
    services.applySettings();
    status.update();
    trees.sandbox.refresh();
    mcpProvider.bump();
  };
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (SERVER_SETTINGS.some((s) => e.affectsConfiguration(s)) || e.affectsConfiguration(`${SECTION}.memory`)) applySettings();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(applySettings),
  );

  const activationMs = performance.now() - started;
  log.info(`Agent Memory activated in ${activationMs.toFixed(1)} ms; memory store folder: ${services.storeDir}`);
  return { activationMs, services, mcpProvider, trees, failures, insights };
}

/** VS Code awaits this: the store's journal is flushed and a final snapshot written before exit. */
export function deactivate(): Promise<void> | undefined {
  const closing = active?.close();
  active = undefined;
  return closing;
}
