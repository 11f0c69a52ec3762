import { z } from 'zod';
import { defineTool } from './define';
import { episodeIdInput, rethrowStore, stepResultInput } from './common';
import { ToolError } from '../errors';
import { LIMITS } from '../../memory/limits';

export const addEpisodeStepInput = z.strictObject({
  episode_id: episodeIdInput,
  tool: z.string().trim().min(1, 'must not be empty').max(200).describe('The tool or command used, e.g. "edit_file", "npm test".'),
  action: z.string().trim().min(1, 'must not be empty').max(2000).describe('What the step did, in a few words.'),
  parameters: z.unknown().optional().describe('The arguments used (any JSON; kept small).'),
  result: stepResultInput,
  latency_ms: z.number().min(0).max(86_400_000).optional(),
  tokens_used: z.number().int().min(0).max(100_000_000).optional(),
});

export const addEpisodeStepOutput = z.object({
  episode_id: z.string(),
  step_number: z.number(),
  timestamp: z.string(),
});


export const addEpisodeStepTool = defineTool({
  name: 'add_episode_step',
  title: 'Record an episode step',
  tier: 'core',
  description:
    'Record one significant step of an open episode: the tool used, what it did, its parameters and its result (success, error or timeout). Record errors too: recovery patterns are learned from them.',
  input: addEpisodeStepInput,
  output: addEpisodeStepOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(args, { store }) {
    if (args.parameters !== undefined) {
      const size = JSON.stringify(args.parameters)?.length ?? 0;
      if (size > LIMITS.parametersJson) {
        throw new ToolError(`Invalid arguments for add_episode_step: "parameters" is too large (${size} characters of JSON; max ${LIMITS.parametersJson}).`);
      }
    }
    const step = await store
      .addStep(args.episode_id, {
        tool: args.tool,
        action: args.action,
        parameters: args.parameters,
        result: args.result,
        latencyMs: args.latency_ms,
        tokensUsed: args.tokens_used,
      })
      .catch((e: unknown) => rethrowStore(e, args.episode_id));
    return {
      structured: { episode_id: args.episode_id, step_number: step.n, timestamp: step.timestamp },
      text: `Step ${step.n} (${args.tool}: ${args.result.status}) recorded in episode ${args.episode_id}.`,
    };
  },
});
