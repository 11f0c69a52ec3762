/**
 * Steps live in rows of their own (episode_id, n): adding one is an INSERT whatever the
 * episode's length, and a long episode is read a page at a time.
 */
import type { Database } from 'sql.js';
import type { Step } from '../types';
import { packJson, parseJson } from './codec';
import { withStatement } from './sql';

/** Steps n in (offset, offset + limit] of an episode, in order. */
export function loadSteps(db: Database, episodeId: string, offset = 0, limit = -1): Step[] {
  return withStatement(db, 'SELECT data FROM steps WHERE episode_id = ? AND n > ? ORDER BY n LIMIT ?', (stmt) => {
    stmt.bind([episodeId, offset, limit]);
    const out: Step[] = [];
    while (stmt.step()) out.push(parseJson<Step>(stmt.get()[0]));
    return out;
  });
}

export function insertSteps(db: Database, episodeId: string, steps: Step[]): void {
  if (steps.length === 0) return;
  withStatement(db, 'INSERT INTO steps(episode_id, n, data) VALUES (?, ?, ?)', (stmt) => {
    for (const s of steps) stmt.run([episodeId, s.n, packJson(s)]);
  });
}

export function deleteSteps(db: Database, episodeId: string): void {
  db.run('DELETE FROM steps WHERE episode_id = ?', [episodeId]);
}
