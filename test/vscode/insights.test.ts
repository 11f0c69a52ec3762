/**
 * The Insights panel, failing commands and cancelled imports in the real extension host: episodes
 * recorded over MCP reach the charts the webview (a real browser) draws, in light and dark themes.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AgentMemoryApi } from '../../src/extension';
import type { InsightsHandle } from '../../src/views/insights/panel';
import type { Failure } from '../../src/views/failures';
import { activateApi, call, connect, resolvedDefinition, screenshot, waitFor } from './helpers';

async function setTheme(theme: string): Promise<void> {
  await vscode.workspace.getConfiguration('workbench').update('colorTheme', theme, vscode.ConfigurationTarget.Global);
}

describe('Insights view', function () {
  this.timeout(120_000);
  let api: AgentMemoryApi;

  before(async () => {
    api = await activateApi();
  });

  after(async () => {
    await setTheme(undefined as unknown as string);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens from its command and draws the episodes recorded over MCP, in light and dark themes', async () => {
    const client = await connect(await resolvedDefinition(api));
    const outcomes = [
      { type: 'success', verdict: 'tests pass' },
      { type: 'success', verdict: 'works' },
      { type: 'failure', reason: 'could not reproduce' },
    ];
    const tasks = ['Chart the flaky payment webhook retries', 'Add a histogram of checkout latency', 'Explain the nightly export timeout'];
    try {
      for (const [i, task] of tasks.entries()) {
        const { episode_id } = (await call(client, 'create_episode', { task, domain: 'insights-test', task_type: i === 2 ? 'analysis' : 'code_generation' })) as { episode_id: string };
        await call(client, 'add_episode_step', { episode_id, tool: 'read_file', action: 'read the handler', result: { status: 'success' } });
        await call(client, 'add_episode_step', { episode_id, tool: 'run_tests', action: 'npm test', result: i === 2 ? { status: 'error', message: 'timeout' } : { status: 'success' } });
        await call(client, 'complete_episode', { episode_id, outcome: outcomes[i] });
      }
      await call(client, 'execute_agent_code', { code: 'return 6 * 7;', context: { task: 'insights sandbox run' } });
    } finally {
      await client.close();
    }
    const expected = await (await api.services.store()).insights();
    assert.ok(expected.totals.byOutcome.success >= 2 && expected.totals.byOutcome.failure >= 1);

    await setTheme('Default Light Modern');
    const handle = await vscode.commands.executeCommand<InsightsHandle>('agentMemory.showInsights');
    assert.equal(handle.panel.title, 'Agent Memory Insights');
    const light = await waitFor('charts with the recorded episodes', async () => {
      const charts = api.insights.drawnCharts ?? (await handle.drawn());
      const total = charts.outcomes?.datasets.reduce((n, d) => n + d.data.reduce<number>((s, v) => s + (v ?? 0), 0), 0);
      return total === expected.totals.episodes ? charts : undefined;
    }, 60_000);
    assert.ok(handle.firstPaintMs !== undefined && handle.firstPaintMs > 0, 'first paint not measured');
    // The outcomes chart: one stacked dataset per outcome, summing to the store's counts.
    const success = light.outcomes.datasets.find((d) => d.label === 'Success')!;
    assert.equal(success.data.reduce<number>((s, v) => s + (v ?? 0), 0), expected.totals.byOutcome.success);
    const failure = light.outcomes.datasets.find((d) => d.label === 'Failure')!;
    assert.equal(failure.data.reduce<number>((s, v) => s + (v ?? 0), 0), expected.totals.byOutcome.failure);
    assert.deepEqual(light.outcomes.labels, expected.timeline.map((p) => p.start));
    // Trend by task type, top patterns (success rates), sandbox runs, store size.
    assert.deepEqual(light.trend.datasets.map((d) => d.label).sort(), expected.byTaskType.map((s) => s.key).sort());
    assert.deepEqual(light.patterns.datasets[0].data, expected.topPatterns.map((p) => p.successRate));
    const runs = light.runs.datasets[0].data.reduce<number>((s, v) => s + (v ?? 0), 0);
    assert.ok(runs >= 1, `sandbox runs drawn: ${runs}`);
    assert.equal(light.size.datasets[0].data[0], expected.size.databaseBytes - expected.size.freeBytes, 'the Data bar is the database without its free pages');
    await screenshot('insights-light');

    // Live update: a new episode reaches the open panel without reopening it.
    const store = await api.services.store();
    const ep = await store.createEpisode({ task: 'Live update of the insights panel', domain: 'insights-test', taskType: 'testing' });
    await store.completeEpisode(ep.id, { outcome: { type: 'abstained', reason: 'only a test' } });
    await waitFor('the live update', () => {
      const abstained = api.insights.drawnCharts?.outcomes.datasets.find((d) => d.label === 'Abstained');
      return abstained && abstained.data.reduce<number>((s, v) => s + (v ?? 0), 0) === expected.totals.byOutcome.abstained + 1 ? true : undefined;
    });

    // The theme's colours: a dark theme redraws with other chart colours.
    await setTheme('Default Dark Modern');
    const dark = await waitFor('a redraw in the dark theme', () => {
      const c = api.insights.drawnCharts;
      return c && c.outcomes.datasets[0].color !== light.outcomes.datasets[0].color ? c : undefined;
    });
    assert.notEqual(dark.outcomes.datasets[0].color, light.outcomes.datasets[0].color);
    await screenshot('insights-dark');
  });
});

describe('Commands never leave the user stuck', function () {
  this.timeout(60_000);
  let api: AgentMemoryApi;

  before(async () => {
    api = await activateApi();
  });

  it('a failing command resolves and shows a message with Retry, Open Log and Open Settings', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const notJson = vscode.Uri.joinPath(folder, 'not-an-export.json');
    await vscode.workspace.fs.writeFile(notJson, Buffer.from('this is { not json'));
    const seen: Failure[] = [];
    const sub = api.failures.onDidReport((f) => seen.push(f));
    try {
      const result = await vscode.commands.executeCommand('agentMemory.importMemory', notJson);
      assert.equal(result, undefined);
      assert.equal(seen.length, 1);
      assert.match(seen[0].message, /^Agent Memory: Import Memory failed: .*not-an-export\.json is not JSON .* Nothing was changed\.$/s);
      assert.deepEqual(seen[0].actions, ['Retry', 'Open Log', 'Open Settings']);
    } finally {
      sub.dispose();
    }
  });

  it('a cancelled import changes nothing; a cancelled export writes no file', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const store = await api.services.store();
    await store.createEpisode({ task: 'An episode to export before the cancelled import', taskType: 'other' });
    const file = vscode.Uri.joinPath(folder, 'to-import.json');
    const data = await store.exportAll();
    data.episodes = data.episodes.map((e) => ({ ...e, id: `${e.id}_copy`, task: `${e.task} (copy)` }));
    await vscode.workspace.fs.writeFile(file, Buffer.from(JSON.stringify(data)));
    const before = await store.stats();
    const cancel = new vscode.CancellationTokenSource();
    cancel.cancel();
    assert.equal(await vscode.commands.executeCommand('agentMemory.importMemory', file, cancel.token), undefined);
    const after = await store.stats();
    assert.equal(after.episodes, before.episodes);
    assert.equal(after.sequence, before.sequence, 'a cancelled import wrote to the store');

    const target = vscode.Uri.joinPath(folder, 'cancelled-export.json');
    assert.equal(await vscode.commands.executeCommand('agentMemory.exportMemory', target, cancel.token), undefined);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(target)), 'a cancelled export wrote its file');

    // A file the cancelled export was to replace stays as it was.
    const earlier = vscode.Uri.joinPath(folder, 'earlier-export.jsonl');
    await vscode.workspace.fs.writeFile(earlier, Buffer.from('an earlier export\n'));
    assert.equal(await vscode.commands.executeCommand('agentMemory.exportMemory', earlier, cancel.token), undefined);
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(earlier)).toString('utf8'), 'an earlier export\n');

    // Not cancelled, the same import goes through.
    const imported = await vscode.commands.executeCommand<{ imported: number }>('agentMemory.importMemory', file);
    assert.equal(imported?.imported, data.episodes.length);
  });

  it('a long Run in Sandbox stops when cancelled, well before its time limit, and the next run works', async () => {
    const cancel = new vscode.CancellationTokenSource();
    const started = Date.now();
    setTimeout(() => cancel.cancel(), 300);
    const result = await vscode.commands.executeCommand<{ kind: string; errorType?: string }>('agentMemory.runInSandbox', 'const end = Date.now() + 600000; let n = 0; while (Date.now() < end) n++; return n;', cancel.token);
    const elapsed = Date.now() - started;
    assert.equal(result?.kind, 'error');
    assert.equal(result?.errorType, 'cancelled');
    const limit = api.services.sandbox().config.maxExecutionTimeMs;
    assert.ok(elapsed < limit, `cancelled after ${elapsed} ms; the time limit is ${limit} ms`);
    const next = await vscode.commands.executeCommand<{ kind: string; output?: string }>('agentMemory.runInSandbox', 'return 6 * 7');
    assert.equal(next?.kind, 'success');
    assert.equal(next?.output, '42');
  });

  it('Run in Sandbox shows its value, console and time in a result document the user can copy from', async () => {
    const result = await vscode.commands.executeCommand<{ kind: string }>('agentMemory.runInSandbox', 'console.log("hello from the sandbox"); return { answer: 42 };');
    assert.equal(result?.kind, 'success');
    // The document may be open from an earlier run: wait for this run's text.
    const doc = await waitFor('the result document', () =>
      vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'agent-memory' && d.uri.path.startsWith('/Sandbox Result') && d.getText().includes('hello from the sandbox')),
    );
    const text = doc.getText();
    assert.match(text, /success in [\d.]+ ms/);
    assert.match(text, /value: \{"answer":42\}/);
    assert.match(text, /hello from the sandbox/);
  });
});
