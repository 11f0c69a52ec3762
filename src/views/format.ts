/** Small text helpers shared by the views (no vscode import). */
import type { Episode, EpisodeSummary, Pattern } from '../memory';
import type { ExecutionResult } from '../sandbox';

export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.round(h / 24)}d ago`;
}

/**
 * One line of at most `max` characters, cut at a word boundary (never mid-word) with "…";
 * a single word longer than `max` is the only thing ever cut inside. The caller puts the full
 * text in the tooltip or description.
 */
export function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  if (oneLine.length <= max) return oneLine;
  const room = oneLine.slice(0, max); // leaves one character for the ellipsis
  const cut = room.lastIndexOf(' ');
  const head = cut > 0 ? room.slice(0, cut) : room.slice(0, max - 1);
  return `${head.replace(/[\s,;:.–—-]+$/, '')}…`;
}

export function percent(rate: number): string {
  return `${Math.round(rate * 100)}%`;
}

/** A readable rendering of a sandbox result for the output channel. */
export function formatExecution(result: ExecutionResult, source: string): string {
  const lines = [`--- ${new Date().toISOString()} · ${source}`];
  switch (result.kind) {
    case 'success':
      lines.push(`success in ${result.executionTimeMs.toFixed(1)} ms`, `value: ${result.output}`);
      break;
    case 'error':
      lines.push(`error (${result.errorType}) after ${result.executionTimeMs.toFixed(1)} ms${result.line !== undefined ? ` at line ${result.line}${result.column !== undefined ? `:${result.column}` : ''}` : ''}: ${result.message}`);
      break;
    case 'timeout':
      lines.push(`timeout after ${result.elapsedMs} ms`);
      if (result.partialOutput) lines.push(`partial output:\n${result.partialOutput}`);
      break;
    case 'security_violation':
      lines.push(`security violation (${result.violationType}): ${result.reason}`);
      break;
  }
  if ('stdout' in result && result.stdout) lines.push(`stdout:\n${result.stdout.trimEnd()}`);
  if ('stderr' in result && result.stderr) lines.push(`stderr:\n${result.stderr.trimEnd()}`);
  return lines.join('\n');
}

/** Relative links between the read-only documents (the Markdown editor follows them). */
export function patternLink(id: string): string {
  return `../pattern/${encodeURIComponent(id)}.md`;
}
export function episodeLink(id: string): string {
  return `../episode/${encodeURIComponent(id)}.md`;
}

function linkText(text: string): string {
  return truncate(text, 100).replace(/[[\]]/g, '\\$&');
}

/** Markdown for a pattern: what it is, how well it works, and links to its evidence. */
export function patternMarkdown(p: Pattern, evidence: EpisodeSummary[]): string {
  const out = [`# ${p.description}`, ''];
  out.push(`- **kind**: ${p.kind.replace(/_/g, ' ')}`);
  out.push(`- **domain / type**: ${p.domain} / ${p.taskType}`);
  out.push(`- **success rate**: ${percent(p.successRate)} over ${p.occurrences} episodes${p.avgLatencyMs !== undefined ? ` · avg ${Math.round(p.avgLatencyMs)} ms` : ''}`);
  out.push('', `## Evidence (${evidence.length} most recent)`, '');
  for (const e of evidence) out.push(`- [${linkText(e.task)}](${episodeLink(e.id)}) — ${e.outcome ?? 'in progress'}${e.reward !== undefined ? `, reward ${e.reward.toFixed(2)}` : ''}`);
  return out.join('\n') + '\n';
}

/** Markdown for the read-only episode document (with links to the patterns it counted towards). */
export function episodeMarkdown(e: Episode, patterns: Pattern[] = []): string {
  const out: string[] = [];
  out.push(`# ${e.task}`, '');
  out.push(`- **id**: \`${e.id}\``);
  out.push(`- **domain / type**: ${e.domain} / ${e.taskType}`);
  const ctx = [e.context.language, e.context.framework, e.context.complexity, ...e.context.tags.map((t) => `#${t}`)].filter(Boolean);
  if (ctx.length) out.push(`- **context**: ${ctx.join(', ')}`);
  out.push(`- **started**: ${e.startedAt}${e.endedAt ? ` · **ended**: ${e.endedAt}` : ' (in progress)'}`);
  if (e.outcome) {
    const o = e.outcome;
    const detail = o.type === 'success' || o.type === 'partial_success' ? o.verdict : o.reason;
    out.push(`- **outcome**: ${o.type} — ${detail}`);
  }
  if (e.reward !== undefined) out.push(`- **reward**: ${e.reward.toFixed(3)}`);
  out.push('', `## Steps (${e.steps.length})`, '');
  for (const s of e.steps) {
    const r = s.result.status === 'success' ? (s.result.output ?? '') : (s.result.message ?? '');
    out.push(`${s.n}. **${s.tool}** — ${s.action} → _${s.result.status}_${r ? `: ${truncate(r, 200)}` : ''}${s.latencyMs !== undefined ? ` (${s.latencyMs} ms)` : ''}`);
  }
  if (e.reflection) {
    const section = (title: string, items: string[]): void => {
      if (!items.length) return;
      out.push('', `### ${title}`, ...items.map((i) => `- ${i}`));
    };
    out.push('', '## Reflection');
    section('Successes', e.reflection.successes);
    section('Improvements', e.reflection.improvements);
    section('Insights', e.reflection.insights);
  }
  if (patterns.length) {
    out.push('', `## Patterns (${patterns.length})`, '');
    for (const p of patterns) out.push(`- [${linkText(p.description)}](${patternLink(p.id)}) — ${p.kind.replace(/_/g, ' ')}, ${percent(p.successRate)} success over ${p.occurrences}`);
  }
  return out.join('\n') + '\n';
}

/** The compact form the trees show, from a full episode. */
export function episodeSummary(e: Episode): EpisodeSummary {
  return {
    id: e.id,
    task: e.task,
    domain: e.domain,
    taskType: e.taskType,
    outcome: e.outcome?.type,
    reward: e.reward,
    stepCount: e.steps.length,
    tools: [...new Set(e.steps.map((s) => s.tool))],
    startedAt: e.startedAt,
    endedAt: e.endedAt,
  };
}
