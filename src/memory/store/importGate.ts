/**
 * File imports as the store runs them. A JSON Lines import holds the database's
 * transaction across many turns of the event loop (fileImport.ts); while it does, the
 * store's other writes, its snapshots, retention and tool counters wait at this gate.
 * Once committed, the import is saved by a snapshot; if that fails the store reloads from
 * its files, which do not hold the import: nothing changed.
 */
import type { Logger } from '../../common/logger';
import type { ImportFileOptions, ImportReport, OpenOptions, StoreChange } from '../types';
import { MemoryError } from '../errors';
import { applyImportFile, checkImportFile, importCancelled, readWholeExport } from './fileImport';
import { reloadFromFiles } from './reload';
import type { Snapshots } from './snapshots';
import type { StoreState } from './state';

/** What the gate needs from the store it guards. */
export interface ImportHost {
  readonly dir: string;
  readonly state: StoreState;
  readonly snapshots: Snapshots;
  readonly logger: Logger;
  readonly reopen: Pick<OpenOptions, 'wasmPath' | 'retrieval'>;
  /** Throws when the store cannot take writes now. */
  ensureWritable(): void;
  isClosing(): boolean;
  /** Imports a whole-JSON export (the older format) as one ordinary write. */
  importWhole(data: unknown): Promise<{ imported: number; skipped: number }>;
  fire(change: StoreChange): void;
  scheduleSnapshot(): void;
  runRetention(): void;
}

export class ImportGate {
  /** Set while a file import holds the database's transaction. */
  private held?: Promise<void>;
  private readonly aborts = new Set<AbortController>();

  constructor(private readonly host: ImportHost) {}

  /** True while an import holds the transaction (housekeeping writes skip their turn). */
  get busy(): boolean {
    return this.held !== undefined;
  }

  /** Resolves once no import holds the transaction. */
  async free(): Promise<void> {
    while (this.held) await this.held;
  }

  /** Runs a write once no import holds the transaction. */
  write<T>(fn: () => Promise<T>): Promise<T> {
    const gate = this.held;
    return gate ? gate.then(() => this.write(fn)) : fn();
  }

  /** Cancels every import under way (on close). */
  abortAll(): void {
    for (const a of this.aborts) a.abort();
  }

  async importFile(file: string, options: ImportFileOptions): Promise<ImportReport> {
    const { host } = this;
    // Cancelled by the caller, or by close().
    const abort = new AbortController();
    const forward = (): void => abort.abort();
    options.signal?.addEventListener('abort', forward, { once: true });
    if (options.signal?.aborted) abort.abort();
    const opts = { ...options, signal: abort.signal };
    this.aborts.add(abort);
    try {
      const kind = await checkImportFile(file, opts);
      if (kind.format === 'json') {
        const data = await readWholeExport(file);
        // One write, made whole or not at all: a cancel up to here changes nothing.
        if (abort.signal.aborted) throw importCancelled(file);
        const r = await host.importWhole(data);
        return { imported: r.imported, skipped: r.skipped, invalid: [], format: 'json' };
      }
      await this.free();
      host.ensureWritable();
      if (host.isClosing()) throw new MemoryError('closed', 'The memory store is closing');
      let release!: () => void;
      this.held = new Promise<void>((resolve) => (release = resolve));
      let r: { imported: number; skipped: number };
      try {
        // No snapshot may run inside the transaction: stop the scheduled one, let one under way finish.
        host.snapshots.cancel();
        await host.snapshots.take();
        r = await applyImportFile(host.state, file, kind, opts);
        if (r.imported) await this.save(file);
      } finally {
        this.held = undefined;
        release();
        if (host.state.seq !== host.snapshots.coveredSeq) host.scheduleSnapshot();
      }
      if (r.imported) host.runRetention();
      return { ...r, invalid: kind.invalid, format: 'jsonl' };
    } finally {
      this.aborts.delete(abort);
      options.signal?.removeEventListener('abort', forward);
    }
  }

  /**
   * Makes a committed file import durable with a snapshot (one write sequence number, no
   * journal record). If the snapshot fails, the store reloads from its files, which do not
   * hold the import: nothing changed.
   */
  private async save(file: string): Promise<void> {
    const { host } = this;
    host.state.seq++;
    try {
      await host.snapshots.take();
    } catch (e) {
      host.logger.error(`memory: saving the import of ${file} failed (${(e as Error).message}); reloading the store from its files`);
      await reloadFromFiles(host.dir, host.state, host.reopen, false, host.logger);
      throw new MemoryError('unavailable', `The import of ${file} could not be saved (${(e as Error).message}); nothing was imported and the memory is as it was.`, { cause: e });
    }
    host.fire({ type: 'imported' });
  }
}
