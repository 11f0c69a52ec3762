/**
 * Snapshots of a writable store: the database and the search index written to
 * snapshot.db (with the write sequence they cover), after which the journal is cut to
 * the records the snapshot does not cover. Taken in the background, debounced, one at a
 * time, and in slices of a few milliseconds: calls (reads and writes) are answered
 * between them.
 *
 * 1. The database is copied a few pages a step (dbCopy.ts); writes made meanwhile reach the
 *    copy too. In the tick the copy completes, the snapshot's point is fixed: the write
 *    sequence, the journal's length and a frozen view of the search index, all at that write.
 * 2. The frozen index is serialized in steps (search/format.ts); writes go on beside it.
 * 3. Both are written to a temp file chunk by chunk, renamed over the old snapshot, and the
 *    journal is cut at the length noted in 1: records of writes made since stay.
 */
import * as path from 'node:path';
import type { SqlJsStatic } from 'sql.js';
import type { Logger } from '../../common/logger';
import { writeSnapshot } from '../files';
import { TimeSlices } from '../slices';
import { joinChunks, serializeIndexSteps } from '../search/format';
import type { FrozenIndex } from '../search/format';
import { copyDatabase } from './dbCopy';
import { SNAPSHOT_FILE } from './open';
import type { StoreState } from './state';

/** The longest a snapshot holds the thread before answering waiting calls. */
const SLICE_MS = 4;
/**
 * Reloading the index from a compacted snapshot (dropping deleted documents) is one long
 * step (a full index load); it is done only when this share of the numbered documents is
 * deleted, and only when no write came in since the snapshot's point.
 */
const RELOAD_TOMBSTONE_SHARE = 0.1;

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
    private readonly SQL: SqlJsStatic,
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

  /** Resolves when no snapshot is being written (close waits for it before closing the database). */
  settled(): Promise<void> {
    return this.chain;
  }

  private async write(): Promise<void> {
    const { state } = this;
    if (!state.journal || state.seq === this.coveredSeq) return;
    const started = performance.now();
    this.dirtySince = undefined;
    const slices = new TimeSlices(SLICE_MS);
    const index = state.index;
    let seq = 0;
    let journalOffset = 0;
    let frozen: FrozenIndex | undefined;
    try {
      const dbBytes = await copyDatabase(this.SQL, state.db, slices.pause, () => {
        seq = state.seq;
        journalOffset = state.journal?.size ?? 0;
        frozen = index.freeze();
      });
      const copiedMs = performance.now() - started;
      const serialized = await slices.run(serializeIndexSteps(frozen!));
      const serializedMs = performance.now() - started - copiedMs;
      const bytes = await writeSnapshot(path.join(this.dir, SNAPSHOT_FILE), seq, dbBytes, serialized.chunks);
      if (!state.journal) return; // closed meanwhile (close awaits the chain, so only on failure paths)
      state.journal.compact(journalOffset);
      this.adopt(seq, bytes, new Date().toISOString());
      const behind = state.seq - seq;
      if (serialized.renumbered && behind === 0 && index.tombstones >= RELOAD_TOMBSTONE_SHARE * (index.tombstones + index.documentCount)) {
        index.loadFrom(joinChunks(serialized.chunks, serialized.bytes));
      }
      this.logger.debug(
        `memory: snapshot at write ${seq}: ${bytes} bytes, database copy ${Math.round(copiedMs)} ms, index ${Math.round(serializedMs)} ms, ` +
          `total ${Math.round(performance.now() - started)} ms (${behind} writes made meanwhile stay in the journal)`,
      );
    } finally {
      if (frozen) index.thaw();
    }
  }
}
