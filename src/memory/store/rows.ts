/** Mapping between database rows and the public types (episodes, summaries, patterns). */
import type { Episode, EpisodeSummary, Outcome, OutcomeType, Pattern, PatternKind, Reflection, Step, TaskContext, TaskType } from '../types';
import { isDerivedSummary } from '../learning';
import { packJson, parseJson } from './codec';
import type { Row } from './sql';
import { num, optStr, str } from './sql';

/** Columns of an episode summary (list and query answers). */
export const SUMMARY_COLS = 'id, task, domain, task_type, outcome_type, reward, step_count, tools, started_at, ended_at, gist';

/** Longest task a summary shows. */
export const SUMMARY_TASK_CHARS = 300;

export function clip(s: string, n: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

/** A short extract for summaries: the verdict or failure reason, else a reflection insight. */
export function gistOf(outcome: Outcome | undefined, reflection: Reflection | undefined): string | undefined {
  if (!outcome) return undefined;
  const base = outcome.type === 'success' || outcome.type === 'partial_success' ? outcome.verdict : outcome.reason;
  const insight = reflection?.insights.find((i) => !isDerivedSummary(i));
  return clip(insight && !base ? insight : base || insight || '', 200) || undefined;
}

export function toolsOf(steps: Step[]): string[] {
  return [...new Set(steps.map((s) => s.tool))];
}

/** An episode from its row and its steps (steps.ts; all of them, or a page). */
export function rowToEpisode(r: Row, steps: Step[]): Episode {
  const ep: Episode = {
    id: str(r.id),
    task: str(r.task),
    domain: str(r.domain),
    taskType: str(r.task_type) as TaskType,
    context: parseJson<TaskContext>(r.context),
    startedAt: str(r.started_at),
    steps,
  };
  if (r.ended_at !== null && r.ended_at !== undefined) ep.endedAt = str(r.ended_at);
  if (r.outcome !== null && r.outcome !== undefined) ep.outcome = parseJson<Outcome>(r.outcome);
  if (r.reward !== null && r.reward !== undefined) ep.reward = num(r.reward);
  if (r.reflection !== null && r.reflection !== undefined) ep.reflection = parseJson<Reflection>(r.reflection);
  return ep;
}

export function rowToSummary(r: Row): EpisodeSummary {
  const s: EpisodeSummary = {
    id: str(r.id),
    task: clip(str(r.task), SUMMARY_TASK_CHARS),
    domain: str(r.domain),
    taskType: str(r.task_type) as TaskType,
    stepCount: num(r.step_count),
    tools: parseJson<string[]>(r.tools),
    startedAt: str(r.started_at),
  };
  const o = optStr(r.outcome_type);
  if (o) s.outcome = o as OutcomeType;
  if (r.reward !== null && r.reward !== undefined) s.reward = num(r.reward);
  const e = optStr(r.ended_at);
  if (e) s.endedAt = e;
  const g = optStr(r.gist);
  if (g) s.gist = g;
  return s;
}

export function rowToPattern(r: Row): Pattern {
  const occ = num(r.occurrences);
  const p: Pattern = {
    id: str(r.key),
    kind: str(r.kind) as PatternKind,
    description: str(r.description),
    taskType: str(r.task_type) as TaskType,
    domain: str(r.domain),
    successRate: occ ? Math.round((num(r.successes) / occ) * 1e4) / 1e4 : 0,
    occurrences: occ,
    evidence: str(r.evidence).split(' ').filter(Boolean),
  };
  const ln = num(r.latency_n);
  if (ln > 0) p.avgLatencyMs = Math.round((num(r.latency_sum) / ln) * 10) / 10;
  return p;
}

/** The episodes row of an episode, as INSERT parameters (its steps go to their own rows: steps.ts). */
export function episodeRow(ep: Episode, repeatKey: string | null): (string | number | Uint8Array | null)[] {
  return [
    ep.id,
    ep.task,
    ep.domain,
    ep.taskType,
    JSON.stringify(ep.context),
    ep.startedAt,
    ep.endedAt ?? null,
    '[]',
    ep.steps.length,
    JSON.stringify(toolsOf(ep.steps)),
    ep.outcome ? JSON.stringify(ep.outcome) : null,
    ep.outcome?.type ?? null,
    ep.reward ?? null,
    ep.reflection ? packJson(ep.reflection) : null,
    gistOf(ep.outcome, ep.reflection) ?? null,
    repeatKey,
  ];
}

export const EPISODE_INSERT = `INSERT INTO episodes(id, task, domain, task_type, context, started_at, ended_at, steps, step_count, tools, outcome, outcome_type, reward, reflection, gist, repeat_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
