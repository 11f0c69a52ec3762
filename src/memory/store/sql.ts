/** Small helpers over a sql.js database: rows as objects, typed column reads. */
import type { Database, SqlValue, Statement } from 'sql.js';

export type Row = Record<string, SqlValue>;

export function all(db: Database, sql: string, params: SqlValue[] = []): Row[] {
  const stmt = db.prepare(sql);
  try {
    return rowsOf(stmt, params);
  } finally {
    stmt.free();
  }
}

/** Binds `params` and reads every row of `stmt`. */
function rowsOf(stmt: Statement, params: SqlValue[]): Row[] {
  stmt.bind(params);
  const rows: Row[] = [];
  while (stmt.step()) rows.push(stmt.getAsObject());
  return rows;
}

/** Statements kept prepared per database by `allPrepared` (their SQL differs only by placeholder count). */
const STATEMENTS_KEPT = 64;
const prepared = new WeakMap<Database, Map<string, Statement>>();

/**
 * `all` for the statements every query runs: the statement stays prepared (the least
 * recently used freed past STATEMENTS_KEPT), since preparing costs about as much as running
 * these small reads. Reset after each use, so it holds no read open between calls; closing
 * the database frees it.
 */
export function allPrepared(db: Database, sql: string, params: SqlValue[] = []): Row[] {
  let kept = prepared.get(db);
  if (!kept) prepared.set(db, (kept = new Map<string, Statement>()));
  let stmt = kept.get(sql);
  if (stmt) kept.delete(sql);
  else stmt = db.prepare(sql);
  kept.set(sql, stmt);
  if (kept.size > STATEMENTS_KEPT) {
    const [oldest, s] = kept.entries().next().value!;
    kept.delete(oldest);
    s.free();
  }
  try {
    return rowsOf(stmt, params);
  } finally {
    stmt.reset();
  }
}

export function one(db: Database, sql: string, params: SqlValue[] = []): Row | undefined {
  return all(db, sql, params)[0];
}

/**
 * `column = ?` conditions for the filters that are set, with their parameters, in the order given;
 * unset (undefined) filters add nothing.
 */
export function equalityFilters(filters: Record<string, SqlValue | undefined>): { conditions: string[]; params: SqlValue[] } {
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  for (const [column, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    conditions.push(`${column} = ?`);
    params.push(value);
  }
  return { conditions, params };
}

/** Runs `fn` with a prepared statement, freeing it afterwards. */
export function withStatement<T>(db: Database, sql: string, fn: (stmt: ReturnType<Database['prepare']>) => T): T {
  const stmt = db.prepare(sql);
  try {
    return fn(stmt);
  } finally {
    stmt.free();
  }
}

export function str(v: SqlValue | undefined): string {
  return v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v);
}
export function optStr(v: SqlValue | undefined): string | undefined {
  return v === null || v === undefined ? undefined : str(v);
}
export function num(v: SqlValue | undefined): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}
/** A `WHERE id IN (…)` placeholder list for `n` values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(',');
}
