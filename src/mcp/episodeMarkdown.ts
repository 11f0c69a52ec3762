/**
 * An episode as Markdown, the text of its `memory://episodes/{id}` resource: a
 * person or a model reads it top to bottom (task, context, steps, errors and
 * how they were recovered, outcome, reflection, the patterns it contributed to).
 * One pass over the steps shown (at most one page of them); long values are cut
 * so a 1,000-step episode stays readable.
 */
import type { Episode, Outcome, Pattern, Step } from '../memory/types';
import { patternsUri } from './links';

const MAX_VALUE_CHARS = 300;

function clip(text: string, max = MAX_VALUE_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function inlineJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? '' : clip(json, 200);
}

function percent(n: number): string {
  return `${Math.round(n * 100)}%`;
}

function stepResult(step: Step): string {
  const r = step.result;
  if (r.status === 'success') return r.output ? `ok: ${clip(r.output)}` : 'ok';
  if (r.status === 'error') return `**error**: ${clip(r.message)}`;
  return `**timeout**${r.message ? `: ${clip(r.message)}` : ''}`;
}

function stepLine(step: Step): string {
  const json = inlineJson(step.parameters);
  const params = json && json !== '{}' ? ` \`${json.replace(/`/g, "'")}\`` : '';
  const latency = step.latencyMs === undefined ? '' : ` (${Math.round(step.latencyMs)} ms)`;
  return `${step.n}. \`${step.tool}\` ${clip(step.action)}${params} → ${stepResult(step)}${latency}`;
}

/** Each failed step with the first later successful step that used the same tool, else the next success. */
function recoveries(steps: readonly Step[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < steps.length && lines.length < 50; i++) {
    const s = steps[i];
    if (s.result.status === 'success') continue;
    let fix: Step | undefined;
    let next: Step | undefined;
    for (let j = i + 1; j < steps.length && j < i + 20; j++) {
      const t = steps[j];
      if (t.result.status !== 'success') continue;
      next ??= t;
      if (t.tool === s.tool) {
        fix = t;
        break;
      }
    }
    const by = fix ?? next;
    const what = s.result.status === 'error' ? clip(s.result.message, 160) : 'timeout';
    lines.push(`- Step ${s.n} (\`${s.tool}\`): ${what} → ${by ? `recovered at step ${by.n} (\`${by.tool}\` ${clip(by.action, 120)})` : 'not recovered'}`);
  }
  return lines;
}

function outcomeLines(o: Outcome): string[] {
  switch (o.type) {
    case 'success':
      return [`**Success**: ${o.verdict}`, ...(o.artifacts?.length ? [`Artifacts: ${o.artifacts.join(', ')}`] : [])];
    case 'partial_success':
      return [`**Partial success**: ${o.verdict}`, `Completed: ${o.completed.join('; ') || 'none'}`, `Failed: ${o.failed.join('; ') || 'none'}`];
    case 'failure':
      return [`**Failure**: ${o.reason}`, ...(o.details ? [o.details] : [])];
    case 'abstained':
      return [`**Abstained**: ${o.reason}`];
  }
}

function list(title: string, items: readonly string[]): string[] {
  return items.length ? [`**${title}**`, ...items.map((i) => `- ${i}`)] : [];
}

/** `e` holds the first steps of `stepCount` (a bounded page); the rest are named, not rendered. */
export function episodeMarkdown(e: Episode, stepCount: number, patterns: readonly Pattern[]): string {
  const out: string[] = [`# ${clip(e.task, 200)}`, ''];
  const status = e.outcome ? e.outcome.type : 'open (in progress)';
  out.push(
    `- Episode: \`${e.id}\``,
    `- Status: ${status}${e.reward !== undefined ? `, reward ${e.reward.toFixed(2)}` : ''}`,
    `- Task type: ${e.taskType}; domain: ${e.domain}`,
    `- Started ${e.startedAt}${e.endedAt ? `, ended ${e.endedAt}` : ''}; ${stepCount} step${stepCount === 1 ? '' : 's'}`,
  );
  if (e.task.length > 200) out.push('', e.task);

  const c = e.context;
  const ctx = [c.language && `language ${c.language}`, c.framework && `framework ${c.framework}`, c.complexity && `complexity ${c.complexity}`, c.tags?.length ? `tags ${c.tags.join(', ')}` : ''].filter(Boolean);
  out.push('', '## Context', '', ctx.length ? ctx.join('; ') : 'None recorded.');

  out.push('', '## Steps', '');
  if (e.steps.length) for (const s of e.steps) out.push(stepLine(s));
  else out.push('No steps recorded yet.');
  if (stepCount > e.steps.length) out.push('', `Steps ${e.steps.length + 1}-${stepCount} are not shown: get_episode with steps_offset ${e.steps.length} pages through them.`);

  const rec = recoveries(e.steps);
  out.push('', '## Errors and recoveries', '', ...(rec.length ? rec : ['No errors.']));

  out.push('', '## Outcome', '', ...(e.outcome ? outcomeLines(e.outcome) : ['Not completed yet: finish it with complete_episode (the retrospective prompt helps).']));

  if (e.reflection) {
    const r = e.reflection;
    out.push('', '## Reflection', '', ...list('Successes', r.successes), ...list('Improvements', r.improvements), ...list('Insights', r.insights));
    if (!r.successes.length && !r.improvements.length && !r.insights.length) out.push('Empty.');
  }

  out.push('', '## Patterns it contributed to', '');
  if (patterns.length) {
    for (const p of patterns) out.push(`- ${clip(p.description, 200)} (${p.kind}, ${percent(p.successRate)} success over ${p.occurrences}) — ${patternsUri('task-type', p.taskType)}`);
  } else out.push(e.outcome ? 'None yet.' : 'None until the episode is completed.');
  out.push('');
  return out.join('\n');
}
