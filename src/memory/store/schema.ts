/** sql.js loading (once per process), schema and migrations. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic } from 'sql.js';
import { MemoryError } from '../errors';
import { repeatKey } from '../learning';
import type { TaskType } from '../types';
import { packJson, parseJson } from './codec';
import { loadSteps, packSteps, STEP_BLOCK } from './steps';

const sqlJsCache = new Map<string, Promise<SqlJsStatic>>();

/** Default location of `sql-wasm.wasm`: next to the bundle (dist/), else in node_modules. */
export function defaultWasmPath(): string {
  const local = path.join(__dirname, 'sql-wasm.wasm');
  if (fs.existsSync(local)) return local;
  return require.resolve('sql.js/dist/sql-wasm.wasm');
}

/** Loads sql.js once per process (per wasm file). */
export function loadSqlJs(wasmPath = defaultWasmPath()): Promise<SqlJsStatic> {
  let p = sqlJsCache.get(wasmPath);
  if (!p) {
    p = (async () => {
      let wasmBinary: Buffer;
      try {
        wasmBinary = await fs.promises.readFile(wasmPath);
      } catch (e) {
        throw new MemoryError('invalid', `Cannot read the sql.js WebAssembly file at ${wasmPath}: ${(e as Error).message}`);
      }
      const ab = wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength) as ArrayBuffer;
      return initSqlJs({ wasmBinary: ab });
    })();
    sqlJsCache.set(wasmPath, p);
    p.catch(() => sqlJsCache.delete(wasmPath));
  }
  return p;
}

export const SCHEMA_VERSION = 6;

/** Page size of new databases. */
const PAGE_SIZE = 16384;

