/**
 * Opening a store's files: a consistent snapshot + journal pair (a read-only viewer may
 * race with the writer's snapshot and journal cut), the database adopted from the
 * snapshot bytes, the search index loaded (or rebuilt), and the journal records to replay.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import type { Logger } from '../../common/logger';
import { MemoryError } from '../errors';
import { readJournal, readSnapshot } from '../files';
import type { JournalReadResult, SnapshotContents } from '../files';
import { SearchIndex } from '../search';
import type { RetrievalFeatures } from '../types';
import type { Op } from './operations';
import { rowToEpisode } from './rows';
import { configure, migrate } from './schema';
import { num, str, withStatement } from './sql';
import { loadSteps } from './steps';

export const SNAPSHOT_FILE = 'snapshot.db';
export const JOURNAL_FILE = 'journal.log';

/**
 * A view whose whole-range slice() is a view on the same memory. sql.js stores the bytes
 * given to `new Database(bytes)` in its in-memory file system with `bytes.slice()`, a copy
 * of the whole database (hundreds of MB at 100k episodes, slow to allocate and fault in),
 * and copies it again when a write first extends the file. With this view it adopts the
 * snapshot buffer, spare capacity included (the file's size stays the database's length;
 * the buffer is used by nothing else). Any other slice is a normal copy, so a different
 * sql.js still works (it copies).
 */
class AdoptedBytes extends Uint8Array<ArrayBufferLike> {
  capacity = 0;
  override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
    if ((start ?? 0) === 0 && (end ?? this.length) === this.length) {
      return new Uint8Array(this.buffer, this.byteOffset, Math.max(this.length, this.capacity)) as Uint8Array<ArrayBuffer>;
    }
    return super.slice(start, end);
  }
}

export function adopt(bytes: Uint8Array, capacity: number): Uint8Array {
  const a = new AdoptedBytes(bytes.buffer, bytes.byteOffset, bytes.length);
  a.capacity = Math.min(capacity, bytes.buffer.byteLength - bytes.byteOffset);
  return a;
}

/** Temp files left by a writer that died mid-snapshot or mid-journal-cut (the caller holds the lock). */
export function removeStaleTemps(dir: string, logger: Logger): void {
  for (const f of fs.readdirSync(dir)) {
    if ((f.startsWith(`${SNAPSHOT_FILE}.`) && f.endsWith('.tmp')) || f === `${JOURNAL_FILE}.tmp`) {
      try {
        fs.rmSync(path.join(dir, f), { force: true });
        logger.debug(`memory: removed stale temp file ${f}`);
      } catch {
        /* ignore */
      }
    }
  }
}

function keepAside(file: string, logger: Logger): string {
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    fs.copyFileSync(file, aside);
    logger.error(`memory: corrupt snapshot copied to ${aside}`);
  } catch (e) {
    logger.error(`memory: could not copy the corrupt snapshot aside: ${(e as Error).message}`);
  }
  return aside;
}

function readSnapshotOrKeepAside(file: string, logger: Logger): SnapshotContents | undefined {
  try {
    return readSnapshot(file, logger);
  } catch (e) {
    if (e instanceof MemoryError && e.code === 'corrupt') {
      const kept = keepAside(file, logger);
      throw new MemoryError(
        'corrupt',
        `${e.message} A copy was kept at ${kept}; the snapshot was left in place and the store was not opened. ` +
          `Restore a backup, or delete ${file} to start from the journal alone.`,
      );
    }
    throw e;
  }
}

/** Reads the snapshot and the journal so that the journal continues the snapshot; a read-only viewer retries a race with the writer. */
export async function readConsistent(dir: string, readOnly: boolean, logger: Logger): Promise<{ snap?: SnapshotContents; journal: JournalReadResult }> {
  const snapFile = path.join(dir, SNAPSHOT_FILE);
  const journalFile = path.join(dir, JOURNAL_FILE);
  for (let attempt = 0; ; attempt++) {
    const snap = readSnapshotOrKeepAside(snapFile, logger);
    const journal = readJournal(journalFile, logger);
    const first = journal.entries.find((e) => (e.payload as Op).seq > (snap?.seq ?? 0));
    const firstSeq = first ? (first.payload as Op).seq : undefined;
    if (firstSeq === undefined || firstSeq === (snap?.seq ?? 0) + 1) return { snap, journal };
    if (!readOnly || attempt >= 5) {
      throw new MemoryError(
        'corrupt',
        `The journal ${journalFile} does not continue the snapshot (snapshot covers up to write ${snap?.seq ?? 0}, journal resumes at ${firstSeq}): records are missing. Nothing was changed.`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The database of a snapshot (adopted, not copied), migrated; a new one without a snapshot. */
export function openDatabase(SQL: SqlJsStatic, snap: SnapshotContents | undefined, dir: string, logger: Logger): Database {
  const snapFile = path.join(dir, SNAPSHOT_FILE);
  try {
    const db = snap ? new SQL.Database(adopt(snap.db, snap.dbCapacity)) : new SQL.Database();
    configure(db);
    migrate(db);
    return db;
  } catch (e) {
    if (e instanceof MemoryError) throw e;
    if (snap) keepAside(snapFile, logger);
    throw new MemoryError('corrupt', `The snapshot ${snapFile} is not a readable database (${(e as Error).message}). A copy was kept aside; nothing was changed.`, { cause: e });
  }
}

/** The search index from the snapshot, or rebuilt from the database when absent, damaged or out of step. */
export function openIndex(db: Database, snap: SnapshotContents | undefined, logger: Logger, features?: Partial<RetrievalFeatures>): SearchIndex {
  const index = new SearchIndex(features);
  let indexOk = false;
  if (snap?.index) {
    try {
      index.loadFrom(snap.index);
      indexOk = true;
    } catch (e) {
      logger.warn(`memory: could not load the search index from the snapshot (${(e as Error).message}); rebuilding`);
    }
  }
  const count = num(db.exec('SELECT COUNT(*) FROM episodes')[0]?.values[0][0]);
  if (!indexOk || index.documentCount !== count) {
    if (snap && indexOk) logger.warn('memory: search index does not match the database; rebuilding');
    index.clear();
    withStatement(db, 'SELECT * FROM episodes ORDER BY started_at', (stmt) => {
      while (stmt.step()) {
        const row = stmt.getAsObject();
        index.upsert(rowToEpisode(row, loadSteps(db, str(row.id))));
      }
    });
  }
  return index;
}

/** The journal's operations after write `fromSeq`, checked to follow each other. */
export function opsAfter(journal: JournalReadResult, fromSeq: number, dir: string): Op[] {
  const file = path.join(dir, JOURNAL_FILE);
  const ops: Op[] = [];
  let expect = fromSeq;
  for (const entry of journal.entries) {
    const op = entry.payload as Op;
    if (typeof op !== 'object' || op === null || typeof op.seq !== 'number') {
      throw new MemoryError('corrupt', `The journal ${file} holds a record that is not an operation; nothing was changed.`);
    }
    if (op.seq <= expect) continue;
    if (op.seq !== expect + 1) throw new MemoryError('corrupt', `The journal ${file} skips from write ${expect} to ${op.seq}.`);
    ops.push(op);
    expect = op.seq;
  }
  return ops;
}
