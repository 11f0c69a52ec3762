/** Schemas and mappers shared by the tool files (snake_case on the wire, camelCase in the store). */
import { z } from 'zod';
import { TASK_TYPES } from '../../memory/types';
import { LIMITS } from '../../memory/limits';
import { episodeToWire, round, stepToWire } from '../../memory/exportFormat';
import type { Episode, EpisodeSummary, Heuristic, MemoryStoreApi, Pattern, Step } from '../../memory/types';
import { describeStoreError, ToolError, unknownEpisode } from '../errors';

export const episodeIdInput = z.string().trim().min(1, 'must not be empty').max(200, 'is too long (max 200 characters)');
export const taskTypeInput = z.enum(TASK_TYPES);
export const domainInput = z.string().trim().min(1, 'must not be empty').max(100, 'is too long (max 100 characters)').describe('Area of work, e.g. "web-api", "cli", "data-pipeline".');
export const offsetInput = z.number().int().min(0).max(1_000_000).default(0);


export const episodeSummaryOut = z.object({
  episode_id: z.string(),
  task: z.string(),
  domain: z.string().optional(),
  task_type: z.string().optional(),
  outcome: z.string().optional(),
  reward: z.number().optional(),
  step_count: z.number(),
  tools: z.array(z.string()),
  started_at: z.string(),
  ended_at: z.string().optional(),
  gist: z.string().optional(),
});
export type EpisodeSummaryOut = z.output<typeof episodeSummaryOut>;

/** The task type and domain an answer is about already (a filter the caller gave): left out of each item. */
export interface Scope {
  taskType?: string;
  domain?: string;
}

export function summaryOut(s: EpisodeSummary): EpisodeSummaryOut {
  return {
    episode_id: s.id,
    task: s.task,
    domain: s.domain,
    task_type: s.taskType,
    ...(s.outcome !== undefined ? { outcome: s.outcome } : {}),
    ...(s.reward !== undefined ? { reward: round(s.reward) } : {}),
    step_count: s.stepCount,
    tools: s.tools,
    started_at: s.startedAt,
    ...(s.endedAt !== undefined ? { ended_at: s.endedAt } : {}),
    ...(s.gist !== undefined ? { gist: s.gist } : {}),
  };
}

/** A summary as tool answers give it to the model: without the scope asked for, nor ended_at (the outcome says it ended). */
export function summaryBrief(s: EpisodeSummary, scope: Scope = {}): EpisodeSummaryOut {
  const { episode_id, task, domain, task_type, ended_at: _ended, ...rest } = summaryOut(s);
  return { episode_id, task, ...(scope.domain === domain ? {} : { domain }), ...(scope.taskType === task_type ? {} : { task_type }), ...rest };
}

export const patternOut = z.object({
  pattern_id: z.string(),
  kind: z.string(),
  description: z.string(),
  task_type: z.string(),
  domain: z.string(),
  success_rate: z.number(),
  occurrences: z.number(),
  avg_latency_ms: z.number().optional(),
  evidence: z.array(z.string()).describe('Episode ids supporting the pattern, most recent first.'),
});
export type PatternOut = z.output<typeof patternOut>;

export function patternToOut(p: Pattern): PatternOut {
  return {
    pattern_id: p.id,
    kind: p.kind,
    description: p.description,
    task_type: p.taskType,
    domain: p.domain,
    success_rate: round(p.successRate),
    occurrences: p.occurrences,
    ...(p.avgLatencyMs !== undefined ? { avg_latency_ms: round(p.avgLatencyMs) } : {}),
    evidence: p.evidence.slice(0, 10),
  };
}

/** Evidence ids a tool answer names per pattern or heuristic (the newest; `occurrences` counts them all). */
const BRIEF_EVIDENCE = 3;

/** A pattern as tool answers give it to the model: no internal key, none of the scope's own fields, the newest evidence. */
export const patternBriefOut = z.object({
  kind: z.string(),
  description: z.string(),
  task_type: z.string().optional(),
  domain: z.string().optional(),
  success_rate: z.number(),
  occurrences: z.number(),
  avg_latency_ms: z.number().optional(),
  evidence: z.array(z.string()).optional().describe(`Newest supporting episode ids (at most ${BRIEF_EVIDENCE}).`),
});
export type PatternBriefOut = z.output<typeof patternBriefOut>;

/** `scope`: left out of each pattern; `evidence`: how many ids to name. */
export function patternBrief(p: Pattern, scope: Scope = {}, evidence = BRIEF_EVIDENCE): PatternBriefOut {
  return {
    kind: p.kind,
    description: p.description,
    ...(scope.taskType === p.taskType ? {} : { task_type: p.taskType }),
    ...(scope.domain === p.domain ? {} : { domain: p.domain }),
    success_rate: round(p.successRate),
    occurrences: p.occurrences,
    ...(p.avgLatencyMs ? { avg_latency_ms: Math.round(p.avgLatencyMs) } : {}),
    ...(evidence > 0 ? { evidence: p.evidence.slice(0, evidence) } : {}),
  };
}

