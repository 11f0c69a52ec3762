/**
 * The episode writes as journal operations: each validates its input against the
 * database and fixes every generated value (id, timestamps, step number, reward,
 * reflection), so that replaying the operation reproduces the write exactly.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from 'sql.js';
import type { AddStepInput, CompleteEpisodeInput, CreateEpisodeInput, Step, TaskContext } from '../types';
import { MemoryError } from '../errors';
import { AddStepInputSchema, CompleteEpisodeInputSchema, CreateEpisodeInputSchema, EpisodeIdSchema, parseOrThrow } from '../schemas';
import { computeReward, deriveReflection } from '../learning';
import { LIMITS } from '../limits';
import { mergePhrasings } from '../phrasings';
import { requireEpisode } from './operations';
import { parseJson } from './codec';
import type { NewEpisode, OpBody } from './operations';
import { num, one } from './sql';

function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}

export function createOp(input: CreateEpisodeInput): OpBody & { t: 'create' } {
  const v = parseOrThrow(CreateEpisodeInputSchema, input, 'episode');
  const ep: NewEpisode = {
    id: newId('ep'),
    task: v.task,
    domain: v.domain,
    taskType: v.taskType,
    context: { ...v.context, tags: v.context?.tags ?? [] },
    startedAt: new Date().toISOString(),
  };
  return { t: 'create', ep };
}

export function stepOp(db: Database, episodeId: string, step: AddStepInput): OpBody & { t: 'step' } {
  const id = parseOrThrow(EpisodeIdSchema, episodeId, 'episode id');
  const v = parseOrThrow(AddStepInputSchema, step, 'step');
  const row = one(db, 'SELECT step_count, outcome_type FROM episodes WHERE id = ?', [id]);
  if (!row) throw new MemoryError('not_found', `No episode with id "${id}"`);
  if (row.outcome_type !== null) throw new MemoryError('invalid', `Episode ${id} is already completed; steps cannot be added`);
  if (num(row.step_count) >= LIMITS.steps) {
    throw new MemoryError('invalid', `Episode ${id} already has ${LIMITS.steps} steps, the most one episode holds; complete it and record the rest in a new episode`);
  }
  const s: Step = {
    n: num(row.step_count) + 1,
    timestamp: new Date().toISOString(),
    tool: v.tool,
    action: v.action,
    parameters: v.parameters ?? {},
    result: v.result,
    ...(v.latencyMs !== undefined ? { latencyMs: v.latencyMs } : {}),
    ...(v.tokensUsed !== undefined ? { tokensUsed: v.tokensUsed } : {}),
  };
  return { t: 'step', id, step: s };
}

export function completeOp(db: Database, episodeId: string, input: CompleteEpisodeInput): OpBody & { t: 'complete' } {
  const id = parseOrThrow(EpisodeIdSchema, episodeId, 'episode id');
  const v = parseOrThrow(CompleteEpisodeInputSchema, input, 'completion');
  const ep = requireEpisode(db, id);
  if (ep.outcome) throw new MemoryError('invalid', `Episode ${id} is already completed`);
  const endedAt = new Date(Math.max(Date.now(), Date.parse(ep.startedAt))).toISOString();
  const reward = computeReward(v.outcome, ep.steps, ep.startedAt, endedAt);
  const reflection = v.reflection ?? deriveReflection(ep, v.outcome, endedAt, reward);
  return { t: 'complete', id, endedAt, outcome: v.outcome, reward, reflection };
}

/**
 * The phrasings after adding `phrasings` to a completed episode's (see mergePhrasings): false
 * when the episode is unknown or still open, undefined when nothing new would be kept.
 */
export function phraseOp(db: Database, episodeId: string, phrasings: string[]): (OpBody & { t: 'phrase' }) | false | undefined {
  const id = parseOrThrow(EpisodeIdSchema, episodeId, 'episode id');
  if (!Array.isArray(phrasings) || phrasings.some((p) => typeof p !== 'string')) throw new MemoryError('invalid', 'phrasings must be an array of strings');
  // Only what the merge needs: the steps stay unread.
  const row = one(db, 'SELECT task, context, outcome_type FROM episodes WHERE id = ?', [id]);
  if (!row || row.outcome_type === null) return false;
  const before = parseJson<TaskContext>(row.context).phrasings ?? [];
  const kept = mergePhrasings(String(row.task), before, phrasings);
  if (kept.length === before.length) return undefined;
  return { t: 'phrase', id, phrasings: kept };
}
