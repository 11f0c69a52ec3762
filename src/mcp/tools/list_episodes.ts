import { z } from 'zod';
import { defineTool } from './define';
import { OUTCOME_TYPES } from '../../memory/types';
import { domainInput, episodeSummaryOut, offsetInput, rethrowStore, summaryBrief, taskTypeInput } from './common';

export const listEpisodesInput = z.strictObject({
  domain: domainInput.optional(),
  task_type: taskTypeInput.optional(),
  outcome: z.enum(OUTCOME_TYPES).optional().describe('Only episodes that ended this way.'),
  limit: z.number().int().min(1).max(50).default(20).describe('Episodes per page (1-50, default 20).'),
  offset: offsetInput,
});

export const listEpisodesOutput = z.object({
  episodes: z.array(episodeSummaryOut),
  total: z.number(),
  offset: z.number(),
  next_offset: z.number().optional().describe('Pass as offset for the next page; absent on the last page.'),
});

export const listEpisodesTool = defineTool({
  name: 'list_episodes',
  title: 'List episodes',
  tier: 'advanced',
  description: 'Browse stored episodes newest first, one page at a time, optionally filtered by domain, task_type or outcome. Compact summaries; use get_episode for details.',
  input: listEpisodesInput,
  output: listEpisodesOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, { store }) {
    const page = await store
      .listEpisodes({ domain: args.domain, taskType: args.task_type, outcome: args.outcome, limit: args.limit, offset: args.offset })
      .catch((e: unknown) => rethrowStore(e));
    const scope = { domain: args.domain, taskType: args.task_type };
    const episodes = page.episodes.slice(0, args.limit).map((e) => summaryBrief(e, scope));
    const end = args.offset + episodes.length;
    return {
      structured: { episodes, total: page.total, offset: args.offset, ...(end < page.total && episodes.length > 0 ? { next_offset: end } : {}) },
      text: episodes.length ? `Episodes ${args.offset + 1}-${end} of ${page.total}.` : `No episodes${args.offset ? ` at offset ${args.offset}` : ''} (total ${page.total}).`,
    };
  },
});
