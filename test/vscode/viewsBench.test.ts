/**
 * `npm run bench:views`: activation, the Memory view's first paint and the Insights webview's first
 * paint at 10k episodes, in the real extension host (code-server) with the webview in a real
 * browser. Skipped in the test run (it needs AGENT_MEMORY_BENCH=1, which the bench script sets).
 *
 * View first paint = the tree data the workbench asks for on first show: the root (domains),
 * every domain's task types (domains open expanded) and the episodes of the groups that open
 * expanded (small ones). The baseline is
 * the counting the explorer did before (stats() and seven listings per domain), in the same run.
 */
import * as assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { AgentMemoryApi } from '../../src/extension';
import { TASK_TYPES, type Episode } from '../../src/memory';
import type { InsightsHandle } from '../../src/views/insights/panel';
import { activateApi, screenshot } from './helpers';
import { sampleOutcome } from '../fixtures/outcomes';
import { OUTPUT_MARKER } from './markers';

const EPISODES = Number(process.env.AGENT_MEMORY_BENCH_EPISODES ?? 10_000);
const ROUNDS = 5;

function report(line: string): void {
  console.log(`${OUTPUT_MARKER}${line}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function episodes(n: number): Episode[] {
  const base = Date.now() - 90 * 86_400_000;
  const outcomes = ['success', 'success', 'partial_success', 'failure', 'abstained'] as const;
  const tools = ['read_file', 'run_tests', 'edit_file', 'search', 'execute_agent_code'];
  return Array.from({ length: n }, (_, i) => {
    const start = base + Math.floor((i / n) * 90 * 86_400_000);
    const kind = outcomes[i % outcomes.length];
    const steps = Array.from({ length: 3 + (i % 4) }, (_, k) => ({
      n: k + 1,
      timestamp: new Date(start + k * 1000).toISOString(),
      tool: tools[(i + k) % tools.length],
      action: `step ${k} of task ${i}`,
      parameters: {},
      result: k === 1 && kind === 'failure' ? { status: 'error' as const, message: 'TypeError: x is undefined' } : { status: 'success' as const },
      latencyMs: 20 + ((i * 7 + k) % 300),
    }));
    return {
      id: `ep_bench_${i}`,
      task: `Bench task ${i}: ${['fix', 'add', 'refactor', 'test', 'document'][i % 5]} the ${['parser', 'router', 'cache', 'exporter', 'scheduler', 'renderer'][i % 6]} module ${i % 97}`,
      domain: ['web', 'cli', 'data', 'infra', 'docs', 'mobile'][i % 6],
      taskType: TASK_TYPES[i % TASK_TYPES.length],
      context: { language: 'typescript', tags: [] },
      startedAt: new Date(start).toISOString(),
      endedAt: new Date(start + 60_000).toISOString(),
      steps,
      outcome: sampleOutcome(kind),
      reward: (i % 100) / 100,
    } satisfies Episode;
  });
}

describe('bench: views at 10k episodes', function () {
  this.timeout(30 * 60_000);
  let api: AgentMemoryApi;

  before(async function () {
    if (process.env.AGENT_MEMORY_BENCH !== '1') this.skip();
    api = await activateApi();
    const store = await api.services.store();
    const started = Date.now();
    const seeded = await store.importAll({ format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes: episodes(EPISODES) });
    report(`seeded ${seeded.imported} episodes (${(await store.stats()).patterns} patterns) in ${Date.now() - started} ms`);
  });

  it('measures activation, the Memory view first paint and the Insights first paint', async () => {
    report(`activation: ${api.activationMs.toFixed(1)} ms (the store, sandbox and server start on first use)`);
    const tree = api.trees.episodes;
    const store = await api.services.store();
    const delay = monitorEventLoopDelay({ resolution: 1 });

    const paintTree = async (): Promise<number> => {
      const t0 = performance.now();
      let rows = 0;
      const roots = await tree.getChildren();
      for (const d of roots) {
        const types = await tree.getChildren(d);
        // As the workbench does: children of the groups that open expanded.
        for (const t of types) if (tree.getTreeItem(t).collapsibleState === vscode.TreeItemCollapsibleState.Expanded) rows += (await tree.getChildren(t)).length;
        rows += types.length;
      }
      rows += roots.length;
      assert.ok(rows > 0);
      return performance.now() - t0;
    };
    const countTheOldWay = async (): Promise<number> => {
      const t0 = performance.now();
      const stats = await store.stats();
      for (const domain of Object.keys(stats.byDomain)) {
        for (const taskType of TASK_TYPES) await store.listEpisodes({ domain, taskType, limit: 1 });
      }
      return performance.now() - t0;
    };
    const tree1: number[] = [];
    const old1: number[] = [];
    delay.enable();
    for (let r = 0; r < ROUNDS; r++) {
      // Interleaved, so both see the same machine load.
      tree1.push(await paintTree());
      old1.push(await countTheOldWay());
    }
    delay.disable();
    const groupsMs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      await store.episodeGroups();
      groupsMs.push(performance.now() - t0);
    }
    report(`Memory view first paint (root, domains, task types, episodes of the groups shown expanded): median ${median(tree1).toFixed(1)} ms of ${ROUNDS}`);
    report(`  counts alone: episodeGroups() median ${median(groupsMs).toFixed(1)} ms; the old counting (stats + 7 listings per domain) median ${median(old1).toFixed(1)} ms (${(median(old1) / median(groupsMs)).toFixed(1)}x)`);
    report(`  extension host event loop delay while painting: max ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`);

    const insightsMs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      await store.insights();
      insightsMs.push(performance.now() - t0);
    }
    report(`  store insights() (all chart data): median ${median(insightsMs).toFixed(1)} ms`);

    const paints: number[] = [];
    for (let r = 0; r < 3; r++) {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await new Promise((res) => setTimeout(res, 500));
      const handle = await vscode.commands.executeCommand<InsightsHandle>('agentMemory.showInsights');
      await handle.drawn();
      assert.ok(handle.firstPaintMs !== undefined);
      paints.push(handle.firstPaintMs);
    }
    report(`Insights webview first paint (panel created → charts drawn, reported by the webview): median ${median(paints).toFixed(0)} ms of 3 (${paints.map((p) => p.toFixed(0)).join(', ')})`);
    await screenshot('insights-10k');
  });
});
