import { z } from 'zod';
import { defineTool } from './define';
import { episodeIdInput, outcomeInput, patternBrief, patternBriefOut, plural, reflectionInput, reflectionOut, rethrowStore, round } from './common';

export const completeEpisodeInput = z.strictObject({
  episode_id: episodeIdInput,
  outcome: outcomeInput,
  reflection: reflectionInput.optional().describe('Your own lessons; derived from the steps when omitted.'),
});

export const completeEpisodeOutput = z.object({
  episode_id: z.string(),
  reward: z.number().describe('0-1 score of the episode (outcome, efficiency, errors recovered).'),
  reflection: reflectionOut.optional().describe('The reflection derived from the steps (absent when you gave yours).'),
  patterns: z.array(patternBriefOut).describe("Patterns learned or updated by this completion (task_type and domain given when not the episode's)."),
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
  async handler(args, { store, phrasings }) {
    const result = await store
      .completeEpisode(args.episode_id, { outcome: args.outcome, reflection: args.reflection })
      .catch((e: unknown) => rethrowStore(e, args.episode_id));
    phrasings?.suggest({ episodeId: result.episode.id, task: result.episode.task, domain: result.episode.domain });
    const scope = { taskType: result.episode.taskType, domain: result.episode.domain };
    // No evidence ids: this episode is the news, and analyze_patterns names the rest.
    const patterns = result.patterns.slice(0, 20).map((p) => patternBrief(p, scope, 0));
    return {
      structured: {
        episode_id: result.episode.id,
        reward: round(result.reward),
        // The model wrote its own reflection: echoing it back would only cost context.
        ...(args.reflection ? {} : { reflection: result.reflection }),
        patterns,
      },
      text: `Episode ${result.episode.id} completed (${args.outcome.type}), reward ${round(result.reward, 2)}; ${plural(patterns.length, 'pattern')} learned or updated.`,
    };
  },
});
