/** Status-bar item: the sandbox preset and the executions running now; click to choose the preset. */
import * as vscode from 'vscode';
import type { Sandbox } from '../sandbox';
import { readSandboxConfig } from './config';
import type { Services } from './services';

export class SandboxStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('agentMemory.sandboxStatus', vscode.StatusBarAlignment.Right, 100);
  private readonly disposables: vscode.Disposable[] = [this.item];
  private running = 0;

  constructor(services: Services) {
    this.item.name = 'Agent Memory Sandbox';
    this.item.command = 'agentMemory.choosePreset';
    const watch = (sandbox: Sandbox): void => {
      this.disposables.push(sandbox.onDidExecute(() => this.update(sandbox.metrics().active)));
    };
    const existing = services.peekSandbox();
    if (existing) watch(existing);
    this.disposables.push(services.onDidCreateSandbox(watch));
    this.update(0);
    this.item.show();
  }

  /** Called around executions the extension starts itself, and on every finished one. */
  update(running = this.running): void {
    this.running = running;
    const { preset, notes } = readSandboxConfig();
    this.item.text = `$(shield) ${preset}${running > 0 ? ` $(sync~spin) ${running}` : ''}`;
    this.item.tooltip = `Agent Memory sandbox preset: ${preset}${running ? ` · ${running} running` : ''}${notes.length ? `\n${notes.join('\n')}` : ''}\nClick to choose the preset.`;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
