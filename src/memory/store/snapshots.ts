/**
 * Snapshots of a writable store: the database and the search index written to
 * snapshot.db (with the write sequence they cover), after which the journal is cut to
 * the records the snapshot does not cover. Taken in the background, debounced, outside
 * transactions, one at a time.
 */
import * as path from 'node:path';
import type { Logger } from '../../common/logger';
import { writeSnapshot } from '../files';
import { SNAPSHOT_FILE } from './open';
import { configure } from './schema';
import type { StoreState } from './state';

/** Journal size that triggers a snapshot sooner than the debounce. */
const JOURNAL_SNAPSHOT_BYTES = 64 * 1024 * 1024;

export class Snapshots {
  /** The write sequence the snapshot on disk covers. */
  coveredSeq = 0;
  bytes = 0;
  lastAt?: string;
  private timer?: NodeJS.Timeout;
  private dirtySince?: number;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly state: StoreState,
    private readonly logger: Logger,
    private readonly debounceMs: number,
  ) {}

  /** What the snapshot on disk holds, as read at open or reload. */
  adopt(seq: number, bytes: number, at?: string): void {
    this.coveredSeq = seq;
    this.bytes = bytes;
    this.lastAt = at;
  }

  /** Takes a snapshot after the debounce (never postponed beyond 10 debounce periods after the first unsaved write). */
  schedule(): void {
    const now = Date.now();
    this.dirtySince ??= now;
    if (this.timer) clearTimeout(this.timer);
    const bigJournal = (this.state.journal?.size ?? 0) > JOURNAL_SNAPSHOT_BYTES;
    const delay = bigJournal ? 0 : Math.max(0, Math.min(this.debounceMs, this.dirtySince + this.debounceMs * 10 - now));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.take().catch((e: unknown) => this.logger.error(`memory: background snapshot failed: ${(e as Error).message}`));
    }, delay);
    this.timer.unref();
  }

  /** Stops a scheduled snapshot (on close, which takes its own). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Writes a snapshot now (if anything changed since the last one) and cuts the journal. */
  take(): Promise<void> {
    const next = this.chain.then(() => this.write());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async write(): Promise<void> {
    const { state } = this;
    if (!state.journal || state.seq === this.coveredSeq) return;
    const started = Date.now();
    this.dirtySince = undefined;
    const seq = state.seq;
    const journalOffset = state.journal.size;
    // Synchronous and outside any transaction (all transactions are synchronous too).
    const dbBytes = state.db.export();
    configure(state.db); // export() reopens the connection and loses pragmas
    const indexBytes = state.index.serialize();
    const exportMs = Date.now() - started;
    const bytes = await writeSnapshot(path.join(this.dir, SNAPSHOT_FILE), seq, dbBytes, indexBytes);
    if (!state.journal) return; // closed meanwhile (close awaits the chain, so only on failure paths)
    state.journal.compact(journalOffset);
    this.adopt(seq, bytes, new Date().toISOString());
    this.logger.debug(`memory: snapshot at write ${seq}: ${bytes} bytes, export+serialize ${exportMs} ms, total ${Date.now() - started} ms`);
  }
}
