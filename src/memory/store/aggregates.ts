/**
 * Aggregate reads made for the views: the Memory explorer's groupings and the Insights
 * charts. Each is a handful of GROUP BY queries over the episodes and patterns tables, so
 * no caller lists episodes to count them, and the answer's size is bounded by the number of
 * groups and time buckets, never by the number of episodes.
 */
import type { Database } from 'sql.js';
import type { EpisodeGroups, InsightsOptions, MemoryInsights, OutcomeCounts, TimeBucket, TrendPoint, TrendSeries } from '../types';
import { OUTCOME_TYPES, PATTERN_KINDS } from '../types';
import { rowToPattern } from './rows';
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

/** Episode counts by domain and task type, and pattern counts by kind (the explorer's groups). */
export function episodeGroups(db: Database): EpisodeGroups {
  const groups = all(db, 'SELECT domain, task_type, COUNT(*) AS n FROM episodes GROUP BY domain, task_type ORDER BY domain, task_type').map((r) => ({
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
function trends(db: Database, column: 'task_type' | 'domain', bucketSql: string, since: string | undefined, maxSeries: number): TrendSeries[] {
  const where = `outcome_type IS NOT NULL${since ? ' AND ended_at >= ?' : ''}`;
  const params = since ? [since] : [];
  // The series with the most completed episodes; the rest are summed into "other" only in totals.
  const keys = all(db, `SELECT ${column} AS k, COUNT(*) AS n FROM episodes WHERE ${where} GROUP BY k ORDER BY n DESC, k LIMIT ?`, [...params, maxSeries]).map((r) => str(r.k));
  if (keys.length === 0) return [];
  const rows = all(
    db,
    `SELECT ${column} AS k, ${bucketSql} AS b, COUNT(*) AS n, SUM(outcome_type = 'success') AS ok, AVG(reward) AS r
       FROM episodes WHERE ${where} AND ${column} IN (${keys.map(() => '?').join(',')})
      GROUP BY k, b ORDER BY b`,
    [...params, ...keys],
  );
  const byKey = new Map<string, TrendPoint[]>(keys.map((k) => [k, []]));
  for (const r of rows) {
    const n = num(r.n);
    byKey.get(str(r.k))?.push({ start: str(r.b), completed: n, successRate: n ? num(r.ok) / n : 0, meanReward: r.r === null ? 0 : num(r.r) });
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
  const at = 'COALESCE(ended_at, started_at)';

  const range = one(db, `SELECT MIN(${at}) AS first, MAX(${at}) AS last FROM episodes${since ? ` WHERE ${at} >= ?` : ''}`, since ? [since] : []);
  const first = range?.first === null ? undefined : str(range?.first);
  const last = range?.last === null ? undefined : str(range?.last);
  const bucket = options.bucket !== 'auto' ? options.bucket : chooseBucket(first, last);
  const b = bucketExpr(bucket, at);

  const totals = emptyOutcomes();
  for (const r of all(db, `SELECT outcome_type AS o, COUNT(*) AS n FROM episodes${since ? ` WHERE ${at} >= ?` : ''} GROUP BY o`, since ? [since] : [])) totals[outcomeKey(r.o)] += num(r.n);

  const buckets = new Map<string, OutcomeCounts>();
  for (const r of all(db, `SELECT ${b} AS b, outcome_type AS o, COUNT(*) AS n FROM episodes${since ? ` WHERE ${at} >= ?` : ''} GROUP BY b, o ORDER BY b`, since ? [since] : [])) {
    const key = str(r.b);
    let counts = buckets.get(key);
    if (!counts) buckets.set(key, (counts = emptyOutcomes()));
    counts[outcomeKey(r.o)] += num(r.n);
  }
  const timeline = [...buckets].slice(-MAX_BUCKETS).map(([start, counts]) => ({ start, ...counts }));

  const reward = one(db, `SELECT AVG(reward) AS r, COALESCE(SUM(step_count), 0) AS steps FROM episodes${since ? ` WHERE ${at} >= ?` : ''}`, since ? [since] : []);
  const patterns = all(db, 'SELECT * FROM patterns ORDER BY occurrences DESC, successes DESC, key LIMIT ?', [topPatterns]).map(rowToPattern);
  const patternCount = num(one(db, 'SELECT COUNT(*) AS n FROM patterns')?.n);
  const pageCount = num(db.exec('PRAGMA page_count')[0]?.values[0][0]);
  const pageSize = num(db.exec('PRAGMA page_size')[0]?.values[0][0]);
  const episodes = Object.values(totals).reduce((s, n) => s + n, 0);

  return {
    generatedAt: new Date().toISOString(),
    bucket,
    ...(first ? { first } : {}),
    ...(last ? { last } : {}),
    totals: { episodes, completed: episodes - totals.in_progress, steps: num(reward?.steps), patterns: patternCount, ...(reward?.r === null || reward?.r === undefined ? {} : { meanReward: num(reward.r) }), byOutcome: totals },
    timeline,
    byTaskType: trends(db, 'task_type', bucketExpr(bucket, 'ended_at'), since, maxSeries),
    byDomain: trends(db, 'domain', bucketExpr(bucket, 'ended_at'), since, maxSeries),
    topPatterns: patterns.map((p) => ({ id: p.id, kind: p.kind, description: p.description, taskType: p.taskType, domain: p.domain, successRate: p.successRate, occurrences: p.occurrences })),
    size: { databaseBytes: pageCount * pageSize },
  };
}
