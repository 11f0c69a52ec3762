/**
 * Steps live in rows of their own (episode_id, n): adding one is an INSERT whatever the
 * episode's length, and a long episode is read a page at a time.
 *
 * A row holds either one step (a JSON object: what add_step appends) or a block of
 * consecutive steps (a JSON array: what an import writes and what completing an episode
 * packs its steps into), keyed by the number of its last step. Reading 1,000 steps is
 * then ten decompressions instead of a thousand (each one costs about 8 µs however small
 * the row), and a block compresses several times better than its steps one by one.
 */
import type { Database, Statement } from 'sql.js';
import type { Step } from '../types';
import { jsonText, packJson } from './codec';
import { num, one, withStatement } from './sql';

/** Steps per block row. */
export const STEP_BLOCK = 100;

/** Steps n in (offset, offset + limit] of an episode, in order (limit < 0: all of them). */
export function loadSteps(db: Database, episodeId: string, offset = 0, limit = -1): Step[] {
  // A row's n is its last step's number, so the first row with n > offset holds step offset + 1.
  return withStatement(db, 'SELECT data FROM steps WHERE episode_id = ? AND n > ? ORDER BY n', (stmt) => {
    stmt.bind([episodeId, offset]);
    const out: Step[] = [];
    while ((limit < 0 || out.length < limit) && stmt.step()) {
      const value = JSON.parse(jsonText(stmt.get()[0])) as Step | Step[];
      for (const s of Array.isArray(value) ? value : [value]) {
        if (s.n > offset && (limit < 0 || out.length < limit)) out.push(s);
      }
    }
    return out;
  });
}

export const STEP_INSERT = 'INSERT INTO steps(episode_id, n, data) VALUES (?, ?, ?)';

/** Writes `steps` (consecutive, in order) as block rows. */
export function insertSteps(db: Database, episodeId: string, steps: readonly Step[]): void {
  if (steps.length === 0) return;
  withStatement(db, STEP_INSERT, (stmt) => insertStepsWith(stmt, episodeId, steps));
}

/** insertSteps with STEP_INSERT already prepared (an import reuses one for all its episodes). */
export function insertStepsWith(stmt: Statement, episodeId: string, steps: readonly Step[]): void {
  for (let i = 0; i < steps.length; i += STEP_BLOCK) {
    const block = steps.slice(i, i + STEP_BLOCK);
    stmt.run([episodeId, block[block.length - 1].n, packJson(block.length === 1 ? block[0] : block)]);
  }
}

/** Appends one step as a row of its own. */
export function appendStep(db: Database, episodeId: string, step: Step): void {
  db.run('INSERT INTO steps(episode_id, n, data) VALUES (?, ?, ?)', [episodeId, step.n, packJson(step)]);
}

/** Rewrites an episode's step rows as blocks if appending left more rows than blocks; `steps` are all its steps. */
export function packSteps(db: Database, episodeId: string, steps: readonly Step[]): void {
  const rows = num(one(db, 'SELECT COUNT(*) AS c FROM steps WHERE episode_id = ?', [episodeId])?.c);
  if (rows <= Math.ceil(steps.length / STEP_BLOCK)) return;
  deleteSteps(db, episodeId);
  insertSteps(db, episodeId, steps);
}

export function deleteSteps(db: Database, episodeId: string): void {
  db.run('DELETE FROM steps WHERE episode_id = ?', [episodeId]);
}
