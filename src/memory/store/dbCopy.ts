/**
 * A copy of the live database taken in slices, for a snapshot that never stops reads:
 * SQLite's online backup API copies a few pages per step into a second in-memory
 * database, and the caller answers other calls between steps. A write made meanwhile
 * (through the same connection) is applied to the copy too, so when the last step
 * finishes the copy is the database as it is at that moment: `atDone` runs then, in the
 * same tick, to note what else the snapshot covers.
 *
 * The copy's file lives in a buffer we own (adopted like the snapshot's database, see
 * open.ts), so its bytes are used as they are: no export() (one long backup in one go)
 * and no copy out of sql.js's file system.
 */
import type { Database, SqlJsStatic } from 'sql.js';
import { MemoryError } from '../errors';
import { adopt } from './open';

const SQLITE_OK = 0;
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_DONE = 101;
/** Pages per backup step (16 KB pages: 1 MB, well under a millisecond). */
const PAGES_PER_STEP = 64;
/** Room for writes made while the copy runs (beyond that the copy falls back to export()). */
const GROWTH_SLACK = 16 * 1024 * 1024;

interface BackupApi {
  init(dest: number, destName: string, src: number, srcName: string): number;
  step(backup: number, pages: number): number;
  finish(backup: number): number;
  errmsg(db: number): string;
}

const apis = new WeakMap<SqlJsStatic, BackupApi>();

/** sql.js exports the backup functions but wraps none of them: cwrap them once per module. */
function backupApi(SQL: SqlJsStatic): BackupApi {
  let api = apis.get(SQL);
  if (!api) {
    const m = SQL as unknown as { cwrap(name: string, ret: string | null, args: string[]): (...a: unknown[]) => unknown };
    if (typeof m.cwrap !== 'function') throw new MemoryError('unavailable', 'This sql.js build does not export cwrap (needed for snapshots in slices)');
    api = {
      init: m.cwrap('sqlite3_backup_init', 'number', ['number', 'string', 'number', 'string']) as BackupApi['init'],
      step: m.cwrap('sqlite3_backup_step', 'number', ['number', 'number']) as BackupApi['step'],
      finish: m.cwrap('sqlite3_backup_finish', 'number', ['number']) as BackupApi['finish'],
      errmsg: m.cwrap('sqlite3_errmsg', 'string', ['number']) as BackupApi['errmsg'],
    };
    apis.set(SQL, api);
  }
  return api;
}

/** sql.js keeps the connection pointer in `db` (not in its types). */
function handle(db: Database): number {
  const h = (db as unknown as { db?: number }).db;
  if (typeof h !== 'number' || h === 0) throw new MemoryError('closed', 'The database is closed');
  return h;
}

function pragmaNumber(db: Database, pragma: string): number {
  return Number(db.exec(`PRAGMA ${pragma}`)[0]?.values[0]?.[0] ?? 0);
}

/** An empty database file with the given page size: what the copy's file starts from. */
function seedImage(SQL: SqlJsStatic, pageSize: number): Uint8Array {
  const seed = new SQL.Database();
  try {
    seed.exec(`PRAGMA page_size = ${pageSize}; CREATE TABLE seed (x); DROP TABLE seed;`);
    return seed.export();
  } finally {
    seed.close();
  }
}

/**
 * Copies `db` in slices: `pause()` is awaited between steps (the caller's time budget),
 * `atDone()` runs in the tick the copy completes. Returns the copy's bytes (a database file).
 */
export async function copyDatabase(SQL: SqlJsStatic, db: Database, pause: () => Promise<void>, atDone: () => void): Promise<Uint8Array> {
  const api = backupApi(SQL);
  const pageSize = pragmaNumber(db, 'page_size');
  const capacity = pageSize * pragmaNumber(db, 'page_count') + Math.max(GROWTH_SLACK, pageSize * pragmaNumber(db, 'page_count') * 0.25);
  const seed = seedImage(SQL, pageSize);
  const file = new Uint8Array(new ArrayBuffer(Math.ceil(capacity / pageSize) * pageSize + seed.length)); // untouched pages cost nothing
  file.set(seed);
  const copy = new SQL.Database(adopt(file.subarray(0, seed.length), file.length));
  let backup = 0;
  try {
    copy.exec('PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;');
    backup = api.init(handle(copy), 'main', handle(db), 'main');
    if (backup === 0) throw new Error(api.errmsg(handle(copy)));
    for (;;) {
      const rc = api.step(backup, PAGES_PER_STEP);
      if (rc === SQLITE_DONE) break;
      if (rc !== SQLITE_OK && rc !== SQLITE_BUSY && rc !== SQLITE_LOCKED) throw new Error(api.errmsg(handle(copy)));
      await pause();
      handle(db); // closed meanwhile: stop
    }
    atDone();
    const rc = api.finish(backup);
    backup = 0;
    if (rc !== SQLITE_OK) throw new Error(api.errmsg(handle(copy)));
    const size = pageSize * pragmaNumber(copy, 'page_count');
    // The copy's pages are in `file` unless sql.js moved the file (it outgrew the buffer): then export it.
    if (size <= file.length && pagesOf(file) * pageSize === size) return file.subarray(0, size);
    return copy.export();
  } catch (e) {
    if (e instanceof MemoryError) throw e;
    throw new MemoryError('unavailable', `Copying the database for a snapshot failed: ${(e as Error).message}`, { cause: e });
  } finally {
    if (backup !== 0) api.finish(backup);
    copy.close();
  }
}

/** The page count in a database file's header (bytes 28..31, big-endian). */
function pagesOf(file: Uint8Array): number {
  return ((file[28] << 24) | (file[29] << 16) | (file[30] << 8) | file[31]) >>> 0;
}
