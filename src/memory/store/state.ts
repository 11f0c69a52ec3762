/**
 * The open store's state: the database, the search index and the number of the last
 * write, and the two ways it changes. `commit` applies a new write and journals it
 * (acknowledged once the record is on disk); `replay` applies journal records at open,
 * or a writer's new records in a read-only view.
 */
import type { Database } from 'sql.js';
import type { StoreChange } from '../types';
import { MemoryError } from '../errors';
import type { JournalWriter } from '../files';
import type { SearchIndex } from '../search';
import { applyOp } from './operations';
import type { Applied, Op, OpBody } from './operations';

export class StoreState {
  /** The last write applied (journal sequence number). */
  seq = 0;

  constructor(
    public db: Database,
    public index: SearchIndex,
    public journal: JournalWriter | undefined,
  ) {}

  /**
   * BEGIN → apply → append to the journal and fdatasync → COMMIT → index updates. A failed
   * apply or journal write rolls back: nothing changes and nothing is journaled.
   */
  commit(body: OpBody): Applied {
    if (!this.journal) throw new MemoryError('read_only', 'This memory store has no journal to write to');
    const op = { ...body, seq: this.seq + 1 };
    this.db.exec('BEGIN');
    let res: Applied;
    try {
      res = applyOp(this.db, this.index, op);
      this.journal.append(op);
      this.db.exec('COMMIT');
    } catch (e) {
      rollback(this.db);
      throw e;
    }
    this.seq = op.seq;
    for (const f of res.after) f();
    return res;
  }

  /**
   * Replays journal records in one transaction (a record that fails fails the open, so
   * per-record commits bought nothing). Index updates are incremental (a step record adds
   * that step's terms only), so they run record by record.
   */
  replay(ops: Op[]): StoreChange[] {
    const changes: StoreChange[] = [];
    if (ops.length === 0) return changes;
    let current: Op | undefined;
    this.db.exec('BEGIN');
    try {
      for (const op of ops) {
        current = op;
        const res = applyOp(this.db, this.index, op);
        this.seq = op.seq;
        for (const f of res.after) f();
        changes.push(...res.changes);
      }
      this.db.exec('COMMIT');
      return changes;
    } catch (e) {
      rollback(this.db);
      const at = current ? `${current.seq} (${current.t})` : '?';
      throw new MemoryError('corrupt', `Journal record ${at} could not be replayed: ${(e as Error).message}`, { cause: e });
    }
  }
}

function rollback(db: Database): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    /* already rolled back */
  }
}
