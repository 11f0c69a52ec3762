import { z } from 'zod';
import { defineTool } from './define';
import { LIMITS } from '../../memory/limits';
import { unknownEpisode } from '../errors';
import { episodeIdInput, episodeOut, episodeToOut, rethrowStore } from './common';

export const getEpisodeInput = z.strictObject({
  episode_id: episodeIdInput,
  steps_offset: z.number().int().min(0).max(1_000_000).default(0).describe('Steps to skip (paging long episodes: pass the next_steps_offset of the previous answer).'),
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
    'Fetch one episode: task, context, steps with their results, outcome, reward and reflection. Steps come a page at a time (steps_limit, default 50); while more remain, pass next_steps_offset as steps_offset.',
  input: getEpisodeInput,
  output: getEpisodeOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, { store }) {
    // Only the requested page of steps is read, however long the episode.
    const page = await store
      .getEpisodePage(args.episode_id, { offset: Math.min(args.steps_offset, LIMITS.steps), limit: args.steps_limit })
      .catch((e: unknown) => rethrowStore(e, args.episode_id));
    if (!page) throw unknownEpisode(args.episode_id);
    const { episode, stepCount } = page;
    const out = { ...episodeToOut(episode), step_count: stepCount };
    const end = args.steps_offset + out.steps.length;
    const more = end < stepCount;
    return {
      structured: { episode: out, ...(more ? { next_steps_offset: end } : {}) },
      text: `Episode ${episode.id}: "${episode.task.slice(0, 80)}" (${episode.outcome?.type ?? 'open'}), ${stepCount} step(s)${more || args.steps_offset > 0 ? `, showing ${args.steps_offset + 1}-${end}` : ''}${more ? `; call get_episode again with steps_offset ${end} for the next steps` : ''}.`,
    };
  },
});
