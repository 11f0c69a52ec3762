/**
 * Pattern learning in the database: each completed episode adds one occurrence to every
 * pattern it exhibits (learning.ts extracts them), and deleting it takes that back exactly.
 * Reads: the strongest patterns (analyze) and patterns by kind (list).
 */
import type { Database, SqlValue } from 'sql.js';
import type { AnalyzeResult, Episode, Pattern, PatternKind, TaskType } from '../types';
import { PATTERN_KINDS } from '../types';
import { MemoryError } from '../errors';
import { extractPatterns, heuristicsFrom, isSuccess } from '../learning';
import type { PatternOccurrence } from '../learning';
import { rowToPattern } from './rows';
import type { Row } from './sql';
import { all, equalityFilters, num, one, str, withStatement } from './sql';

/** Episode ids kept as a pattern's evidence (most recent first). */
const EVIDENCE_MAX = 20;

interface PatternTotals {
  first: PatternOccurrence;
  taskType: TaskType;
  domain: string;
  n: number;
  successes: number;
  lat: number;
  latN: number;
  /** The newest episode ids, oldest first (trimmed to EVIDENCE_MAX now and then). */
  ids: string[];
}

/**
 * Pattern occurrences of completed episodes (in order), summed per key in memory, so that
 * each key is read and written once however many episodes had it: the same result as
 * adding the episodes' patterns one after another. An import tallies many batches before
 * it writes (writing is the costly part: a few thousand keys per 200 episodes).
 */
export class PatternTally {
  private readonly byKey = new Map<string, PatternTotals>();

  /** Keys tallied and not yet written. */
  get size(): number {
    return this.byKey.size;
  }

  add(ep: Episode): void {
    const success = isSuccess(ep.outcome) ? 1 : 0;
    for (const o of extractPatterns(ep)) {
      let a = this.byKey.get(o.key);
      if (!a) {
        a = { first: o, taskType: ep.taskType, domain: ep.domain, n: 0, successes: 0, lat: 0, latN: 0, ids: [] };
        this.byKey.set(o.key, a);
      }
      a.n++;
      a.successes += success;
      if (o.latencyMs !== undefined) {
        a.lat += o.latencyMs;
        a.latN++;
      }
      a.ids.push(ep.id);
      if (a.ids.length > 2 * EVIDENCE_MAX) a.ids.splice(0, a.ids.length - EVIDENCE_MAX);
    }
  }

  /** Writes (and forgets) up to `max` keys, in the order first seen; returns the keys written. */
  write(db: Database, max = Infinity): string[] {
    const written: string[] = [];
    const sel = db.prepare('SELECT evidence FROM patterns WHERE key = ?');
    const ins = db.prepare(
      'INSERT INTO patterns(key, kind, description, task_type, domain, occurrences, successes, latency_sum, latency_n, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const upd = db.prepare(
      'UPDATE patterns SET occurrences = occurrences + ?, successes = successes + ?, latency_sum = latency_sum + ?, latency_n = latency_n + ?, evidence = ? WHERE key = ?',
    );
    try {
      for (const [key, a] of this.byKey) {
        if (written.length >= max) break;
        sel.bind([key]);
        const found = sel.step() ? str(sel.get()[0]) : undefined;
        sel.reset();
        const newest: string[] = [];
        const seen = new Set<string>();
        for (let i = a.ids.length - 1; i >= 0 && newest.length < EVIDENCE_MAX; i--) {
          if (seen.has(a.ids[i])) continue;
          seen.add(a.ids[i]);
          newest.push(a.ids[i]);
        }
        if (found === undefined) {
          ins.run([key, a.first.kind, a.first.description, a.taskType, a.domain, a.n, a.successes, a.lat, a.latN, newest.join(' ')]);
        } else {
          const ev = [...newest, ...found.split(' ').filter((x) => x && !seen.has(x))].slice(0, EVIDENCE_MAX).join(' ');
          upd.run([a.n, a.successes, a.lat, a.latN, ev, key]);
        }
        written.push(key);
      }
    } finally {
      sel.free();
      ins.free();
      upd.free();
    }
    for (const key of written) this.byKey.delete(key);
    return written;
  }
}

