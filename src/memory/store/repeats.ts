/**
 * Repeats of a task (same repeat key, learning.ts) are all kept and counted; a query answer
 * folds them into the best-ranked one, which says how often the task was done, how often it
 * succeeded and when last, with the ids. Episodes merged by versions before schema 4 count
 * through their survivor's dup_count (they had the survivor's outcome).
 */
import type { Database } from 'sql.js';
import type { Repeats } from '../types';
import { all, num, placeholders, str } from './sql';

/** Extra ranked hits asked for beyond a page, so that folding still fills it. */
export function foldWindow(limit: number, offset: number): number {
  return offset + limit + Math.max(10, limit);
}

/** The ranked ids with each task's later repeats removed (first occurrence kept), then the page. */
export function foldRanked(db: Database, ranked: string[], offset: number, limit: number): string[] {
  if (ranked.length === 0) return [];
  const keyOf = new Map<string, string>();
  for (const r of all(db, `SELECT id, repeat_key FROM episodes WHERE id IN (${placeholders(ranked.length)}) AND repeat_key IS NOT NULL`, ranked)) {
    keyOf.set(str(r.id), str(r.repeat_key));
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const id of ranked) {
    const k = keyOf.get(id);
    if (k !== undefined) {
      if (seen.has(k)) continue;
      seen.add(k);
    }
    out.push(id);
  }
  return out.slice(offset, offset + limit);
}

/** Repeats of the given episodes' tasks, for those done more than once. */
export function repeatsOf(db: Database, ids: string[], maxIds = 10): Map<string, Repeats> {
  const out = new Map<string, Repeats>();
  if (ids.length === 0) return out;
  const keyRows = all(db, `SELECT id, repeat_key FROM episodes WHERE id IN (${placeholders(ids.length)}) AND repeat_key IS NOT NULL`, ids);
  const keys = [...new Set(keyRows.map((r) => str(r.repeat_key)))];
  if (keys.length === 0) return out;
  const ph = placeholders(keys.length);
  const stats = new Map<string, Repeats>();
  for (const r of all(
    db,
    `SELECT repeat_key AS k, COUNT(*) + SUM(dup_count) AS n, SUM(CASE WHEN outcome_type = 'success' THEN 1 + dup_count ELSE 0 END) AS s,
            MAX(COALESCE(ended_at, started_at)) AS last
       FROM episodes WHERE repeat_key IN (${ph}) GROUP BY repeat_key`,
    keys,
  )) {
    if (num(r.n) > 1) stats.set(str(r.k), { count: num(r.n), succeeded: num(r.s), lastAt: str(r.last), ids: [] });
  }
  if (stats.size === 0) return out;
  const many = [...stats.keys()];
  for (const r of all(
    db,
    `SELECT id, k FROM (SELECT id, repeat_key AS k, ROW_NUMBER() OVER (PARTITION BY repeat_key ORDER BY started_at DESC, id) AS rn
       FROM episodes WHERE repeat_key IN (${placeholders(many.length)})) WHERE rn <= ?`,
    [...many, maxIds],
  )) {
    stats.get(str(r.k))!.ids.push(str(r.id));
  }
  for (const r of keyRows) {
    const s = stats.get(str(r.repeat_key));
    if (s) out.set(str(r.id), s);
  }
  return out;
}

/** "seen 5×, 3 succeeded, last 2 days ago" (the ids are in the hit's `repeats`, not repeated here). */
export function repeatsLine(r: Repeats, now: number): string {
  const days = Math.round((now - Date.parse(r.lastAt)) / 86_400_000);
  const when = days < 1 ? 'today' : days === 1 ? '1 day ago' : `${days} days ago`;
  return `seen ${r.count}×, ${r.succeeded} succeeded, last ${when}`;
}