export const heuristicOut = z.object({
  condition: z.string(),
  action: z.string(),
  confidence: z.number(),
  evidence: z.array(z.string()),
});

export function heuristicToOut(h: Heuristic, evidence = 10): z.output<typeof heuristicOut> {
  return { condition: h.condition, action: h.action, confidence: round(h.confidence), evidence: h.evidence.slice(0, evidence) };
}

/** A heuristic as tool answers give it to the model (the newest evidence). */
export const heuristicBrief = (h: Heuristic): z.output<typeof heuristicOut> => heuristicToOut(h, BRIEF_EVIDENCE);

export const stepResultInput = z.discriminatedUnion(
  'status',
  [
    z.strictObject({ status: z.literal('success'), output: z.string().max(LIMITS.text).optional() }),
    z.strictObject({ status: z.literal('error'), message: z.string().min(1, 'must not be empty').max(LIMITS.text) }),
    z.strictObject({ status: z.literal('timeout'), message: z.string().max(LIMITS.text).optional() }),
  ],
  { error: 'must be {status: "success", output?} or {status: "error", message} or {status: "timeout", message?}' },
);

export const stepOut = z.object({
  n: z.number(),
  timestamp: z.string(),
  tool: z.string(),
  action: z.string(),
  parameters: z.unknown().optional(),
  result: z.object({ status: z.string(), output: z.string().optional(), message: z.string().optional() }),
  latency_ms: z.number().optional(),
  tokens_used: z.number().optional(),
});
export type StepOut = z.output<typeof stepOut>;

export function stepToOut(s: Step): StepOut {
  return stepToWire(s);
}

export const outcomeInput = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('success'), verdict: z.string().min(1, 'must not be empty').max(4000), artifacts: z.array(z.string().max(1000)).max(100).optional() }),
    z.strictObject({
      type: z.literal('partial_success'),
      verdict: z.string().min(1, 'must not be empty').max(4000),
      completed: z.array(z.string().max(1000)).max(100),
      failed: z.array(z.string().max(1000)).max(100),
    }),
    z.strictObject({ type: z.literal('failure'), reason: z.string().min(1, 'must not be empty').max(4000), details: z.string().max(20_000).optional() }),
    z.strictObject({ type: z.literal('abstained'), reason: z.string().min(1, 'must not be empty').max(4000) }),
  ],
  {
    error:
      'must be one of {type: "success", verdict, artifacts?}, {type: "partial_success", verdict, completed[], failed[]}, {type: "failure", reason, details?}, {type: "abstained", reason}',
  },
);

const outcomeOut = z.object({
  type: z.string(),
  verdict: z.string().optional(),
  reason: z.string().optional(),
  details: z.string().optional(),
  artifacts: z.array(z.string()).optional(),
  completed: z.array(z.string()).optional(),
  failed: z.array(z.string()).optional(),
});

export const reflectionSchema = z.object({
  successes: z.array(z.string().max(2000)).max(50).default([]),
  improvements: z.array(z.string().max(2000)).max(50).default([]),
  insights: z.array(z.string().max(2000)).max(50).default([]),
});
export const reflectionInput = z.strictObject(reflectionSchema.shape);
export const reflectionOut = z.object({ successes: z.array(z.string()), improvements: z.array(z.string()), insights: z.array(z.string()) });

export const contextOut = z.object({
  language: z.string().optional(),
  framework: z.string().optional(),
  complexity: z.string().optional(),
  tags: z.array(z.string()),
});

export const episodeOut = z.object({
  episode_id: z.string(),
  task: z.string(),
  domain: z.string(),
  task_type: z.string(),
  context: contextOut,
  started_at: z.string(),
  ended_at: z.string().optional(),
  step_count: z.number(),
  steps: z.array(stepOut),
  outcome: outcomeOut.optional(),
  reward: z.number().optional(),
  reflection: reflectionOut.optional(),
});
export type EpisodeOut = z.output<typeof episodeOut>;

export function episodeToOut(e: Episode, stepsOffset = 0, stepsLimit = Infinity): EpisodeOut {
  return episodeToWire(e, stepsOffset, stepsLimit);
}

export { round };

/** Loads an episode or throws the clear "unknown episode" error. */
export async function requireEpisode(store: MemoryStoreApi, id: string): Promise<Episode> {
  const episode = await store.getEpisode(id);
  if (!episode) throw unknownEpisode(id);
  return episode;
}

/** Rethrows store errors as `ToolError`s with a clear message (unknown ids get the standard text). */
export function rethrowStore(error: unknown, episodeId?: string): never {
  if (error instanceof ToolError) throw error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'not_found' && episodeId !== undefined) throw unknownEpisode(episodeId);
  const message = describeStoreError(error);
  if (message) throw new ToolError(message);
  throw error;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
