/**
 * Reads the labelled retrieval set (episodes.txt, queries.txt; format in README.md) into
 * episodes the store can import and graded queries.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { computeReward } from '../../src/memory/learning';
import type { Episode, Outcome, Step, TaskType } from '../../src/memory';
import { TASK_TYPES } from '../../src/memory';

export interface GradedQuery {
  id: string;
  /** dev, dev2 (queries-dev2.txt): may guide tuning; held: never tuned on; blind: worded independently (queries-blind.txt), never tuned on. */
  split: 'dev' | 'dev2' | 'held' | 'blind';
  text: string;
  /** Episode id → grade (2: the same problem, 1: closely related). */
  grades: Map<string, number>;
}

const lines = (file: string): string[] =>
  fs
    .readFileSync(path.join(__dirname, file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

function parseStep(text: string, n: number, at: string): Step {
  const [head, error] = text.split(' ! ');
  const colon = head.indexOf(':');
  if (colon < 0) throw new Error(`step without "tool:": ${text}`);
  return {
    n,
    timestamp: at,
    tool: head.slice(0, colon).trim(),
    action: head.slice(colon + 1).trim(),
    parameters: {},
    result: error ? { status: 'error', message: error.trim() } : { status: 'success' },
  };
}

function parseOutcome(text: string): Outcome {
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon).trim();
  const what = text.slice(colon + 1).trim();
  if (kind === 'success') return { type: 'success', verdict: what };
  if (kind === 'failure') return { type: 'failure', reason: what };
  throw new Error(`unknown outcome kind: ${text}`);
}

/** The set's episodes, started one hour apart ending `nowMs` (so recency hardly differs). */
export function loadEpisodes(nowMs = Date.now()): Episode[] {
  const rows = lines('episodes.txt');
  return rows.map((line, i) => {
    const f = line.split(' | ');
    if (f.length !== 7) throw new Error(`episodes.txt: expected 7 fields: ${line}`);
    const [id, domain, taskType, task, steps, outcome, insight] = f;
    if (!(TASK_TYPES as readonly string[]).includes(taskType)) throw new Error(`episodes.txt: bad task type ${taskType}`);
    const started = new Date(nowMs - (rows.length - i) * 3_600_000).toISOString();
    const ended = new Date(Date.parse(started) + 300_000).toISOString();
    const st = steps.split(' ; ').map((s, k) => parseStep(s, k + 1, started));
    const out = parseOutcome(outcome);
    return {
      id: `ep_${id}`,
      task,
      domain,
      taskType: taskType as TaskType,
      context: { tags: [] },
      startedAt: started,
      endedAt: ended,
      steps: st,
      outcome: out,
      reward: computeReward(out, st, started, ended),
      reflection: { successes: [], improvements: [], insights: [insight] },
    };
  });
}

const SPLITS = ['dev', 'dev2', 'held', 'blind'] as const;

/** The graded queries of queries.txt, queries-dev2.txt and queries-blind.txt. */
export function loadQueries(): GradedQuery[] {
  return [...lines('queries.txt'), ...lines('queries-dev2.txt'), ...lines('queries-blind.txt')].map((line) => {
    const [id, split, text, rel] = line.split(' | ');
    if (!(SPLITS as readonly string[]).includes(split)) throw new Error(`queries: bad split ${split} in ${id}`);
    const grades = new Map<string, number>();
    for (const g of rel.trim().split(/\s+/)) {
      const [ep, grade] = g.split(':');
      grades.set(`ep_${ep}`, Number(grade));
    }
    return { id, split: split as GradedQuery['split'], text, grades };
  });
}
