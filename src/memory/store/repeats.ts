/**
 * Repeats of a task (same repeat key, learning.ts) are all kept and counted; a query answer
 * folds them into the best-ranked one, which says how often the task was done, how often it
 * succeeded and when last, with the ids. Episodes merged by versions before schema 4 count
 * through their survivor's dup_count (they had the survivor's outcome).
 */
import type { Database } from 'sql.js';
import type { Repeats } from '../types';
import { allPrepared, num, placeholders, str } from './sql';

/** Extra ranked hits asked for beyond a page, so that folding still fills it. */
export function foldWindow(limit: number, offset: number): number {
  return offset + limit + Math.max(10, limit);
}

/**
 * The ranked hits with each task's later repeats removed (first occurrence kept), then the
 * page. `keyOf` holds the ranked episodes' repeat keys (read with their summaries, see
 * retrieval.ts): the same rows serve the folding, the summaries and `repeatsOf`.
 */
export function foldRanked<T extends { id: string }>(ranked: T[], keyOf: ReadonlyMap<string, string>, offset: number, limit: number): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const h of ranked) {
    const k = keyOf.get(h.id);
    if (k !== undefined) {
      if (seen.has(k)) continue;
      seen.add(k);
    }
    out.push(h);
  }
  return out.slice(offset, offset + limit);
}

/**
 * Repeats of the given episodes' tasks (their repeat keys in `keyOf`), for those done more
 * than once: one statement, the counts as window aggregates over each key's episodes and
 * the `maxIds` most recent ids.
 */
export function repeatsOf(db: Database, ids: string[], keyOf: ReadonlyMap<string, string>, maxIds = 10): Map<string, Repeats> {
  const out = new Map<string, Repeats>();
  const keys = [...new Set(ids.map((id) => keyOf.get(id)).filter((k) => k !== undefined))];
  if (keys.length === 0) return out;
  const stats = new Map<string, Repeats>();
  for (const r of allPrepared(
    db,
    `SELECT id, k, n, s, last FROM (
       SELECT id, repeat_key AS k,
              ROW_NUMBER() OVER (PARTITION BY repeat_key ORDER BY started_at DESC, id) AS rn,
              SUM(1 + dup_count) OVER (PARTITION BY repeat_key) AS n,
              SUM(CASE WHEN outcome_type = 'success' THEN 1 + dup_count ELSE 0 END) OVER (PARTITION BY repeat_key) AS s,
              MAX(COALESCE(ended_at, started_at)) OVER (PARTITION BY repeat_key) AS last
         FROM episodes WHERE repeat_key IN (${placeholders(keys.length)}))
      WHERE rn <= ? AND n > 1 ORDER BY k, rn`,
    [...keys, maxIds],
  )) {
    const k = str(r.k);
    let s = stats.get(k);
    if (!s) stats.set(k, (s = { count: num(r.n), succeeded: num(r.s), lastAt: str(r.last), ids: [] }));
    s.ids.push(str(r.id));
  }
  for (const id of ids) {
    const k = keyOf.get(id);
    const s = k === undefined ? undefined : stats.get(k);
    if (s) out.set(id, s);
  }
  return out;
}

/** "seen 5×, 3 succeeded, last 2 days ago" (the ids are in the hit's `repeats`, not repeated here). */
export function repeatsLine(r: Repeats, now: number): string {
  const days = Math.round((now - Date.parse(r.lastAt)) / 86_400_000);
  const when = days < 1 ? 'today' : days === 1 ? '1 day ago' : `${days} days ago`;
  return `seen ${r.count}×, ${r.succeeded} succeeded, last ${when}`;
}
