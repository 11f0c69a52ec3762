/**
 * Says in the Memory explorer (the Episodes view's message) when this window only reads the
 * store because another process (the standalone memory-mcp on this folder) writes it, and in
 * the status bar when this window took over as the writer after that process closed it or died.
 */
import * as vscode from 'vscode';
import type { MemoryClient } from '../memory';
import type { Services } from './services';

export const READ_ONLY_MESSAGE = 'Read-only: another process writes this memory store. Its new episodes show here within 2 s; this window takes over when it closes the store.';
export const TOOK_OVER_MESSAGE = 'Agent Memory: the other process closed the memory store; this window now writes it.';

export class StoreAccessNotice implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];

  constructor(services: Services, private readonly view: vscode.TreeView<unknown>) {
    this.disposables.push(services.onDidOpenStore((store) => this.watch(store)));
  }

  private watch(store: MemoryClient): void {
    this.show(store.readOnly);
    this.disposables.push(
      store.onDidChangeAccess(({ readOnly }) => {
        this.show(readOnly);
        if (!readOnly) this.disposables.push(vscode.window.setStatusBarMessage(`$(database) ${TOOK_OVER_MESSAGE}`, 15_000));
      }),
    );
  }

  private show(readOnly: boolean): void {
    this.view.message = readOnly ? READ_ONLY_MESSAGE : undefined;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
