import { z } from 'zod';
import { defineTool } from './define';
import { domainInput, rethrowStore, taskTypeInput } from './common';

export const createEpisodeInput = z.strictObject({
  task: z.string().trim().min(1, 'must not be empty').max(4000, 'is too long (max 4000 characters)').describe('The task in one or two sentences, as the user asked it.'),
  domain: domainInput.optional().describe('Area of work, e.g. "web-api"; default "general".'),
  task_type: taskTypeInput,
  context: z
    .strictObject({
      language: z.string().max(100).optional(),
      framework: z.string().max(100).optional(),
      complexity: z.enum(['simple', 'moderate', 'complex']).optional(),
      tags: z.array(z.string().max(100)).max(50).optional(),
    })
    .optional()
    .describe('Optional context that later queries can match on.'),
});

export const createEpisodeOutput = z.object({
  episode_id: z.string(),
  started_at: z.string(),
});

export const createEpisodeTool = defineTool({
  name: 'create_episode',
  title: 'Start an episode',
  tier: 'core',
  description:
    'Start recording an episode when you begin a task. Returns the episode_id for add_episode_step (each significant action) and complete_episode (at the end), so the memory learns from the outcome.',
  input: createEpisodeInput,
  output: createEpisodeOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(args, { store }) {
    const episode = await store
      .createEpisode({
        task: args.task,
        domain: args.domain,
        taskType: args.task_type,
        context: args.context ? { ...args.context, tags: args.context.tags ?? [] } : undefined,
      })
      .catch((e: unknown) => rethrowStore(e));
    return {
      structured: { episode_id: episode.id, started_at: episode.startedAt },
      text: `Episode ${episode.id} started for "${episode.task.slice(0, 80)}".`,
    };
  },
});
