import { z } from 'zod';
import { defineTool } from './define';
import { domainInput, episodeSummaryOut, offsetInput, plural, rethrowStore, round, summaryBrief, taskTypeInput } from './common';

export const queryMemoryInput = z.strictObject({
  query: z.string().trim().min(1, 'must not be empty').max(2000, 'is too long (max 2000 characters)').describe('What you are about to do, in plain words; matched against past tasks, steps and reflections.'),
  alternatives: z
    .array(z.string().trim().min(1, 'must not be empty').max(300, 'is too long (max 300 characters)'))
    .max(5, 'at most 5 alternatives')
    .optional()
    .describe('2-3 other wordings (symptoms, likely causes, error names): past episodes may use other words.'),
  domain: domainInput.optional(),
  task_type: taskTypeInput.optional(),
  limit: z.number().int().min(1).max(50).default(10).describe('Episodes to return (1-50, default 10).'),
  offset: offsetInput,
});

export const queryMemoryOutput = z.object({
  hits: z.array(
    episodeSummaryOut.extend({
      score: z.number(),
      why: z.array(z.string()),
      repeats: z
        .object({ count: z.number(), succeeded: z.number(), last_at: z.string(), episode_ids: z.array(z.string()).describe('Newest first, at most 10.') })
        .optional()
        .describe('Set when the task was done more than once: its repeats, folded into this hit.'),
    }),
  ),
  total: z.number().describe('Matching episodes in all.'),
  offset: z.number(),
  next_offset: z.number().optional().describe('Pass as offset to get the next page; absent on the last page.'),
  expanded_terms: z.array(z.string()).optional(),
});

export const queryMemoryTool = defineTool({
  name: 'query_memory',
  title: 'Query memory',
  tier: 'core',
  description:
    'Search memory for past tasks like the one at hand, before starting work. Returns ranked compact episodes (task, outcome, reward, tools used, lesson gist), each with a score and why it matched; repeats of a task fold into one hit with their counts. ' +
    'Pass 2-3 alternatives; get_episode gives one episode in full.',
  input: queryMemoryInput,
  output: queryMemoryOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, { store }) {
    const result = await store
      .query({ query: args.query, expansions: args.alternatives, domain: args.domain, taskType: args.task_type, limit: args.limit, offset: args.offset })
      .catch((e: unknown) => rethrowStore(e));
    const scope = { domain: args.domain, taskType: args.task_type };
    const hits = result.hits.map((h) => ({
      ...summaryBrief(h.episode, scope),
      score: round(h.score),
      why: h.why.slice(0, 6),
      ...(h.repeats ? { repeats: { count: h.repeats.count, succeeded: h.repeats.succeeded, last_at: h.repeats.lastAt, episode_ids: h.repeats.ids } } : {}),
    }));
    const end = args.offset + hits.length;
    const structured = {
      hits,
      total: result.total,
      offset: args.offset,
      ...(end < result.total && hits.length > 0 ? { next_offset: end } : {}),
      ...(result.expandedTerms ? { expanded_terms: result.expandedTerms.slice(0, 30) } : {}),
    };
    const text = hits.length
      ? `${plural(result.total, 'matching episode')}; showing ${args.offset + 1}-${end}. Best: "${hits[0].task.slice(0, 80)}" (score ${hits[0].score}${hits[0].outcome ? `, ${hits[0].outcome}` : ''}).`
      : `No episodes match "${args.query.slice(0, 80)}"${args.offset ? ` at offset ${args.offset}` : ''}.`;
    return { structured, text };
  },
});
