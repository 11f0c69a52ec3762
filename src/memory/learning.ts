/**
 * Scoring and learning: reward, derived reflection, pattern extraction and
 * heuristics. All functions are pure and deterministic (the same episode always
 * yields the same keys), which lets the store remove an episode's contribution
 * to its patterns exactly when the episode is deleted.
 */
import type { Episode, Heuristic, Outcome, Pattern, PatternKind, Reflection, Step, TaskType } from './types';
import { fnv1a, normalizeText } from './text';

// ---------------------------------------------------------------------------
// Reward
// ---------------------------------------------------------------------------

/**
 * reward = clamp(base × (0.75 + 0.25 × efficiency) − 0.1 × errorRate, 0, 1)
 *
 * base (by outcome): success 1.0; partial_success 0.4 + 0.4 × completed/(completed + failed)
 * (0.6 when both lists are empty); abstained 0.2; failure 0.
 * efficiency = (stepFactor + timeFactor) / 2, where
 *   stepFactor = 1 / (1 + max(0, steps − 5) / 15)      (1 up to 5 steps, 0.5 at 20)
 *   timeFactor = 1 / (1 + max(0, minutes − 10) / 30)   (1 up to 10 min, 0.5 at 40)
 * errorRate = steps with status error/timeout ÷ steps (0 with no steps).
 */
export function computeReward(outcome: Outcome, steps: Step[], startedAt: string, endedAt: string): number {
  let base: number;
  switch (outcome.type) {
    case 'success':
      base = 1;
      break;
    case 'partial_success': {
      const n = outcome.completed.length + outcome.failed.length;
      base = n === 0 ? 0.6 : 0.4 + (0.4 * outcome.completed.length) / n;
      break;
    }
    case 'abstained':
      base = 0.2;
      break;
    case 'failure':
      base = 0;
      break;
  }
  const minutes = Math.max(0, (Date.parse(endedAt) - Date.parse(startedAt)) / 60_000);
  const stepFactor = 1 / (1 + Math.max(0, steps.length - 5) / 15);
  const timeFactor = 1 / (1 + Math.max(0, minutes - 10) / 30);
  const efficiency = (stepFactor + timeFactor) / 2;
  const errors = steps.filter((s) => s.result.status !== 'success').length;
  const errorRate = steps.length ? errors / steps.length : 0;
  const r = base * (0.75 + 0.25 * efficiency) - 0.1 * errorRate;
  return Math.round(Math.min(1, Math.max(0, r)) * 1e4) / 1e4;
}

// ---------------------------------------------------------------------------
// Reflection
// ---------------------------------------------------------------------------

/** Error "class": an exception name, an errno code, 'timeout', or the first words of the message. */
export function errorClass(step: Step): string {
  if (step.result.status === 'timeout') return 'timeout';
  if (step.result.status !== 'error') return '';
  const msg = step.result.message;
  const m = /\b([A-Z][A-Za-z]*(?:Error|Exception))\b/.exec(msg) ?? /\b(E[A-Z]{3,})\b/.exec(msg) ?? /\b(TS\d{3,5})\b/.exec(msg);
  if (m) return m[1];
  const words = normalizeText(msg)
    .replace(/[^a-z ]+/g, ' ')
    .split(' ')
    .filter((w) => w.length > 1)
    .slice(0, 3);
  return words.length ? words.join(' ') : 'error';
}

