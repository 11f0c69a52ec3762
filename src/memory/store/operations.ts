/**
 * Journal operations: each write is one operation carrying every generated value and
 * decision (ids, timestamps, reward, reflection, retention choices), so
 * replaying the journal is deterministic. `applyOp` applies one to the database (inside
 * the caller's transaction) and returns the index updates to run after COMMIT.
 */
import type { Database } from 'sql.js';
import type { Episode, Outcome, Reflection, Step, StoreChange } from '../types';
import { MemoryError } from '../errors';
import { repeatKey } from '../learning';
import type { SearchIndex } from '../search';
import { packJson } from './codec';
import { addPatterns, PatternTally, removePatterns } from './patterns';
import { EPISODE_INSERT, episodeRow, gistOf, rowToEpisode } from './rows';
import { num, one, str, withStatement } from './sql';
import { appendStep, deleteSteps, insertSteps, insertStepsWith, loadSteps, packSteps, STEP_INSERT } from './steps';

export type NewEpisode = Pick<Episode, 'id' | 'task' | 'domain' | 'taskType' | 'context' | 'startedAt'>;

export type OpBody =
  | { t: 'create'; ep: NewEpisode }
  | { t: 'step'; id: string; step: Step }
  | {
      t: 'complete';
      id: string;
      endedAt: string;
      outcome: Outcome;
      reward: number;
      reflection: Reflection;
      /** Journals written before schema 4 only: their merge key (unused) and the episode this one was merged into. */
      dedupeKey?: string;
      dupOf?: string;
    }
  /** The task's alternative phrasings after the addition (all of them, so replay sets rather than appends). */
  | { t: 'phrase'; id: string; phrasings: string[] }
  | { t: 'delete'; ids: string[]; reason?: 'retention' }
  | { t: 'clear' }
  | { t: 'import'; episodes: Episode[] }
  | { t: 'tools'; counts: Record<string, number> };
export type Op = OpBody & { seq: number };

export interface Applied {
  /** Index updates, run after COMMIT. */
  after: (() => void)[];
  changes: StoreChange[];
  episode?: Episode;
  patternKeys?: string[];
}

export function loadEpisode(db: Database, id: string): Episode | undefined {
  const row = one(db, 'SELECT * FROM episodes WHERE id = ?', [id]);
  return row ? rowToEpisode(row, loadSteps(db, id)) : undefined;
}

/** An episode with steps n in (offset, offset + limit] only, and its step count. */
export function loadEpisodePage(db: Database, id: string, offset: number, limit: number): { episode: Episode; stepCount: number } | undefined {
  const row = one(db, 'SELECT * FROM episodes WHERE id = ?', [id]);
  return row ? { episode: rowToEpisode(row, loadSteps(db, id, offset, limit)), stepCount: num(row.step_count) } : undefined;
}

export function requireEpisode(db: Database, id: string): Episode {
  const e = loadEpisode(db, id);
  if (!e) throw new MemoryError('not_found', `No episode with id "${id}"`);
  return e;
}

function insertEpisode(db: Database, ep: Episode): void {
  db.run(EPISODE_INSERT, episodeRow(ep, ep.outcome ? repeatKey(ep) : null));
  insertSteps(db, ep.id, ep.steps);
}

/**
 * Inserts new episodes (an import's), with statements prepared once for all of them, and
 * tallies the completed ones' patterns into `patterns`: the caller writes those, and
 * indexes the episodes after COMMIT.
 */
export function insertEpisodes(db: Database, episodes: readonly Episode[], patterns: PatternTally): void {
  withStatement(db, 'SELECT 1 FROM episodes WHERE id = ?', (exists) =>
    withStatement(db, EPISODE_INSERT, (insertRow) =>
      withStatement(db, STEP_INSERT, (insertStep) => {
        for (const ep of episodes) {
          exists.bind([ep.id]);
          const found = exists.step();
          exists.reset();
          if (found) throw new MemoryError('conflict', `Episode ${ep.id} already exists`);
          insertRow.run(episodeRow(ep, ep.outcome ? repeatKey(ep) : null));
          insertStepsWith(insertStep, ep.id, ep.steps);
          if (ep.outcome) patterns.add(ep);
        }
      }),
    ),
  );
}