/** Adds the patterns of completed episodes (in order); returns the keys touched, in the order first seen. */
export function addPatterns(db: Database, eps: Episode[]): string[] {
  if (eps.length === 0) return [];
  const tally = new PatternTally();
  for (const ep of eps) tally.add(ep);
  return tally.write(db);
}

/** Takes a deleted completed episode's occurrences back out of its patterns. */
export function removePatterns(db: Database, ep: Episode): void {
  const success = isSuccess(ep.outcome) ? 1 : 0;
  for (const o of extractPatterns(ep)) {
    const row = one(db, 'SELECT occurrences, evidence FROM patterns WHERE key = ?', [o.key]);
    if (!row) continue;
    if (num(row.occurrences) <= 1) {
      db.run('DELETE FROM patterns WHERE key = ?', [o.key]);
      continue;
    }
    const ev = str(row.evidence)
      .split(' ')
      .filter((x) => x && x !== ep.id)
      .join(' ');
    db.run(
      'UPDATE patterns SET occurrences = occurrences - 1, successes = MAX(0, successes - ?), latency_sum = latency_sum - ?, latency_n = MAX(0, latency_n - ?), evidence = ? WHERE key = ?',
      [success, o.latencyMs ?? 0, o.latencyMs === undefined ? 0 : 1, ev, o.key],
    );
  }
}

export function patternsByKeys(db: Database, keys: string[]): Pattern[] {
  return keys
    .map((k) => one(db, 'SELECT * FROM patterns WHERE key = ?', [k]))
    .filter((r): r is Row => !!r)
    .map(rowToPattern);
}

/** The patterns a completed episode counted towards (recomputed from the episode: exact, no scan). */
export function patternsOfEpisode(db: Database, ep: Episode | undefined): Pattern[] {
  if (!ep?.outcome) return [];
  return patternsByKeys(db, extractPatterns(ep).map((o) => o.key));
}

/** One pattern by its id (key). */
export function patternById(db: Database, id: string): Pattern | undefined {
  return patternsByKeys(db, [id])[0];
}

/** The patterns with the most evidence at or above a success rate, and the heuristics they support. */
export function strongestPatterns(db: Database, o: { taskType?: TaskType; domain?: string; minSuccessRate: number; limit: number }): AnalyzeResult {
  const filters = equalityFilters({ task_type: o.taskType, domain: o.domain });
  const where = ['CAST(successes AS REAL) / occurrences >= ? - 1e-9', ...filters.conditions];
  const params: SqlValue[] = [o.minSuccessRate, ...filters.params];
  // Walk the occurrences index from the top and stop once `limit` rows are collected and
  // the next row has less evidence (no full sort of a large pattern table); ties are
  // then ordered by success rate and key.
  const rows: Row[] = [];
  withStatement(db, `SELECT * FROM patterns INDEXED BY patterns_occ WHERE ${where.join(' AND ')} ORDER BY occurrences DESC`, (stmt) => {
    stmt.bind(params);
    while (stmt.step()) {
      const r = stmt.getAsObject();
      if (rows.length >= o.limit && num(r.occurrences) < num(rows[rows.length - 1].occurrences)) break;
      rows.push(r);
    }
  });
  const rate = (r: Row): number => num(r.successes) / Math.max(1, num(r.occurrences));
  rows.sort((a, b) => num(b.occurrences) - num(a.occurrences) || rate(b) - rate(a) || (str(a.key) < str(b.key) ? -1 : 1));
  rows.length = Math.min(rows.length, o.limit);
  const patterns = rows.map(rowToPattern);
  return { patterns, heuristics: heuristicsFrom(patterns) };
}

/** Patterns by occurrences, optionally of one kind. */
export function listPatternRows(db: Database, options: { kind?: PatternKind; limit?: number }): Pattern[] {
  if (options.kind !== undefined && !PATTERN_KINDS.includes(options.kind)) throw new MemoryError('invalid', `Unknown pattern kind "${String(options.kind)}"`);
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new MemoryError('invalid', 'limit must be an integer from 1 to 1000');
  const rows = options.kind
    ? all(db, 'SELECT * FROM patterns WHERE kind = ? ORDER BY occurrences DESC, key LIMIT ?', [options.kind, limit])
    : all(db, 'SELECT * FROM patterns ORDER BY occurrences DESC, key LIMIT ?', [limit]);
  return rows.map(rowToPattern);
}