function clip(s: string, n: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

/** A reflection derived from the steps when the agent gives none. */
export function deriveReflection(e: Pick<Episode, 'steps' | 'startedAt'>, outcome: Outcome, endedAt: string, reward: number): Reflection {
  const successes: string[] = [];
  const improvements: string[] = [];
  const insights: string[] = [];
  const steps = e.steps;
  const okByTool = new Map<string, number>();
  for (const s of steps) if (s.result.status === 'success') okByTool.set(s.tool, (okByTool.get(s.tool) ?? 0) + 1);
  if (outcome.type === 'success') successes.push(`Completed: ${clip(outcome.verdict, 200)}`);
  if (outcome.type === 'partial_success') {
    if (outcome.completed.length) successes.push(`Completed: ${clip(outcome.completed.join(', '), 200)}`);
    if (outcome.failed.length) improvements.push(`Not done: ${clip(outcome.failed.join(', '), 200)}`);
  }
  for (const [tool, n] of [...okByTool].sort((a, b) => b[1] - a[1]).slice(0, 3)) successes.push(`${tool} succeeded ${n}×`);
  if (outcome.type === 'failure') improvements.push(`Failed: ${clip(outcome.reason, 200)}`);
  if (outcome.type === 'abstained') improvements.push(`Abstained: ${clip(outcome.reason, 200)}`);
  let reported = 0;
  for (const s of steps) {
    if (s.result.status === 'success' || reported >= 3) continue;
    reported++;
    const what = s.result.status === 'timeout' ? 'timed out' : `failed: ${clip(s.result.message, 120)}`;
    improvements.push(`Step ${s.n} (${s.tool}) ${what}`);
  }
  let retries = 0;
  for (let i = 1; i < steps.length; i++) if (steps[i].tool === steps[i - 1].tool && steps[i - 1].result.status !== 'success') retries++;
  if (retries) improvements.push(`${retries} retr${retries === 1 ? 'y' : 'ies'} of a failed tool call`);
  if (steps.length > 15) improvements.push(`Long episode (${steps.length} steps): look for a shorter path`);
  for (const r of errorRecoveries(steps).slice(0, 3)) insights.push(`Recovered from ${r.error} in ${r.failedTool} with ${r.recoveryTool}`);
  const tools = collapse(steps.map((s) => s.tool));
  if (tools.length) insights.push(`Tool sequence: ${tools.slice(0, 8).join(' → ')}${tools.length > 8 ? ' → …' : ''}`);
  const secs = Math.max(0, Math.round((Date.parse(endedAt) - Date.parse(e.startedAt)) / 1000));
  insights.push(`${steps.length} step${steps.length === 1 ? '' : 's'} in ${secs} s, reward ${reward.toFixed(2)}`);
  return { successes, improvements, insights };
}

// ---------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------

export interface PatternOccurrence {
  key: string;
  kind: PatternKind;
  description: string;
  latencyMs?: number;
}

/** Consecutive repeats collapsed (a retried tool counts once in a sequence). */
function collapse(tools: string[]): string[] {
  const out: string[] = [];
  for (const t of tools) if (out[out.length - 1] !== t) out.push(t);
  return out;
}

interface Recovery {
  failedTool: string;
  error: string;
  recoveryTool: string;
}

function errorRecoveries(steps: Step[]): Recovery[] {
  const out: Recovery[] = [];
  for (let i = 0; i < steps.length; i++) {
    if (steps[i].result.status === 'success') continue;
    const next = steps.slice(i + 1).find((s) => s.result.status === 'success');
    if (next) out.push({ failedTool: steps[i].tool, error: errorClass(steps[i]), recoveryTool: next.tool });
  }
  return out;
}

/** Maximum tool n-gram length. */
export const MAX_NGRAM = 5;

/**
 * The patterns an episode exhibits, each key once:
 * - tool_sequence: n-grams (2..5) of its tool sequence (consecutive repeats collapsed);
 * - error_recovery: a failed step's tool + error class → the tool of the next successful step;
 * - decision_point: the first tool chosen, and after a failure whether the agent retried the same tool or switched;
 * - context_pattern: language, framework, complexity, each tag, and language+framework.
 * Keys are scoped by task type and domain.
 */
export function extractPatterns(e: Pick<Episode, 'taskType' | 'domain' | 'steps' | 'context'>): PatternOccurrence[] {
  const scope = `${e.taskType}|${e.domain}`;
  const seen = new Map<string, PatternOccurrence>();
  const add = (kind: PatternKind, sig: string, description: string, latencyMs?: number): void => {
    const key = `${kind}|${scope}|${sig}`;
    if (!seen.has(key)) seen.set(key, { key, kind, description, latencyMs });
  };
  const steps = e.steps;
  // Collapsed sequence with the latency of each run of the same tool.
  const seq: string[] = [];
  const lat: number[] = [];
  for (const s of steps) {
    if (seq[seq.length - 1] === s.tool) lat[lat.length - 1] += s.latencyMs ?? 0;
    else {
      seq.push(s.tool);
      lat.push(s.latencyMs ?? 0);
    }
  }
  const hasLatency = steps.some((s) => s.latencyMs !== undefined);
  for (let n = 2; n <= MAX_NGRAM; n++) {
    for (let i = 0; i + n <= seq.length; i++) {
      const gram = seq.slice(i, i + n);
      let l = 0;
      for (let j = i; j < i + n; j++) l += lat[j];
      add('tool_sequence', gram.join('>'), `Tool sequence ${gram.join(' → ')}`, hasLatency ? l : undefined);
    }
  }
  for (const r of errorRecoveries(steps)) {
    add('error_recovery', `${r.failedTool}:${r.error}>${r.recoveryTool}`, `After ${r.error} from ${r.failedTool}, recover with ${r.recoveryTool}`);
  }
  if (steps.length) add('decision_point', `start:${steps[0].tool}`, `Start with ${steps[0].tool}`);
  for (let i = 0; i + 1 < steps.length; i++) {
    if (steps[i].result.status === 'success') continue;
    const same = steps[i + 1].tool === steps[i].tool;
    add(
      'decision_point',
      `after-failure:${steps[i].tool}:${same ? 'retry' : 'switch'}`,
      same ? `After ${steps[i].tool} fails, retry it` : `After ${steps[i].tool} fails, switch to another tool`,
    );
  }
  const c = e.context;
  const lang = c.language?.toLowerCase();
  const fw = c.framework?.toLowerCase();
  if (lang) add('context_pattern', `language=${lang}`, `Language ${lang}`);
  if (fw) add('context_pattern', `framework=${fw}`, `Framework ${fw}`);
  if (lang && fw) add('context_pattern', `language=${lang}+framework=${fw}`, `Language ${lang} with framework ${fw}`);
  if (c.complexity) add('context_pattern', `complexity=${c.complexity}`, `Complexity ${c.complexity}`);
  for (const t of [...new Set(c.tags.map((x) => x.toLowerCase()))].sort()) add('context_pattern', `tag=${t}`, `Tag ${t}`);
  return [...seen.values()];
}

/** Whether an outcome counts as a success for pattern success rates (only `success` does). */
export function isSuccess(o: Outcome | undefined): boolean {
  return o?.type === 'success';
}

/**
 * Key of repeats of one task: the same normalized task (numbers and quoted literals
 * replaced), domain and task type, whatever the steps and outcome. Every repeat is kept
 * and counted; query answers fold the repeats of a task into one hit ("seen 5×, 3 succeeded").
 */
export function repeatKey(e: Pick<Episode, 'task' | 'domain' | 'taskType'>): string {
  const sig = [normalizeText(e.task), e.domain, e.taskType].join('\u0001');
  return `${fnv1a(sig).toString(16)}-${fnv1a(sig.split('').reverse().join('')).toString(16)}-${sig.length}`;
}

// ---------------------------------------------------------------------------
// Heuristics
// ---------------------------------------------------------------------------

/** Heuristics are kept at confidence (= success rate) ≥ 0.7 with ≥ 2 samples. */
export const HEURISTIC_MIN_CONFIDENCE = 0.7;
export const HEURISTIC_MIN_SAMPLES = 2;

function scopeText(taskType: TaskType, domain: string): string {
  return `${taskType.replace('_', ' ')} tasks in ${domain}`;
}

export function heuristicsFrom(patterns: Pattern[]): Heuristic[] {
  const out: Heuristic[] = [];
  const seen = new Set<string>();
  for (const p of patterns) {
    if (p.occurrences < HEURISTIC_MIN_SAMPLES || p.successRate < HEURISTIC_MIN_CONFIDENCE) continue;
    const sig = p.id.split('|').slice(3).join('|');
    let condition: string;
    let action: string;
    switch (p.kind) {
      case 'tool_sequence':
        condition = `For ${scopeText(p.taskType, p.domain)}`;
        action = `Use the tool sequence ${sig.split('>').join(' → ')}`;
        break;
      case 'error_recovery': {
        const [failed, rest] = splitOnce(sig, ':');
        const [err, rec] = splitOnce(rest, '>');
        condition = `When ${failed} fails with ${err} (${scopeText(p.taskType, p.domain)})`;
        action = `Recover with ${rec}`;
        break;
      }
      case 'decision_point':
        if (sig.startsWith('start:')) {
          condition = `At the start of ${scopeText(p.taskType, p.domain)}`;
          action = `Start with ${sig.slice(6)}`;
        } else {
          const parts = sig.split(':');
          condition = `When ${parts[1]} fails (${scopeText(p.taskType, p.domain)})`;
          action = parts[2] === 'retry' ? `Retry ${parts[1]}` : 'Switch to another tool rather than retrying';
        }
        break;
      case 'context_pattern':
        condition = `For ${scopeText(p.taskType, p.domain)} with ${sig.replace(/\+/g, ' and ')}`;
        action = `Reuse the approach of the ${p.occurrences} past episodes in this context (${Math.round(p.successRate * 100)}% succeeded)`;
        break;
    }
    const k = condition + '\u0001' + action;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ condition, action, confidence: Math.round(p.successRate * 1000) / 1000, evidence: p.evidence.slice(0, 10) });
  }
  return out;
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}
