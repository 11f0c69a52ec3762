/**
 * Replacing an open store's database and index with what its files hold: the snapshot,
 * then the journal records after it (every acknowledged write). A read-only view does it
 * when the writer's journal cut passed it by (liveView.ts); the writer does it when the
 * snapshot saving a file import failed, to drop the import it could not save (importGate.ts).
 */
import type { Logger } from '../../common/logger';
import type { OpenOptions } from '../types';
import { openDatabase, openIndex, opsAfter, readConsistent } from './open';
import { loadSqlJs } from './schema';
import type { StoreState } from './state';

export interface ReloadHooks {
  /** Asked once the files are read: false abandons the reload (the store was closed meanwhile). */
  stillWanted?: () => boolean;
  /** Told what the snapshot on disk covers, before the journal records after it are replayed. */
  onSnapshot?: (snapshotSeq: number, snapshotBytes: number) => void;
}

/** Resolves true once `state` holds the files' current state; false when abandoned (hooks.stillWanted). */
export async function reloadFromFiles(
  dir: string,
  state: StoreState,
  options: Pick<OpenOptions, 'wasmPath' | 'retrieval'>,
  readOnly: boolean,
  logger: Logger,
  hooks: ReloadHooks = {},
): Promise<boolean> {
  const SQL = await loadSqlJs(options.wasmPath);
  const { snap, journal } = await readConsistent(dir, readOnly, logger);
  if (hooks.stillWanted && !hooks.stillWanted()) return false;
  const db = openDatabase(SQL, snap, dir, logger);
  const index = openIndex(db, snap, logger, options.retrieval);
  const old = state.db;
  state.db = db;
  state.index = index;
  state.seq = snap?.seq ?? 0;
  hooks.onSnapshot?.(state.seq, snap?.bytes ?? 0);
  state.replay(opsAfter(journal, state.seq, dir));
  old.close();
  return true;
}
