import { z } from 'zod';
import { defineTool } from './define';
import { episodeIdInput, outcomeInput, patternOut, patternToOut, plural, reflectionInput, reflectionOut, rethrowStore, round } from './common';

export const completeEpisodeInput = z.strictObject({
  episode_id: episodeIdInput,
  outcome: outcomeInput,
  reflection: reflectionInput.optional().describe('Your own lessons; derived from the steps when omitted.'),
});

export const completeEpisodeOutput = z.object({
  episode_id: z.string(),
  reward: z.number().describe('0-1 score of the episode (outcome, efficiency, errors recovered).'),
  reflection: reflectionOut,
  patterns: z.array(patternOut).describe('Patterns learned or updated by this completion.'),
});

export const completeEpisodeTool = defineTool({
  name: 'complete_episode',
  title: 'Complete an episode',
  tier: 'core',
  description:
    'Close an open episode with its outcome and optionally your reflection. The memory scores it (reward) and learns or updates the patterns that query_memory and analyze_patterns return. Every run counts, repeats of a task included.',
  input: completeEpisodeInput,
  output: completeEpisodeOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(args, { store }) {
    const result = await store
      .completeEpisode(args.episode_id, { outcome: args.outcome, reflection: args.reflection })
      .catch((e: unknown) => rethrowStore(e, args.episode_id));
    const patterns = result.patterns.slice(0, 20).map(patternToOut);
    return {
      structured: {
        episode_id: result.episode.id,
        reward: round(result.reward),
        reflection: result.reflection,
        patterns,
      },
      text: `Episode ${result.episode.id} completed (${args.outcome.type}), reward ${round(result.reward, 2)}; ${plural(patterns.length, 'pattern')} learned or updated.`,
    };
  },
});
