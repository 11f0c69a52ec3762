/**
 * What the index knows of an episode: weighted term frequencies per field (BM25F-style,
 * folded into the term frequency) and the metadata the ranking filters and blends on.
 */
import type { Episode, OutcomeType, Step, TaskType } from '../types';
import { simhash, tokenize } from '../text';

/** Weights per field (multiples of 0.5; stored as integer half units). */
export const FIELD_WEIGHTS = {
  task: 3,
  tags: 2,
  outcome: 2,
  reflection: 1.5,
  error: 1.5,
  action: 1,
  tool: 1,
  context: 1,
  parameters: 0.5,
  output: 0.5,
  /** Alternative phrasings of the task from the client's model (sampling, TaskContext.phrasings). */
  phrasings: 1.5,
  /** Terms related to the episode's key text by the lexicon (document expansion). */
  expansion: 0.5,
} as const;

/** Longest text taken from one step output / parameters (the rest is noise for retrieval). */
const MAX_FIELD_CHARS = 4000;

export interface DocMeta {
  id: string;
  domain: string;
  taskType: TaskType;
  outcome?: OutcomeType;
  startedMs: number;
  reward: number;
  language?: string;
  framework?: string;
  tags: string[];
  simhash: number;
}

export function metaOf(e: Episode): DocMeta {
  return {
    id: e.id,
    domain: e.domain,
    taskType: e.taskType,
    outcome: e.outcome?.type,
    startedMs: Date.parse(e.startedAt),
    reward: e.reward ?? 0,
    language: e.context.language?.toLowerCase(),
    framework: e.context.framework?.toLowerCase(),
    tags: e.context.tags.map((t) => t.toLowerCase()),
    simhash: simhash(e.task),
  };
}

type AddField = (text: string | undefined, weight: number) => void;

/** Accumulates weighted term frequencies (half units) into `tf`; returns the adder and the length so far. */
function termCounter(tf: Map<string, number>): { add: AddField; len: () => number } {
  let len = 0;
  const add: AddField = (text, weight) => {
    if (!text) return;
    const units = weight * 2;
    const toks = tokenize(text.length > MAX_FIELD_CHARS ? text.slice(0, MAX_FIELD_CHARS) : text);
    for (const t of toks) tf.set(t, (tf.get(t) ?? 0) + units);
    len += toks.length * weight;
  };
  return { add, len: () => len };
}

function addStep(add: AddField, s: Step): void {
  add(s.tool, FIELD_WEIGHTS.tool);
  add(s.action, FIELD_WEIGHTS.action);
  if (s.parameters !== undefined && s.parameters !== null) {
    add(typeof s.parameters === 'string' ? s.parameters : JSON.stringify(s.parameters), FIELD_WEIGHTS.parameters);
  }
  if (s.result.status === 'success') add(s.result.output, FIELD_WEIGHTS.output);
  else add(s.result.message, FIELD_WEIGHTS.error);
}

/** Adds one step's weighted term frequencies to `tf`; returns the weighted length added. */
export function analyzeStepInto(tf: Map<string, number>, s: Step): number {
  const c = termCounter(tf);
  addStep(c.add, s);
  return c.len();
}

/**
 * Weighted term frequencies (half units) and weighted length of an episode. With `expand`,
 * a completed episode also gets the terms it returns for its key text (task, error messages,
 * outcome, reflection) at the expansion field's weight.
 */
export function analyzeEpisode(e: Episode, expand?: (keyText: string) => string[]): { tf: Map<string, number>; len: number } {
  const tf = new Map<string, number>();
  const { add, len } = termCounter(tf);
  add(e.task, FIELD_WEIGHTS.task);
  if (e.context.phrasings?.length) add(e.context.phrasings.join('\n'), FIELD_WEIGHTS.phrasings);
  add(e.context.tags.join(' '), FIELD_WEIGHTS.tags);
  add([e.context.language, e.context.framework].filter(Boolean).join(' '), FIELD_WEIGHTS.context);
  for (const s of e.steps) addStep(add, s);
  const o = e.outcome;
  if (o) {
    if (o.type === 'success') add([o.verdict, ...(o.artifacts ?? [])].join('\n'), FIELD_WEIGHTS.outcome);
    else if (o.type === 'partial_success') add([o.verdict, ...o.completed, ...o.failed].join('\n'), FIELD_WEIGHTS.outcome);
    else if (o.type === 'failure') add(`${o.reason}\n${o.details ?? ''}`, FIELD_WEIGHTS.outcome);
    else add(o.reason, FIELD_WEIGHTS.outcome);
  }
  if (e.reflection) add([...e.reflection.successes, ...e.reflection.improvements, ...e.reflection.insights].join('\n'), FIELD_WEIGHTS.reflection);
  if (expand && o) add(expand(keyText(e)).join(' '), FIELD_WEIGHTS.expansion);
  return { tf, len: Math.max(len(), 1) };
}

/**
 * Term counts of what an episode is about and did: its key text and its steps' actions
 * (the candidates for its key terms, which the term associations count).
 */
export function keyTermCounts(e: Episode): Map<string, number> {
  const tf = new Map<string, number>();
  const add = (text: string): void => {
    for (const t of tokenize(text)) tf.set(t, (tf.get(t) ?? 0) + 1);
  };
  add(keyText(e));
  for (const s of e.steps) add(s.action);
  return tf;
}

/** What an episode is about: its task, error messages, outcome and reflection (not parameters or outputs). */
function keyText(e: Episode): string {
  const parts = [e.task];
  for (const s of e.steps) if (s.result.status !== 'success' && s.result.message) parts.push(s.result.message.slice(0, MAX_FIELD_CHARS));
  const o = e.outcome;
  if (o) parts.push(o.type === 'success' || o.type === 'partial_success' ? o.verdict : o.reason);
  if (e.reflection) parts.push(...e.reflection.insights, ...e.reflection.successes, ...e.reflection.improvements);
  return parts.join('\n');
}
