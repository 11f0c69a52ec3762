/**
 * The read-only `memory` object lent to guest code in `execute_agent_code`,
 * through the sandbox's host-function bridge. Guest code calls
 * `await memory.query({query, domain?, task_type?, limit?, offset?})`,
 * `await memory.getEpisode(id)` and `await memory.analyzePatterns({...})`; the
 * answers are the same compact, JSON-safe shapes the tools return, so code can
 * filter them and return only what matters. Nothing here writes to the store.
 */
import { z } from 'zod';
import { OUTCOME_TYPES, TASK_TYPES } from '../memory/types';
import type { MemoryStoreApi } from '../memory/types';
import type { HostApi, HostCallScope } from '../sandbox/types';
import { formatIssues } from './errors';
import { episodeToOut, heuristicToOut, patternToOut, round, summaryOut } from './tools/common';

/** Host calls one execution may make (a runaway loop must not hammer the store). */
export const MAX_GUEST_MEMORY_CALLS = 200;

const guestQueryText = z.string().min(1, 'must not be empty').max(2000);
const guestQuery = z.object({
    query: z.string().min(1, 'must not be empty').max(2000),
    domain: z.string().max(100).optional(),
    task_type: z.enum(TASK_TYPES).optional(),
    taskType: z.enum(TASK_TYPES).optional(),
    outcome: z.enum(OUTCOME_TYPES).optional(),
    limit: z.number().int().min(1).max(50).optional(),
    offset: z.number().int().min(0).optional(),
});

const guestAnalyze = z
  .object({
    task_type: z.enum(TASK_TYPES).optional(),
    taskType: z.enum(TASK_TYPES).optional(),
    domain: z.string().max(100).optional(),
    min_success_rate: z.number().min(0).max(1).optional(),
    minSuccessRate: z.number().min(0).max(1).optional(),
    limit: z.number().int().min(1).max(50).optional(),
  })
  .optional();

function parse<T>(schema: z.ZodType<T>, value: unknown, fn: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`memory.${fn}: invalid argument: ${formatIssues(r.error.issues, value).join('; ')}`);
  return r.data;
}

/** The run ended while the store answered: its answer would be dropped, so it is not converted either. */
function ended(scope: HostCallScope | undefined, fn: string): void {
  if (scope?.signal.aborted) throw new Error(`memory.${fn}: the execution has ended`);
}

export function memoryHostApi(store: MemoryStoreApi): HostApi {
  let calls = 0;
  const count = (fn: string, scope: HostCallScope | undefined): void => {
    ended(scope, fn);
    if (++calls > MAX_GUEST_MEMORY_CALLS) throw new Error(`memory.${fn}: more than ${MAX_GUEST_MEMORY_CALLS} memory calls in one execution`);
  };
  return {
    'memory.query': async function (this: HostCallScope | undefined, arg: unknown) {
      count('query', this);
      const o = typeof arg === 'string' ? { query: parse(guestQueryText, arg, 'query') } : parse(guestQuery, arg, 'query');
      const result = await store.query({
        query: o.query,
        domain: o.domain,
        taskType: o.task_type ?? o.taskType,
        outcome: o.outcome,
        limit: o.limit ?? 10,
        offset: o.offset ?? 0,
      });
      ended(this, 'query');
      return {
        total: result.total,
        hits: result.hits.map((h) => ({ ...summaryOut(h.episode), score: round(h.score), why: h.why.slice(0, 6) })),
      };
    },
    'memory.getEpisode': async function (this: HostCallScope | undefined, id: unknown) {
      count('getEpisode', this);
      const episodeId = parse(z.string().min(1, 'must not be empty').max(200), id, 'getEpisode');
      const episode = await store.getEpisode(episodeId);
      ended(this, 'getEpisode');
      return episode ? episodeToOut(episode, 0, 200) : null;
    },
    'memory.analyzePatterns': async function (this: HostCallScope | undefined, arg: unknown) {
      count('analyzePatterns', this);
      const o = parse(guestAnalyze, arg, 'analyzePatterns') ?? {};
      const limit = o.limit ?? 20;
      const result = await store.analyzePatterns({
        taskType: o.task_type ?? o.taskType,
        domain: o.domain,
        minSuccessRate: o.min_success_rate ?? o.minSuccessRate ?? 0.7,
        limit,
      });
      ended(this, 'analyzePatterns');
      return { patterns: result.patterns.slice(0, limit).map(patternToOut), heuristics: result.heuristics.slice(0, limit).map(heuristicToOut) };
    },
  };
}
