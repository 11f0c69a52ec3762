/** The whole tool flow, run by the flow tests against each transport. */
import * as assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { call, ok, textOf } from './helpers';

export async function runWholeFlow(client: Client): Promise<void> {
  const info = client.getServerVersion();
  assert.equal(info?.name, 'agent-memory');

  let listChanged = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    listChanged++;
  });

  const listed = (await client.listTools()).tools.map((t) => t.name);
  for (const name of ['query_memory', 'create_episode', 'add_episode_step', 'complete_episode', 'get_episode', 'analyze_patterns', 'execute_agent_code', 'get_metrics', 'health_check', 'discover_tools']) {
    assert.ok(listed.includes(name), `${name} listed`);
  }
  for (const name of ['list_episodes', 'delete_episode', 'export_memory']) assert.ok(!listed.includes(name), `${name} hidden by default`);

  // create -> steps -> complete, twice, so patterns have evidence.
  const ids: string[] = [];
  const tasks = ['Fix the crash when parsing the YAML config file', 'Repair the YAML config loader failing on empty sections'];
  for (let i = 0; i < 2; i++) {
    const { episode_id } = await ok<{ episode_id: string }>(client, 'create_episode', {
      task: tasks[i],
      domain: 'cli-tools',
      task_type: 'debugging',
      context: { language: 'typescript', tags: ['yaml', 'config'] },
    });
    ids.push(episode_id);
    await ok(client, 'add_episode_step', { episode_id, tool: 'read_file', action: 'read the config loader', result: { status: 'success', output: 'loader.ts' }, latency_ms: 12 });
    await ok(client, 'add_episode_step', { episode_id, tool: 'run_tests', action: 'reproduce the crash', result: { status: 'error', message: 'TypeError: cannot read properties of undefined' } });
    const step = await ok<{ step_number: number }>(client, 'add_episode_step', { episode_id, tool: 'edit_file', action: 'guard against a missing section', parameters: { file: 'loader.ts' }, result: { status: 'success' } });
    assert.equal(step.step_number, 3);
    const done = await ok<{ episode_id: string; reward: number; reflection: { insights: string[] }; patterns: unknown[] }>(client, 'complete_episode', {
      episode_id,
      outcome: { type: 'success', verdict: 'crash fixed, tests pass' },
    });
    assert.ok(done.reward > 0 && done.reward <= 1, `reward ${done.reward}`);
    assert.ok(Array.isArray(done.reflection.insights));
    assert.equal(done.episode_id, episode_id, 'answers with the id it was given');
  }

  const q = await ok<{ hits: { episode_id: string; score: number; why: string[] }[]; total: number }>(client, 'query_memory', { query: 'YAML config parsing crash', limit: 5 });
  assert.ok(q.total >= 2, `query total ${q.total}`);
  assert.ok(ids.includes(q.hits[0].episode_id));
  assert.ok(q.hits[0].why.length > 0);
  // An agent's alternative wording finds what its own words miss.
  const alt = await ok<{ hits: { episode_id: string; why: string[] }[] }>(client, 'query_memory', { query: 'settings file blows up on load', alternatives: ['YAML parsing crash', 'TypeError in config loader'], limit: 5 });
  assert.ok(ids.includes(alt.hits[0]?.episode_id), JSON.stringify(alt.hits));

  const got = await ok<{ episode: { steps: unknown[]; outcome: { type: string } } }>(client, 'get_episode', { episode_id: ids[0] });
  assert.equal(got.episode.steps.length, 3);
  assert.equal(got.episode.outcome.type, 'success');

  const analysis = await ok<{ patterns: unknown[]; heuristics: unknown[] }>(client, 'analyze_patterns', { task_type: 'debugging', min_success_rate: 0 });
  assert.ok(Array.isArray(analysis.patterns) && Array.isArray(analysis.heuristics));

  // execute with `memory` used inside the sandbox, recorded in an open episode.
  const open = await ok<{ episode_id: string }>(client, 'create_episode', { task: 'Summarise past YAML fixes', task_type: 'analysis' });
  const exec = await ok<{ kind: string; output: string; step_number: number; episode_id: string }>(client, 'execute_agent_code', {
    code: `
      const r = await memory.query({ query: context.input.q, limit: 5 });
      const first = r.hits[0];
      const ep = await memory.getEpisode(first.episode_id);
      const pats = await memory.analyzePatterns({ min_success_rate: 0 });
      return { total: r.total, first: first.episode_id, steps: ep.steps.length, patterns: Array.isArray(pats.patterns) };
    `,
    context: { task: 'find YAML fixes', input: { q: 'YAML config crash' } },
    episode_id: open.episode_id,
  });
  assert.equal(exec.kind, 'success', JSON.stringify(exec));
  const value = JSON.parse(exec.output) as { total: number; first: string; steps: number; patterns: boolean };
  assert.ok(value.total >= 2);
  assert.ok(ids.includes(value.first));
  assert.equal(value.steps, 3);
  assert.equal(value.patterns, true);
  assert.equal(exec.step_number, 1);
  const openEp = await ok<{ episode: { steps: { tool: string }[] } }>(client, 'get_episode', { episode_id: open.episode_id });
  assert.equal(openEp.episode.steps[0].tool, 'execute_agent_code');

  // TypeScript and a guest error come back as results, not failures.
  const ts = await ok<{ kind: string; output: string }>(client, 'execute_agent_code', { code: 'const n: number = 40 + 2; return n;', context: { task: 'ts' }, language: 'typescript' });
  assert.equal(ts.kind, 'success');
  assert.equal(JSON.parse(ts.output), 42);
  const bad = await ok<{ kind: string; error_type: string }>(client, 'execute_agent_code', { code: 'throw new Error("boom")', context: { task: 'err' } });
  assert.equal(bad.kind, 'error');

  // unknown episode id is a clear error
  const unknown = await call(client, 'get_episode', { episode_id: 'no-such-episode' });
  assert.equal(unknown.isError, true);
  assert.match(textOf(unknown), /Unknown episode_id "no-such-episode"/);

  const metrics = await ok<{ sandbox: { total: number }; store: { episodes: number }; tool_usage: Record<string, number> }>(client, 'get_metrics');
  assert.ok(metrics.sandbox.total >= 3);
  assert.ok(metrics.store.episodes >= 3);
  assert.ok((metrics.tool_usage.create_episode ?? 0) >= 3);
  const health = await ok<{ status: string }>(client, 'health_check');
  assert.equal(health.status, 'ok');

  // progressive disclosure: discover_tools enables the advanced tools and sends list_changed
  const disabledCall = await call(client, 'list_episodes', {});
  assert.equal(disabledCall.isError, true);
  assert.match(textOf(disabledCall), /discover_tools/);
  const disc = await ok<{ enabled: string[] }>(client, 'discover_tools');
  assert.deepEqual([...disc.enabled].sort(), ['delete_episode', 'export_memory', 'list_episodes']);
  for (let i = 0; i < 100 && listChanged === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(listChanged >= 1, 'notifications/tools/list_changed received');
  const after = (await client.listTools()).tools.map((t) => t.name);
  for (const name of ['list_episodes', 'delete_episode', 'export_memory']) assert.ok(after.includes(name), `${name} listed after discover_tools`);
  const page = await ok<{ episodes: unknown[]; total: number }>(client, 'list_episodes', { limit: 2 });
  assert.equal(page.episodes.length, 2);
  assert.ok(page.total >= 3);
  const exp = await ok<{ episodes: unknown[]; total: number }>(client, 'export_memory', { limit: 1 });
  assert.equal(exp.episodes.length, 1);
  await ok(client, 'delete_episode', { episode_id: open.episode_id });
  const gone = await call(client, 'delete_episode', { episode_id: open.episode_id });
  assert.equal(gone.isError, true);
}