/** Applies an operation. Costs of a step do not depend on the episode's length. */
export function applyOp(db: Database, index: SearchIndex, op: Op): Applied {
  switch (op.t) {
    case 'create': {
      const ep: Episode = { ...op.ep, steps: [] };
      if (one(db, 'SELECT 1 AS x FROM episodes WHERE id = ?', [ep.id])) throw new MemoryError('conflict', `Episode ${ep.id} already exists`);
      insertEpisode(db, ep);
      return { after: [() => index.upsert(ep)], changes: [{ type: 'episode_created', episodeId: ep.id }], episode: ep };
    }
    case 'step': {
      const row = one(db, 'SELECT step_count, outcome_type, tools FROM episodes WHERE id = ?', [op.id]);
      if (!row) throw new MemoryError('not_found', `No episode with id "${op.id}"`);
      if (row.outcome_type !== null) throw new MemoryError('invalid', `Episode ${op.id} is already completed; steps cannot be added`);
      const tools = JSON.parse(str(row.tools)) as string[];
      if (!tools.includes(op.step.tool)) tools.push(op.step.tool);
      appendStep(db, op.id, op.step);
      db.run('UPDATE episodes SET step_count = ?, tools = ? WHERE id = ?', [num(row.step_count) + 1, JSON.stringify(tools), op.id]);
      return { after: [() => index.appendStep(op.id, op.step)], changes: [{ type: 'episode_updated', episodeId: op.id }] };
    }
    case 'complete': {
      const ep = requireEpisode(db, op.id);
      if (ep.outcome) throw new MemoryError('invalid', `Episode ${op.id} is already completed`);
      if (op.dupOf) {
        // Replaying a merge recorded by an earlier version: reproduce it (the journal is history).
        const survivor = requireEpisode(db, op.dupOf);
        db.run('UPDATE episodes SET dup_count = dup_count + 1 WHERE id = ?', [op.dupOf]);
        db.run('DELETE FROM episodes WHERE id = ?', [op.id]);
        deleteSteps(db, op.id);
        return {
          after: [() => index.remove(op.id)],
          changes: [
            { type: 'episode_deleted', episodeId: op.id },
            { type: 'episode_updated', episodeId: op.dupOf },
          ],
          episode: survivor,
        };
      }
      ep.endedAt = op.endedAt;
      ep.outcome = op.outcome;
      ep.reward = op.reward;
      ep.reflection = op.reflection;
      db.run('UPDATE episodes SET ended_at = ?, outcome = ?, outcome_type = ?, reward = ?, reflection = ?, gist = ?, repeat_key = ? WHERE id = ?', [
        op.endedAt,
        JSON.stringify(op.outcome),
        op.outcome.type,
        op.reward,
        packJson(op.reflection),
        gistOf(op.outcome, op.reflection) ?? null,
        repeatKey(ep),
        op.id,
      ]);
      // A completed episode takes no more steps: its appended rows become blocks (fast to read).
      packSteps(db, op.id, ep.steps);
      const keys = addPatterns(db, [ep]);
      return { after: [() => index.upsert(ep)], changes: [{ type: 'episode_completed', episodeId: op.id }], episode: ep, patternKeys: keys };
    }
    case 'phrase': {
      const ep = requireEpisode(db, op.id);
      ep.context = { ...ep.context, phrasings: op.phrasings };
      db.run('UPDATE episodes SET context = ? WHERE id = ?', [JSON.stringify(ep.context), op.id]);
      return { after: [() => index.upsert(ep)], changes: [{ type: 'episode_updated', episodeId: op.id }], episode: ep };
    }
    case 'delete': {
      const removed: string[] = [];
      for (const id of op.ids) {
        const ep = loadEpisode(db, id);
        if (!ep) continue;
        if (ep.outcome) removePatterns(db, ep);
        db.run('DELETE FROM episodes WHERE id = ?', [id]);
        deleteSteps(db, id);
        removed.push(id);
      }
      return {
        after: [() => removed.forEach((id) => index.remove(id))],
        changes: op.reason === 'retention' ? [{ type: 'retention' }] : removed.map((id) => ({ type: 'episode_deleted' as const, episodeId: id })),
      };
    }
    case 'clear':
      db.run('DELETE FROM episodes');
      db.run('DELETE FROM steps');
      db.run('DELETE FROM patterns');
      return { after: [() => index.clear()], changes: [{ type: 'cleared' }] };
    case 'import': {
      const patterns = new PatternTally();
      insertEpisodes(db, op.episodes, patterns);
      patterns.write(db);
      return { after: [() => op.episodes.forEach((ep) => index.upsert(ep))], changes: [{ type: 'imported' }] };
    }
    case 'tools': {
      for (const [tool, n] of Object.entries(op.counts)) {
        db.run('INSERT INTO tool_usage(tool, count) VALUES (?, ?) ON CONFLICT(tool) DO UPDATE SET count = count + excluded.count', [tool, n]);
      }
      return { after: [], changes: [] };
    }
    default:
      throw new MemoryError('corrupt', `Unknown journal operation ${(op as { t: string }).t}`);
  }
}
