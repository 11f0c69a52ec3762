import { z } from 'zod';
import { defineTool } from './define';
import { domainInput, heuristicBrief, heuristicOut, patternBrief, patternBriefOut, plural, rethrowStore, taskTypeInput } from './common';

export const analyzePatternsInput = z.strictObject({
  task_type: taskTypeInput.optional(),
  domain: domainInput.optional(),
  min_success_rate: z.number().min(0).max(1).default(0.7).describe('Only patterns at least this successful (0-1, default 0.7).'),
  limit: z.number().int().min(1).max(50).default(20).describe('Patterns to return (1-50, default 20).'),
});

export const analyzePatternsOutput = z.object({
  patterns: z.array(patternBriefOut).describe('task_type and domain are given when not the ones asked for.'),
  heuristics: z.array(heuristicOut),
});

export const analyzePatternsTool = defineTool({
  name: 'analyze_patterns',
  title: 'Analyze patterns',
  tier: 'core',
  description:
    'What has worked before: tool sequences, error recoveries and decision points learned from completed episodes (success rate, occurrences) and heuristics ("when X, do Y"), by task_type and domain.',
  input: analyzePatternsInput,
  output: analyzePatternsOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, { store }) {
    const result = await store
      .analyzePatterns({ taskType: args.task_type, domain: args.domain, minSuccessRate: args.min_success_rate, limit: args.limit })
      .catch((e: unknown) => rethrowStore(e));
    const scope = { taskType: args.task_type, domain: args.domain };
    const patterns = result.patterns.slice(0, args.limit).map((p) => patternBrief(p, scope));
    const heuristics = result.heuristics.slice(0, args.limit).map(heuristicBrief);
    const top = patterns[0];
    return {
      structured: { patterns, heuristics },
      text: `${plural(patterns.length, 'pattern')} and ${plural(heuristics.length, 'heuristic')} at success rate >= ${args.min_success_rate}.${top ? ` Top: ${top.description.slice(0, 100)} (${Math.round(top.success_rate * 100)}% over ${top.occurrences}).` : ''}`,
    };
  },
});
