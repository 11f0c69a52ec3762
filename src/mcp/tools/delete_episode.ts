import { z } from 'zod';
import { defineTool } from './define';
import { episodeIdInput, rethrowStore } from './common';
import { unknownEpisode } from '../errors';

export const deleteEpisodeInput = z.strictObject({
  episode_id: episodeIdInput,
});

export const deleteEpisodeOutput = z.object({
  episode_id: z.string(),
  deleted: z.boolean(),
});

export const deleteEpisodeTool = defineTool({
  name: 'delete_episode',
  title: 'Delete an episode',
  tier: 'advanced',
  description: 'Permanently delete one episode (for example one recorded by mistake or holding sensitive data). Patterns keep their counts but lose it as evidence. Cannot be undone.',
  input: deleteEpisodeInput,
  output: deleteEpisodeOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, { store }) {
    const deleted = await store.deleteEpisode(args.episode_id).catch((e: unknown) => rethrowStore(e, args.episode_id));
    if (!deleted) throw unknownEpisode(args.episode_id);
    return { structured: { episode_id: args.episode_id, deleted: true }, text: `Episode ${args.episode_id} deleted.` };
  },
});