/** Migrations: index i upgrades from version i to i + 1. Never edit a shipped one; append. */
const MIGRATIONS: ((db: Database) => void)[] = [
  (db) =>
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE episodes (
        id TEXT PRIMARY KEY,
        task TEXT NOT NULL,
        domain TEXT NOT NULL,
        task_type TEXT NOT NULL,
        context TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        steps TEXT NOT NULL,
        step_count INTEGER NOT NULL,
        tools TEXT NOT NULL,
        outcome TEXT,
        outcome_type TEXT,
        reward REAL,
        reflection TEXT,
        gist TEXT,
        dedupe_key TEXT,
        dup_count INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX episodes_started ON episodes(started_at);
      CREATE INDEX episodes_dedupe ON episodes(dedupe_key);
      CREATE TABLE patterns (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        description TEXT NOT NULL,
        task_type TEXT NOT NULL,
        domain TEXT NOT NULL,
        occurrences INTEGER NOT NULL,
        successes INTEGER NOT NULL,
        latency_sum REAL NOT NULL DEFAULT 0,
        latency_n INTEGER NOT NULL DEFAULT 0,
        evidence TEXT NOT NULL
      );
      CREATE INDEX patterns_occ ON patterns(occurrences);
      CREATE TABLE tool_usage (tool TEXT PRIMARY KEY, count INTEGER NOT NULL);
    `),
  // 2: the steps and reflection columns may hold compressed BLOBs (see packJson in store.ts);
  // no data change, the version only stops an older extension from misreading them.
  () => undefined,
  // 3: steps get rows of their own, so adding one appends a row instead of rewriting the
  // episode's whole step list (and a long episode's steps can be read a page at a time).
  // The episodes.steps column stays (NOT NULL, '[]') for the schema's sake.
  (db) => {
    db.exec(`CREATE TABLE steps (episode_id TEXT NOT NULL, n INTEGER NOT NULL, data NOT NULL, PRIMARY KEY (episode_id, n)) WITHOUT ROWID`);
    const read = db.prepare("SELECT id, steps FROM episodes WHERE step_count > 0");
    const insert = db.prepare('INSERT INTO steps(episode_id, n, data) VALUES (?, ?, ?)');
    try {
      while (read.step()) {
        const [id, steps] = read.get();
        parseJson<{ n: number }[]>(steps).forEach((s, i) => insert.run([id, i + 1, packJson({ ...s, n: i + 1 })]));
      }
    } finally {
      read.free();
      insert.free();
    }
    db.exec("UPDATE episodes SET steps = '[]'");
  },
  // 4: completions no longer merge near-duplicates (every repeat is evidence); the merge key
  // becomes the key of a task's repeats (learning.ts repeatKey), which query answers fold by.
  // dup_count stays: repeats merged away by earlier versions, still counted when folding.
  (db) => {
    db.exec('DROP INDEX IF EXISTS episodes_dedupe; ALTER TABLE episodes RENAME COLUMN dedupe_key TO repeat_key; UPDATE episodes SET repeat_key = NULL;');
    const upd = db.prepare('UPDATE episodes SET repeat_key = ? WHERE id = ?');
    const sel = db.prepare('SELECT id, task, domain, task_type FROM episodes WHERE outcome_type IS NOT NULL');
    try {
      while (sel.step()) {
        const [id, task, domain, taskType] = sel.get() as string[];
        upd.run([repeatKey({ task, domain, taskType: taskType as TaskType }), id]);
      }
    } finally {
      sel.free();
      upd.free();
    }
    db.exec('CREATE INDEX episodes_repeat ON episodes(repeat_key)');
  },
  // 5: a step row may hold a block of steps (a JSON array keyed by its last step's number, see
  // steps.ts); episodes stored a row per step are packed into blocks.
  (db) => {
    const ids = db.exec(`SELECT episode_id FROM steps GROUP BY episode_id HAVING COUNT(*) > (MAX(n) + ${STEP_BLOCK - 1}) / ${STEP_BLOCK}`);
    for (const [id] of ids[0]?.values ?? []) packSteps(db, String(id), loadSteps(db, String(id)));
  },
  // 6: the views' aggregates are kept on write (aggregates.ts): episode counts, rewards and steps
  // per day, domain, task type and outcome, maintained by triggers (so replay, import, delete and
  // retention all keep them), and an index on an episode's time for the range and `since`.
  (db) => db.exec(DAILY_SCHEMA),
];

/** The day an episode counts in: its end, or its start while in progress. */
export const EPISODE_AT = 'COALESCE(ended_at, started_at)';

const dailyKey = (row: 'NEW' | 'OLD'): string =>
  `day = substr(COALESCE(${row}.ended_at, ${row}.started_at), 1, 10) AND domain = ${row}.domain AND task_type = ${row}.task_type AND outcome = COALESCE(${row}.outcome_type, '')`;
const dailyAdd = `
  INSERT INTO episode_daily(day, domain, task_type, outcome, n, reward_sum, reward_n, steps)
  VALUES (substr(COALESCE(NEW.ended_at, NEW.started_at), 1, 10), NEW.domain, NEW.task_type, COALESCE(NEW.outcome_type, ''), 1, COALESCE(NEW.reward, 0), NEW.reward IS NOT NULL, NEW.step_count)
  ON CONFLICT DO UPDATE SET n = n + 1, reward_sum = reward_sum + excluded.reward_sum, reward_n = reward_n + excluded.reward_n, steps = steps + excluded.steps;`;
const dailyRemove = `
  UPDATE episode_daily SET n = n - 1, reward_sum = reward_sum - COALESCE(OLD.reward, 0), reward_n = reward_n - (OLD.reward IS NOT NULL), steps = steps - OLD.step_count WHERE ${dailyKey('OLD')};
  DELETE FROM episode_daily WHERE ${dailyKey('OLD')} AND n <= 0;`;

// Idempotent (dropped first): a database marked older than it is gets the same result.
const DAILY_SCHEMA = `
  DROP TRIGGER IF EXISTS episode_daily_insert; DROP TRIGGER IF EXISTS episode_daily_delete; DROP TRIGGER IF EXISTS episode_daily_update;
  DROP TABLE IF EXISTS episode_daily; DROP INDEX IF EXISTS episodes_at; DROP INDEX IF EXISTS patterns_top;
  CREATE TABLE episode_daily (
    day TEXT NOT NULL,
    domain TEXT NOT NULL,
    task_type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    n INTEGER NOT NULL,
    reward_sum REAL NOT NULL,
    reward_n INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    PRIMARY KEY (day, domain, task_type, outcome)
  ) WITHOUT ROWID;
  INSERT INTO episode_daily
    SELECT substr(${EPISODE_AT}, 1, 10), domain, task_type, COALESCE(outcome_type, ''), COUNT(*), COALESCE(SUM(reward), 0), COUNT(reward), SUM(step_count)
      FROM episodes GROUP BY 1, 2, 3, 4;
  CREATE TRIGGER episode_daily_insert AFTER INSERT ON episodes BEGIN ${dailyAdd} END;
  CREATE TRIGGER episode_daily_delete AFTER DELETE ON episodes BEGIN ${dailyRemove} END;
  CREATE TRIGGER episode_daily_update AFTER UPDATE OF started_at, ended_at, domain, task_type, outcome_type, reward, step_count ON episodes BEGIN ${dailyRemove} ${dailyAdd} END;
  CREATE INDEX episodes_at ON episodes(${EPISODE_AT});
  CREATE INDEX patterns_top ON patterns(occurrences DESC, successes DESC, key);
`;

export function getMeta(db: Database, key: string): string | undefined {
  const r = db.exec('SELECT value FROM meta WHERE key = ?', [key]);
  return r.length ? String(r[0].values[0][0]) : undefined;
}

export function setMeta(db: Database, key: string, value: string): void {
  db.run('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, value]);
}

/** Creates or upgrades the schema. Returns the version found before migrating (0 = new). */
export function migrate(db: Database): number {
  // A new database gets 16 KB pages: episode rows (~1–2 KB) in 4 KB pages left much of each
  // page empty, and export() copies the file page by page (fewer, larger copies). 64 KB pages
  // were hardly smaller and made row updates slower (SQLite rewrites within a page).
  // Only effective before the first table is created; existing databases keep their size.
  if (Number(db.exec('PRAGMA page_count')[0]?.values[0][0] ?? 0) === 0) db.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const from = Number(getMeta(db, 'schema_version') ?? '0');
  if (!Number.isInteger(from) || from < 0) throw new MemoryError('corrupt', `Unreadable schema version "${String(from)}" in the memory database.`);
  if (from > SCHEMA_VERSION) {
    throw new MemoryError('corrupt', `The memory database has schema version ${from}, newer than this version supports (${SCHEMA_VERSION}); update the extension.`);
  }
  for (let v = from; v < SCHEMA_VERSION; v++) {
    db.exec('BEGIN');
    try {
      MIGRATIONS[v](db);
      setMeta(db, 'schema_version', String(v + 1));
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  }
  return from;
}

/** Per-connection settings (lost when sql.js reopens the database during export()). */
export function configure(db: Database): void {
  // cache_size: the default 2 MB holds only 128 pages of 16 KB; every miss copies a page out of
  // the in-memory file, so random pattern updates thrashed. 32 MB (a bound, not preallocated).
  db.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF; PRAGMA cache_size = -32768;');
}
