import { z } from 'zod';
import { defineTool } from './define';
import { rethrowStore, round } from './common';

export const getMetricsInput = z.strictObject({});

export const getMetricsOutput = z.object({
  sandbox: z.object({
    total: z.number(),
    by_kind: z.record(z.string(), z.number()),
    p50_ms: z.number(),
    p95_ms: z.number(),
    active: z.number(),
    queued: z.number(),
    workers: z.number(),
    worker_restarts: z.number(),
  }),
  store: z.object({
    episodes: z.number(),
    completed_episodes: z.number(),
    steps: z.number(),
    patterns: z.number(),
    by_domain: z.record(z.string(), z.number()),
    by_outcome: z.record(z.string(), z.number()),
    database_bytes: z.number(),
    journal_bytes: z.number(),
    last_snapshot_at: z.string().optional(),
    read_only: z.boolean(),
  }),
  tool_usage: z.record(z.string(), z.number()).describe('Persisted call counts per tool.'),
});

/** Keeps the 30 largest entries of a count map (domains can be many). */
function topCounts(rec: Record<string, number>, n = 30): Record<string, number> {
  return Object.fromEntries(Object.entries(rec).sort((a, b) => b[1] - a[1]).slice(0, n));
}

export const getMetricsTool = defineTool({
  name: 'get_metrics',
  title: 'Metrics',
  tier: 'core',
  description: 'Sandbox statistics (runs by result, p50/p95 time, pool), store statistics (episodes, steps, patterns, size) and calls per tool.',
  input: getMetricsInput,
  output: getMetricsOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(_args, { store, sandbox }) {
    const m = sandbox.metrics();
    const [s, usage] = await Promise.all([store.stats(), store.toolUsage()]).catch((e: unknown) => rethrowStore(e));
    return {
      structured: {
        sandbox: {
          total: m.total,
          by_kind: { ...m.byKind },
          p50_ms: round(m.p50Ms),
          p95_ms: round(m.p95Ms),
          active: m.active,
          queued: m.queued,
          workers: m.workers,
          worker_restarts: m.workerRestarts,
        },
        store: {
          episodes: s.episodes,
          completed_episodes: s.completedEpisodes,
          steps: s.steps,
          patterns: s.patterns,
          by_domain: topCounts(s.byDomain),
          by_outcome: { ...s.byOutcome },
          database_bytes: s.databaseBytes,
          journal_bytes: s.journalBytes,
          ...(s.lastSnapshotAt ? { last_snapshot_at: s.lastSnapshotAt } : {}),
          read_only: s.readOnly,
        },
        tool_usage: topCounts(usage, 50),
      },
      text: `Sandbox: ${m.total} run(s), p50 ${round(m.p50Ms, 2)} ms. Store: ${s.episodes} episode(s), ${s.patterns} pattern(s), ${Math.round(s.databaseBytes / 1024)} KB.`,
    };
  },
});
