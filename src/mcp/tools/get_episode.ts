import { z } from 'zod';
import { defineTool } from './define';
import { episodeIdInput, episodeOut, episodeToOut, rethrowStore, requireEpisode } from './common';

export const getEpisodeInput = z.strictObject({
  episode_id: episodeIdInput,
  steps_offset: z.number().int().min(0).max(1_000_000).default(0).describe('First step to include (paging long episodes).'),
  steps_limit: z.number().int().min(1).max(200).default(50).describe('Steps to include (1-200, default 50).'),
});

export const getEpisodeOutput = z.object({
  episode: episodeOut,
  next_steps_offset: z.number().optional().describe('Pass as steps_offset for the next steps; absent when all were returned.'),
});

export const getEpisodeTool = defineTool({
  name: 'get_episode',
  title: 'Get an episode',
  tier: 'core',
  description:
    'Fetch one episode in full: task, context, every recorded step with its result, the outcome, reward and reflection. Long episodes are paged with steps_offset/steps_limit.',
  input: getEpisodeInput,
  output: getEpisodeOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, { store }) {
    const episode = await requireEpisode(store, args.episode_id).catch((e: unknown) => rethrowStore(e, args.episode_id));
    const out = episodeToOut(episode, args.steps_offset, args.steps_limit);
    const end = args.steps_offset + out.steps.length;
    return {
      structured: { episode: out, ...(end < episode.steps.length ? { next_steps_offset: end } : {}) },
      text: `Episode ${episode.id}: "${episode.task.slice(0, 80)}" (${episode.outcome?.type ?? 'open'}), ${episode.steps.length} step(s)${end < episode.steps.length ? `, showing ${args.steps_offset + 1}-${end}` : ''}.`,
    };
  },
});
