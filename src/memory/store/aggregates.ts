/**
 * Aggregate reads made for the views: the Memory explorer's groupings and the Insights
 * charts. They read `episode_daily`, counters kept on write (schema.ts, migration 5), so no
 * caller lists or scans episodes to count them: both the cost and the answer's size are
 * bounded by the number of days, groups and time buckets, never by the number of episodes.
 */
import type { Database, SqlValue } from 'sql.js';
import type { EpisodeGroups, InsightsOptions, MemoryInsights, OutcomeCounts, TimeBucket, TrendPoint, TrendSeries } from '../types';
import { OUTCOME_TYPES, PATTERN_KINDS } from '../types';
import { rowToPattern } from './rows';
import { EPISODE_AT } from './schema';
import { all, num, one, str } from './sql';

/** Most time buckets a timeline holds (older buckets are dropped). */
export const MAX_BUCKETS = 120;
const DAY_MS = 86_400_000;

/** SQL expression for the start of an episode's bucket, from its end (or start while in progress). */
function bucketExpr(bucket: TimeBucket, column: string): string {
  switch (bucket) {
    case 'day':
      return `substr(${column}, 1, 10)`;
    case 'week':
      // Monday of the ISO week: step back to the previous Monday unless it is one.
      return `date(${column}, '-6 days', 'weekday 1')`;
    case 'month':
      return `substr(${column}, 1, 7) || '-01'`;
  }
}

/** A bucket size that gives a readable number of points for the span the data covers. */
export function chooseBucket(firstIso: string | undefined, lastIso: string | undefined): TimeBucket {
  if (!firstIso || !lastIso) return 'day';
  const span = Date.parse(lastIso) - Date.parse(firstIso);
  if (!Number.isFinite(span) || span <= 60 * DAY_MS) return 'day';
  if (span <= 2 * 365 * DAY_MS) return 'week';
  return 'month';
}

function emptyOutcomes(): OutcomeCounts {
  return { success: 0, partial_success: 0, failure: 0, abstained: 0, in_progress: 0 };
}

function outcomeKey(v: unknown): keyof OutcomeCounts {
  const s = str(v as never);
  return (OUTCOME_TYPES as readonly string[]).includes(s) ? (s as keyof OutcomeCounts) : 'in_progress';
}

/**
 * The rows the charts count, from `episode_daily` (kept on write by triggers, schema.ts): one row
 * per day, domain, task type and outcome. With `since`, whole days after it come from there and
 * the part of its own day from the episodes (through the index on their time), so the answer is
 * exact and its cost bounded by the number of days and groups, not episodes.
 */
function dailySource(since: string | undefined): { sql: string; params: SqlValue[] } {
  if (!since) return { sql: 'episode_daily', params: [] };
  const day = since.slice(0, 10);
  const nextDay = new Date(Date.parse(`${day}T00:00:00.000Z`) + DAY_MS).toISOString().slice(0, 10);
  return {
    sql: `(SELECT day, domain, task_type, outcome, n, reward_sum, reward_n, steps FROM episode_daily WHERE day > ?
           UNION ALL
           SELECT substr(${EPISODE_AT}, 1, 10), domain, task_type, COALESCE(outcome_type, ''), 1, COALESCE(reward, 0), reward IS NOT NULL, step_count
             FROM episodes WHERE ${EPISODE_AT} >= ? AND ${EPISODE_AT} < ?)`,
    params: [day, since, nextDay],
  };
}

/** Episode counts by domain and task type, and pattern counts by kind (the explorer's groups). */
export function episodeGroups(db: Database): EpisodeGroups {
  const groups = all(db, 'SELECT domain, task_type, SUM(n) AS n FROM episode_daily GROUP BY domain, task_type ORDER BY domain, task_type').map((r) => ({
    domain: str(r.domain),
    taskType: str(r.task_type) as EpisodeGroups['groups'][number]['taskType'],
    count: num(r.n),
  }));
  const patternKinds = Object.fromEntries(PATTERN_KINDS.map((k) => [k, 0])) as EpisodeGroups['patternKinds'];
  for (const r of all(db, 'SELECT kind, COUNT(*) AS n FROM patterns GROUP BY kind')) {
    const kind = str(r.kind) as keyof EpisodeGroups['patternKinds'];
    if (kind in patternKinds) patternKinds[kind] = num(r.n);
  }
  return { groups, patternKinds };
}

