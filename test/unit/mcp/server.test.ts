import * as assert from 'node:assert/strict';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '../../../src/common/logger';
import { MemoryStore } from '../../../src/memory';
import { ADVANCED_TOOL_NAMES, CORE_TOOL_NAMES, SERVER_NAME } from '../../../src/mcp';
import { call, inMemoryClient, ok, openRealParts, textOf, type RealParts } from './helpers';

describe('mcp: server behaviour (real store and sandbox)', function () {
  this.timeout(60_000);
  let parts: RealParts;
  beforeEach(async () => {
    parts = await openRealParts();
  });
  afterEach(async () => parts.dispose());

  it('is named agent-memory (≤ 13 chars), declares tools.listChanged and gives instructions', async () => {
    const { client, close } = await inMemoryClient(parts);
    try {
      assert.equal(SERVER_NAME, 'agent-memory');
      assert.ok(SERVER_NAME.length <= 13);
      assert.equal(client.getServerVersion()?.name, 'agent-memory');
      assert.equal(client.getServerCapabilities()?.tools?.listChanged, true);
      assert.match(client.getInstructions() ?? '', /query_memory/);
    } finally {
      await close();
    }
  });

  it('lists core tools only by default, every tool with schemas, a title and the right annotations', async () => {
    const { client, close } = await inMemoryClient(parts);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), [...CORE_TOOL_NAMES].sort());
      for (const t of tools) {
        assert.ok(t.title && t.description && t.description.length > 40, t.name);
        assert.equal(t.inputSchema.type, 'object');
        assert.equal(t.outputSchema?.type, 'object');
      }
      const byName = new Map(tools.map((t) => [t.name, t]));
      for (const n of ['query_memory', 'get_episode', 'analyze_patterns', 'get_metrics', 'health_check']) assert.equal(byName.get(n)?.annotations?.readOnlyHint, true, n);
      assert.equal(byName.get('create_episode')?.annotations?.readOnlyHint, false);
      assert.deepEqual(byName.get('query_memory')?.inputSchema.required, ['query']);
      await ok(client, 'discover_tools');
      const all = (await client.listTools()).tools;
      assert.equal(all.find((t) => t.name === 'delete_episode')?.annotations?.destructiveHint, true);
      assert.equal(all.length, CORE_TOOL_NAMES.length + ADVANCED_TOOL_NAMES.length);
    } finally {
      await close();
    }
  });

  it('orders tools/list by persisted usage, across sessions and store reopen', async () => {
    const a = await inMemoryClient(parts);
    for (let i = 0; i < 3; i++) await ok(a.client, 'get_metrics');
    for (let i = 0; i < 2; i++) await ok(a.client, 'health_check');
    const first = (await a.client.listTools()).tools.map((t) => t.name);
    assert.deepEqual(first.slice(0, 2), ['get_metrics', 'health_check']);
    assert.equal(first[2], 'query_memory', 'unused tools keep the default order');
    await a.close();

    // reopen the store: counters persisted
    await parts.store.close();
    parts.store = await MemoryStore.open({ dir: parts.dir, logger: silentLogger });
    const usage = await parts.store.toolUsage();
    assert.equal(usage.get_metrics, 3);
    assert.equal(usage.health_check, 2);
    const b = await inMemoryClient(parts);
    try {
      assert.deepEqual((await b.client.listTools()).tools.map((t) => t.name).slice(0, 2), ['get_metrics', 'health_check']);
    } finally {
      await b.close();
    }
  });

  it('discover_tools sends one list_changed, enables by name, and refuses unknown names', async () => {
    const { client, close } = await inMemoryClient(parts);
    let notified = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void notified++);
    try {
      const bad = await call(client, 'discover_tools', { tools: ['list_episodes', 'rm_rf'] });
      assert.equal(bad.isError, true);
      assert.match(textOf(bad), /unknown advanced tool\(s\) "rm_rf"/);
      const one = await ok<{ enabled: string[] }>(client, 'discover_tools', { tools: ['list_episodes'] });
      assert.deepEqual(one.enabled, ['list_episodes']);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(notified, 1);
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('list_episodes') && !names.includes('delete_episode'));
      const rest = await ok<{ enabled: string[] }>(client, 'discover_tools');
      assert.deepEqual(rest.enabled.sort(), ['delete_episode', 'export_memory']);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(notified, 2, 'several tools enabled at once → one debounced notification');
      const again = await ok<{ enabled: string[] }>(client, 'discover_tools');
      assert.deepEqual(again.enabled, []);
    } finally {
      await close();
    }
  });

  it('unknown tool and hidden tool calls are clear isError results', async () => {
    const { client, close } = await inMemoryClient(parts);
    try {
      const u = await call(client, 'no_such_tool', {});
      assert.equal(u.isError, true);
      assert.match(textOf(u), /Unknown tool "no_such_tool"\. Available tools: /);
      const h = await call(client, 'export_memory', {});
      assert.equal(h.isError, true);
      assert.match(textOf(h), /call discover_tools/);
    } finally {
      await close();
    }
  });

  it('a failed call writes nothing: completed episodes refuse steps and runs, unknown ids are clear', async () => {
    const { client, close } = await inMemoryClient(parts);
    try {
      const { episode_id } = await ok<{ episode_id: string }>(client, 'create_episode', { task: 'Write docs for the CLI', task_type: 'documentation' });
      await ok(client, 'complete_episode', { episode_id, outcome: { type: 'abstained', reason: 'out of scope' } });
      const snapshot = JSON.stringify(await parts.store.getEpisode(episode_id));
      const metricsBefore = parts.sandbox.metrics().total;

      const twice = await call(client, 'complete_episode', { episode_id, outcome: { type: 'success', verdict: 'x' } });
      assert.equal(twice.isError, true);
      assert.match(textOf(twice), /already completed/);
      const step = await call(client, 'add_episode_step', { episode_id, tool: 't', action: 'a', result: { status: 'success' } });
      assert.equal(step.isError, true);
      const run = await call(client, 'execute_agent_code', { code: 'return 1', context: { task: 't' }, episode_id });
      assert.equal(run.isError, true);
      assert.match(textOf(run), /already completed/);
      assert.equal(parts.sandbox.metrics().total, metricsBefore, 'the code was not run');
      assert.equal(JSON.stringify(await parts.store.getEpisode(episode_id)), snapshot);

      for (const [tool, args] of [
        ['add_episode_step', { episode_id: 'missing-id', tool: 't', action: 'a', result: { status: 'success' } }],
        ['complete_episode', { episode_id: 'missing-id', outcome: { type: 'success', verdict: 'v' } }],
        ['execute_agent_code', { code: 'return 1', context: { task: 't' }, episode_id: 'missing-id' }],
      ] as const) {
        const r = await call(client, tool, args);
        assert.equal(r.isError, true, tool);
        assert.match(textOf(r), /Unknown episode_id "missing-id"/, tool);
      }
      assert.equal((await parts.store.stats()).episodes, 1);
    } finally {
      await close();
    }
  });

  it('keeps answers bounded and says what was cut (paging for more)', async () => {
    const { client, close } = await inMemoryClient(parts, { maxResponseChars: 4000 });
    try {
      const long = 'Investigate the flaky integration test in the payment service '.repeat(40);
      const { episode_id } = await ok<{ episode_id: string }>(client, 'create_episode', { task: long, task_type: 'testing' });
      for (let i = 0; i < 30; i++) await ok(client, 'add_episode_step', { episode_id, tool: 'run', action: `attempt ${i} ${'x'.repeat(200)}`, result: { status: 'error', message: 'e'.repeat(1500) } });
      const r = await call(client, 'get_episode', { episode_id, steps_limit: 30 });
      assert.ok(!r.isError, textOf(r));
      const text = textOf(r);
      assert.ok(text.length <= 4000, `text ${text.length}`);
      assert.match(text, /Answer shortened to stay bounded/);
      const sc = r.structuredContent as { truncated?: string[]; episode: { step_count: number } };
      assert.ok(sc.truncated && sc.truncated.length > 0);
      assert.equal(sc.episode.step_count, 30);

      const run = await ok<{ kind: string; output: string; truncated?: string[] }>(client, 'execute_agent_code', { code: 'return "y".repeat(100000)', context: { task: 'big' } });
      assert.equal(run.kind, 'success');
      assert.ok(run.output.length < 4000);
      assert.ok(run.truncated);
    } finally {
      await close();
    }
  });

  it('export_memory pages within the answer bound and skips no episode when they are long', async () => {
    const { client, close } = await inMemoryClient(parts, { maxResponseChars: 6000 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const ep = await parts.store.createEpisode({ task: `Episode ${i}: ${'trace the slow checkout request '.repeat(12)}`, taskType: 'analysis' });
        await parts.store.addStep(ep.id, { tool: 'profile', action: `sample ${i}`, result: { status: 'success', output: 'o'.repeat(400) } });
        ids.push(ep.id);
      }
      await ok(client, 'discover_tools', { tools: ['export_memory'] });
      const seen: string[] = [];
      let pages = 0;
      for (let offset: number | undefined = 0; offset !== undefined; pages++) {
        const r = await call(client, 'export_memory', { limit: 100, offset });
        assert.ok(!r.isError, textOf(r));
        assert.ok(textOf(r).length <= 6000, `answer of ${textOf(r).length} chars`);
        const page = r.structuredContent as { episodes: { episode_id: string; steps: unknown[] }[]; next_offset?: number; truncated?: string[]; total: number };
        assert.equal(page.truncated, undefined, 'nothing cut from the page');
        assert.ok(page.episodes.length >= 1 && page.episodes.length < 12);
        for (const e of page.episodes) assert.equal(e.steps.length, 1);
        seen.push(...page.episodes.map((e) => e.episode_id));
        assert.equal(page.total, 12);
        offset = page.next_offset;
        if (offset !== undefined) assert.equal(offset, seen.length);
      }
      assert.ok(pages > 1);
      assert.deepEqual([...seen].sort(), [...ids].sort(), 'every episode exported exactly once');
    } finally {
      await close();
    }
  });

  it('sandbox results of every kind come back as results, and refusals are not protocol errors', async () => {
    const { client, close } = await inMemoryClient(parts);
    try {
      const syntax = await ok<{ kind: string; error_type: string }>(client, 'execute_agent_code', { code: 'return (', context: { task: 's' } });
      assert.equal(syntax.kind, 'error');
      assert.equal(syntax.error_type, 'syntax');
      const fsTry = await ok<{ kind: string }>(client, 'execute_agent_code', { code: 'const fs = require("fs"); return fs.readFileSync("/etc/passwd", "utf8")', context: { task: 'fs' } });
      assert.ok(fsTry.kind === 'security_violation' || fsTry.kind === 'error', fsTry.kind);
      const guestBadArg = await ok<{ kind: string; message: string }>(client, 'execute_agent_code', { code: 'return await memory.query({ limit: 5 })', context: { task: 'bad memory arg' } });
      assert.equal(guestBadArg.kind, 'error');
      assert.match(guestBadArg.message, /memory\.query: invalid argument: "query"/);
      const writeTry = await ok<{ kind: string }>(client, 'execute_agent_code', { code: 'return typeof memory.createEpisode', context: { task: 'read-only' } });
      assert.equal(writeTry.kind, 'success');
    } finally {
      await close();
    }
  });

  it('an episode resource renders one bounded page of steps and says how to page through the rest', async () => {
    const startedAt = new Date().toISOString();
    const steps = Array.from({ length: 1003 }, (_, i) => ({ n: i + 1, timestamp: startedAt, tool: 'run_tests', action: `run ${i + 1}`, parameters: {}, result: { status: 'success' as const } }));
    const episode = { id: 'ep_long_one', task: 'A very long episode', domain: 'general', taskType: 'testing' as const, context: { tags: [] }, startedAt, steps };
    await parts.store.importAll({ format: 'agent-memory-export', version: 1, exportedAt: startedAt, episodes: [episode] });
    const { client, close } = await inMemoryClient(parts);
    try {
      const text = ((await client.readResource({ uri: `memory://episodes/${episode.id}` })).contents[0] as { text: string }).text;
      assert.match(text, /1003 steps/);
      assert.match(text, /^1000\. `run_tests` run 1000 → ok$/m);
      assert.doesNotMatch(text, /^1001\. /m);
      assert.match(text, /Steps 1001-1003 are not shown: get_episode with steps_offset 1000 pages through them\./);
    } finally {
      await close();
    }
  });
});
