/** Learned patterns and heuristics of one task type or domain as Markdown (the patterns resources). */
import type { Heuristic, Pattern } from '../memory/types';
import { episodeUri } from './links';

const KIND_TITLES: Record<string, string> = {
  tool_sequence: 'Tool sequences',
  error_recovery: 'Error recoveries',
  decision_point: 'Decision points',
  context_pattern: 'Context patterns',
};

export function patternsMarkdown(scope: string, patterns: readonly Pattern[], heuristics: readonly Heuristic[]): string {
  const out: string[] = [`# Patterns for ${scope}`, ''];
  if (!patterns.length && !heuristics.length) {
    out.push('Nothing learned yet: patterns appear when episodes of this kind are completed with complete_episode.', '');
    return out.join('\n');
  }
  out.push(`${patterns.length} pattern${patterns.length === 1 ? '' : 's'}, strongest first (success rate over occurrences).`);
  const byKind = new Map<string, Pattern[]>();
  for (const p of patterns) byKind.set(p.kind, [...(byKind.get(p.kind) ?? []), p]);
  for (const [kind, list] of byKind) {
    out.push('', `## ${KIND_TITLES[kind] ?? kind}`, '');
    for (const p of list) {
      const latency = p.avgLatencyMs !== undefined ? `, ~${Math.round(p.avgLatencyMs)} ms` : '';
      const evidence = p.evidence.slice(0, 3).map(episodeUri).join(', ');
      out.push(`- ${p.description} — ${Math.round(p.successRate * 100)}% over ${p.occurrences}${latency}${evidence ? `; e.g. ${evidence}` : ''}`);
    }
  }
  if (heuristics.length) {
    out.push('', '## Heuristics', '');
    for (const h of heuristics) out.push(`- When ${h.condition}: ${h.action} (confidence ${Math.round(h.confidence * 100)}%)`);
  }
  out.push('');
  return out.join('\n');
}