/** Success rate and mean reward per bucket for each value of `column` (completed episodes only). */
function trends(db: Database, column: 'task_type' | 'domain', bucketSql: string, source: { sql: string; params: SqlValue[] }, maxSeries: number): TrendSeries[] {
  // The series with the most completed episodes; the rest are summed into "other" only in totals.
  const keys = all(db, `SELECT ${column} AS k, SUM(n) AS n FROM ${source.sql} WHERE outcome <> '' GROUP BY k ORDER BY n DESC, k LIMIT ?`, [...source.params, maxSeries]).map((r) => str(r.k));
  if (keys.length === 0) return [];
  const rows = all(
    db,
    `SELECT ${column} AS k, ${bucketSql} AS b, SUM(n) AS n, SUM(CASE WHEN outcome = 'success' THEN n ELSE 0 END) AS ok, SUM(reward_sum) AS rs, SUM(reward_n) AS rn
       FROM ${source.sql} WHERE outcome <> '' AND ${column} IN (${keys.map(() => '?').join(',')})
      GROUP BY k, b ORDER BY b`,
    [...source.params, ...keys],
  );
  const byKey = new Map<string, TrendPoint[]>(keys.map((k) => [k, []]));
  for (const r of rows) {
    const n = num(r.n);
    const rn = num(r.rn);
    byKey.get(str(r.k))?.push({ start: str(r.b), completed: n, successRate: n ? num(r.ok) / n : 0, meanReward: rn ? num(r.rs) / rn : 0 });
  }
  return keys.map((key) => {
    const points = byKey.get(key)!.slice(-MAX_BUCKETS);
    const completed = points.reduce((s, p) => s + p.completed, 0);
    const successes = points.reduce((s, p) => s + p.successRate * p.completed, 0);
    return { key, completed, successRate: completed ? successes / completed : 0, points };
  });
}

/** Everything the Insights view draws, computed in the store (options already validated). */
export function insights(db: Database, options: Required<Omit<InsightsOptions, 'since'>> & Pick<InsightsOptions, 'since'>): MemoryInsights {
  const { since, topPatterns, maxSeries } = options;
  const source = dailySource(since);

  // Both ends through the index on the episode's time (two lookups, not a scan).
  const after = since ? ` WHERE ${EPISODE_AT} >= ?` : '';
  const at = (dir: 'ASC' | 'DESC'): string | undefined => {
    const r = one(db, `SELECT ${EPISODE_AT} AS t FROM episodes${after} ORDER BY ${EPISODE_AT} ${dir} LIMIT 1`, since ? [since] : []);
    return r ? str(r.t) : undefined;
  };
  const first = at('ASC');
  const last = at('DESC');
  const bucket = options.bucket !== 'auto' ? options.bucket : chooseBucket(first, last);
  const b = bucketExpr(bucket, 'day');

  const totals = emptyOutcomes();
  const buckets = new Map<string, OutcomeCounts>();
  let steps = 0;
  let rewardSum = 0;
  let rewardN = 0;
  for (const r of all(db, `SELECT ${b} AS b, outcome AS o, SUM(n) AS n, SUM(steps) AS steps, SUM(reward_sum) AS rs, SUM(reward_n) AS rn FROM ${source.sql} GROUP BY b, o ORDER BY b`, source.params)) {
    const key = str(r.b);
    let counts = buckets.get(key);
    if (!counts) buckets.set(key, (counts = emptyOutcomes()));
    const o = outcomeKey(r.o);
    counts[o] += num(r.n);
    totals[o] += num(r.n);
    steps += num(r.steps);
    rewardSum += num(r.rs);
    rewardN += num(r.rn);
  }
  const timeline = [...buckets].slice(-MAX_BUCKETS).map(([start, counts]) => ({ start, ...counts }));

  // Without the evidence lists (they grow with the store; the chart needs rates and counts).
  const patterns = all(db, "SELECT key, kind, description, task_type, domain, occurrences, successes, latency_sum, latency_n, '' AS evidence FROM patterns ORDER BY occurrences DESC, successes DESC, key LIMIT ?", [topPatterns]).map(rowToPattern);
  const patternCount = num(one(db, 'SELECT COUNT(*) AS n FROM patterns')?.n);
  const pageCount = num(db.exec('PRAGMA page_count')[0]?.values[0][0]);
  const pageSize = num(db.exec('PRAGMA page_size')[0]?.values[0][0]);
  const freePages = num(db.exec('PRAGMA freelist_count')[0]?.values[0][0]);
  const episodes = Object.values(totals).reduce((s, n) => s + n, 0);

  return {
    generatedAt: new Date().toISOString(),
    bucket,
    ...(first ? { first } : {}),
    ...(last ? { last } : {}),
    totals: { episodes, completed: episodes - totals.in_progress, steps, patterns: patternCount, ...(rewardN ? { meanReward: rewardSum / rewardN } : {}), byOutcome: totals },
    timeline,
    byTaskType: trends(db, 'task_type', b, source, maxSeries),
    byDomain: trends(db, 'domain', b, source, maxSeries),
    topPatterns: patterns.map((p) => ({ id: p.id, kind: p.kind, description: p.description, taskType: p.taskType, domain: p.domain, successRate: p.successRate, occurrences: p.occurrences })),
    size: { databaseBytes: pageCount * pageSize, freeBytes: freePages * pageSize },
  };
}
