/**
 * The Insights aggregates as the store grows: `insights()` and `episodeGroups()` at 1k, 10k and
 * 30k episodes (BENCH_SIZES to change), against a baseline measured in the same run on the same
 * store: one GROUP BY scan of the episodes table (what the aggregates cost before they were kept
 * on write). Run by `npm run bench:views`. Prints one JSON object per line.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryStore, TASK_TYPES, type Episode, type OutcomeType } from '../src/memory';
import { sampleOutcome } from '../test/fixtures/outcomes';

const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,30000').split(',').map(Number);
const ROUNDS = 7;
const OUTCOMES: OutcomeType[] = ['success', 'partial_success', 'failure', 'abstained'];
const DAY = 86_400_000;

function episodes(from: number, n: number): Episode[] {
  const base = Date.parse('2026-01-05T09:00:00.000Z');
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    // Spread over 90 days, 12 domains; one in ten still in progress.
    const start = base + (i % 90) * DAY + (i % 24) * 3_600_000;
    const ep: Episode = {
      id: `ep_bench_${i}`,
      task: `bench task ${i} on the ${['parser', 'cache', 'router', 'importer'][i % 4]}`,
      domain: `domain-${i % 12}`,
      taskType: TASK_TYPES[i % TASK_TYPES.length],
      context: { tags: [] },
      startedAt: new Date(start).toISOString(),
      steps: [{ n: 1, timestamp: new Date(start).toISOString(), tool: ['read_file', 'run_tests', 'edit'][i % 3], action: 'work', parameters: {}, result: { status: 'success' } }],
    };
    if (i % 10 !== 0) {
      ep.endedAt = new Date(start + 60_000).toISOString();
      ep.outcome = sampleOutcome(OUTCOMES[i % 4]);
      ep.reward = (i % 100) / 100;
    }
    return ep;
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-insights-'));
  const store = await MemoryStore.open({ dir });
  const db = (store as unknown as { db: { exec(sql: string): unknown } }).db;
  const scan = (): unknown =>
    db.exec(`SELECT substr(COALESCE(ended_at, started_at), 1, 10) AS d, domain, task_type, outcome_type, COUNT(*), AVG(reward), SUM(step_count) FROM episodes GROUP BY 1, 2, 3, 4`);
  try {
    let have = 0;
    for (const size of SIZES) {
      while (have < size) {
        const n = Math.min(1000, size - have);
        await store.importAll({ format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes: episodes(have, n) });
        have += n;
      }
      const ins: number[] = [];
      const groups: number[] = [];
      const base: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // Interleaved, so all three see the same machine load.
        ins.push(await timed(() => store.insights()));
        groups.push(await timed(() => store.episodeGroups()));
        base.push(await timed(scan));
      }
      const m = { insights: median(ins), groups: median(groups), scan: median(base) };
      console.log(
        JSON.stringify({
          bench: 'insights',
          episodes: size,
          insights_ms: +m.insights.toFixed(2),
          episode_groups_ms: +m.groups.toFixed(2),
          baseline_scan_ms: +m.scan.toFixed(2),
          scan_over_insights: +(m.scan / m.insights).toFixed(1),
          rounds: ROUNDS,
          load: os.loadavg()[0].toFixed(1),
        }),
      );
    }
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
