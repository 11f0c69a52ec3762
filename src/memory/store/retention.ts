/**
 * Retention: episodes older than maxAgeDays go; then, above maxEpisodes, the
 * least useful go first, usefulness = 0.6 × reward + 0.4 × 0.5^(age days / 30)
 * (in-progress episodes count reward 0; ones started in the last day are kept).
 * The store journals the chosen ids, so replay does not depend on the clock.
 */
import type { Database } from 'sql.js';
import type { RetentionPolicy } from '../types';
import { all, str } from './sql';

const DAY_MS = 86_400_000;

/** Ids of the episodes the policy removes now (empty when within the policy). */
export function retentionVictims(db: Database, policy: RetentionPolicy, episodeCount: number, nowMs: number): string[] {
  const { maxEpisodes, maxAgeDays } = policy;
  const victims = new Set<string>();
  if (maxAgeDays !== undefined) {
    const cutoff = new Date(nowMs - maxAgeDays * DAY_MS).toISOString();
    for (const r of all(db, 'SELECT id FROM episodes WHERE started_at < ?', [cutoff])) victims.add(str(r.id));
  }
  if (maxEpisodes !== undefined) {
    const excess = episodeCount - victims.size - maxEpisodes;
    if (excess > 0) {
      const recent = new Date(nowMs - DAY_MS).toISOString();
      const nowJd = nowMs / DAY_MS + 2440587.5;
      const rows = all(
        db,
        `SELECT id FROM episodes WHERE NOT (outcome_type IS NULL AND started_at >= ?)
         ORDER BY (0.6 * COALESCE(reward, 0) + 0.4 * pow(0.5, (? - julianday(started_at)) / 30.0)) ASC, started_at ASC, id
         LIMIT ?`,
        [recent, nowJd, excess + victims.size],
      );
      let n = 0;
      for (const r of rows) {
        if (n >= excess) break;
        const id = str(r.id);
        if (victims.has(id)) continue;
        victims.add(id);
        n++;
      }
    }
  }
  return [...victims];
}
