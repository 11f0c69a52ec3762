/**
 * Following another process's writes (a store opened read-only beside the writer: a
 * second VS Code window on the workspace, the standalone server beside the extension).
 * Each poll reads the journal records appended since the last one; when the writer has
 * taken a snapshot and cut the journal past what this reader has applied, the reader
 * must reload from the snapshot instead.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJournalFrom, readSnapshotSeq } from '../files';
import { JOURNAL_FILE, SNAPSHOT_FILE } from './open';
import type { Op } from './operations';

/** How often a read-only store looks at the journal: new episodes show within 2 s. */
export const FOLLOW_INTERVAL_MS = 500;

export type FollowStep = { kind: 'none' } | { kind: 'ops'; ops: Op[] } | { kind: 'reload' };

export class JournalFollower {
  private ino = -1;
  private offset = 0;
  private readonly journalFile: string;
  private readonly snapshotFile: string;

  constructor(dir: string) {
    this.journalFile = path.join(dir, JOURNAL_FILE);
    this.snapshotFile = path.join(dir, SNAPSHOT_FILE);
  }

  /** Forget the position: the next poll reads the journal from its start (after a reload). */
  reset(): void {
    this.ino = -1;
    this.offset = 0;
  }

  /** What a reader that has applied every write up to `seq` must do to catch up. */
  poll(seq: number): FollowStep {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(this.journalFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const sameFile = st !== undefined && st.ino === this.ino && st.size >= this.offset;
    if (sameFile && st!.size === this.offset) return { kind: 'none' };
    const tail = readJournalFrom(this.journalFile, sameFile ? this.offset : 0);
    if (tail) {
      this.ino = tail.ino;
      this.offset = tail.end;
    }
    const ops = (tail?.entries ?? []).map((e) => e.payload as Op).filter((op) => typeof op?.seq === 'number' && op.seq > seq);
    const continues = ops.every((op, i) => op.seq === seq + 1 + i);
    if (!continues) return { kind: 'reload' };
    // A new journal file (cut after a snapshot): the snapshot, read after the journal (the
    // writer renames the snapshot first), may cover writes this reader has not seen.
    if (!sameFile && ops.length === 0 && (readSnapshotSeq(this.snapshotFile) ?? 0) > seq) return { kind: 'reload' };
    return ops.length > 0 ? { kind: 'ops', ops } : { kind: 'none' };
  }
}
