import * as vscode from 'vscode';

/** Wires the pure core into VS Code. Everything registered here hangs off one disposal root. */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Agent Memory', { log: true });
  context.subscriptions.push(log);
  context.subscriptions.push(vscode.commands.registerCommand('agentMemory.showLog', () => log.show(true)));
  log.info('Agent Memory activated');
}

export function deactivate(): void {
  // Disposal happens through context.subscriptions.
}
