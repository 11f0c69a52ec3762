/**
 * No dead ends: a command that fails logs the error (with its stack) and shows a message that
 * says what failed and offers a way forward: Retry (run it again with the same arguments),
 * Open Log, Open Settings. Every palette command is registered through `Failures.command`.
 */
import * as vscode from 'vscode';
import type { Logger } from '../common/logger';

export const RETRY = 'Retry';
export const OPEN_LOG = 'Open Log';
export const OPEN_SETTINGS = 'Open Settings';

export interface Failure {
  what: string;
  message: string;
  actions: string[];
}

export type CommandLogger = Logger & { show(preserveFocus?: boolean): void };

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

export class Failures implements vscode.Disposable {
  private readonly reported = new vscode.EventEmitter<Failure>();
  /** Fires for every failure shown (the extension-host tests read it). */
  readonly onDidReport = this.reported.event;

  constructor(private readonly logger: CommandLogger) {}

  /** Shows the failure (not awaited: the command resolves at once) and acts on the choice. */
  report(what: string, err: unknown, retry?: () => unknown): Failure {
    const message = messageOf(err);
    this.logger.error(`${what} failed: ${message}${err instanceof Error && err.stack ? `\n${err.stack}` : ''}`);
    const actions = [...(retry ? [RETRY] : []), OPEN_LOG, OPEN_SETTINGS];
    const failure: Failure = { what, message: `Agent Memory: ${what} failed: ${message}`, actions };
    this.reported.fire(failure);
    void vscode.window.showErrorMessage(failure.message, ...actions).then(async (choice) => {
      if (choice === RETRY) await retry?.();
      else if (choice === OPEN_LOG) this.logger.show(true);
      else if (choice === OPEN_SETTINGS) await vscode.commands.executeCommand('workbench.action.openSettings', '@ext:agent-memory.agent-memory');
    });
    return failure;
  }

  /** Registers `agentMemory.<id>`; a thrown error or rejection becomes a message with actions. */
  command(id: string, what: string, fn: (...args: unknown[]) => unknown): vscode.Disposable {
    const run = async (...args: unknown[]): Promise<unknown> => {
      try {
        return await fn(...args);
      } catch (err) {
        this.report(what, err, () => run(...args));
        return undefined;
      }
    };
    return vscode.commands.registerCommand(`agentMemory.${id}`, run);
  }

  dispose(): void {
    this.reported.dispose();
  }
}
