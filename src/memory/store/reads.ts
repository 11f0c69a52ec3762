/** Store-wide reads answered from the database: the episode list and the counts of `stats`. */
import type { Database } from 'sql.js';
import type { EpisodeSummary, StoreStats } from '../types';
import { rowToSummary, SUMMARY_COLS } from './rows';
import { all, equalityFilters, num, one, str } from './sql';

export function listSummaries(db: Database, o: { domain?: string; taskType?: string; outcome?: string; limit: number; offset: number }): { episodes: EpisodeSummary[]; total: number } {
  const { conditions: where, params } = equalityFilters({ domain: o.domain, task_type: o.taskType, outcome_type: o.outcome });
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = num(one(db, `SELECT COUNT(*) AS n FROM episodes ${w}`, params)?.n);
  const rows = all(db, `SELECT ${SUMMARY_COLS} FROM episodes ${w} ORDER BY started_at DESC, id LIMIT ? OFFSET ?`, [...params, o.limit, o.offset]);
  return { episodes: rows.map(rowToSummary), total };
}

/** The database's part of StoreStats (the store adds its files' and index's). */
export function databaseCounts(db: Database): Pick<StoreStats, 'episodes' | 'completedEpisodes' | 'steps' | 'patterns' | 'byDomain' | 'byOutcome' | 'databaseBytes'> {
  const c = one(db, 'SELECT COUNT(*) AS n, COUNT(outcome_type) AS done, COALESCE(SUM(step_count), 0) AS steps, (SELECT COUNT(*) FROM patterns) AS patterns FROM episodes')!;
  const byDomain: Record<string, number> = {};
  for (const r of all(db, 'SELECT domain, COUNT(*) AS n FROM episodes GROUP BY domain')) byDomain[str(r.domain)] = num(r.n);
  const byOutcome: Record<string, number> = {};
  for (const r of all(db, "SELECT COALESCE(outcome_type, 'in_progress') AS o, COUNT(*) AS n FROM episodes GROUP BY o")) byOutcome[str(r.o)] = num(r.n);
  const pageCount = num(db.exec('PRAGMA page_count')[0]?.values[0][0]);
  const pageSize = num(db.exec('PRAGMA page_size')[0]?.values[0][0]);
  return { episodes: num(c.n), completedEpisodes: num(c.done), steps: num(c.steps), patterns: num(c.patterns), byDomain, byOutcome, databaseBytes: pageCount * pageSize };
}
