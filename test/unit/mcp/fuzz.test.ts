import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ALL_TOOLS } from '../../../src/mcp';
import { call, inMemoryClient, ok, openRealParts, textOf, type RealParts } from './helpers';

type Json = Record<string, unknown>;

/** Every path (as key lists) inside a plain JSON object, nested objects included. */
function pathsOf(value: Json, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(value)) {
    out.push([...prefix, k]);
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(...pathsOf(v as Json, [...prefix, k]));
  }
  return out;
}

function mutate(base: Json, path: string[], op: 'delete' | 'set', value: unknown): Json {
  const copy = structuredClone(base);
  let cur: Json = copy;
  for (const key of path.slice(0, -1)) cur = cur[key] as Json;
  const last = path[path.length - 1];
  if (op === 'delete') delete cur[last];
  else cur[last] = value;
  return copy;
}

describe('mcp: argument fuzzing (real store and sandbox)', function () {
  this.timeout(180_000);
  let parts: RealParts;
  let client: Client;
  let close: () => Promise<void>;
  let bases: Record<string, Json>;

  before(async () => {
    parts = await openRealParts();
    ({ client, close } = await inMemoryClient(parts, { disclosure: 'all' }));
    const { episode_id } = await ok<{ episode_id: string }>(client, 'create_episode', { task: 'Fuzz target episode', task_type: 'testing' });
    await ok(client, 'add_episode_step', { episode_id, tool: 'npm test', action: 'run tests', result: { status: 'success' } });
    bases = {
      query_memory: { query: 'fuzz', domain: 'general', task_type: 'testing', limit: 5, offset: 0 },
      create_episode: { task: 'a task', domain: 'web', task_type: 'debugging', context: { language: 'ts', complexity: 'simple', tags: ['x'] } },
      add_episode_step: { episode_id, tool: 'edit', action: 'edit a file', parameters: { a: 1 }, result: { status: 'error', message: 'm' }, latency_ms: 3, tokens_used: 10 },
      complete_episode: { episode_id, outcome: { type: 'failure', reason: 'r', details: 'd' }, reflection: { successes: [], improvements: ['i'], insights: [] } },
      get_episode: { episode_id, steps_offset: 0, steps_limit: 10 },
      analyze_patterns: { task_type: 'testing', domain: 'general', min_success_rate: 0.5, limit: 5 },
      execute_agent_code: { code: 'return 1', context: { task: 't', input: { n: 1 } }, language: 'javascript', episode_id },
      get_metrics: {},
      health_check: {},
      discover_tools: { tools: ['list_episodes'] },
      list_episodes: { domain: 'general', task_type: 'testing', outcome: 'success', limit: 5, offset: 0 },
      delete_episode: { episode_id },
      export_memory: { limit: 5, offset: 0 },
    };
    assert.deepEqual(Object.keys(bases).sort(), ALL_TOOLS.map((t) => t.name).sort(), 'a base for every tool');
    for (const tool of ALL_TOOLS) assert.ok(tool.input.safeParse(bases[tool.name]).success, `base for ${tool.name} is valid`);
  });
  after(async () => {
    await close();
    await parts.dispose();
  });

  it('1,300 invalid argument sets across all tools: each a clean isError naming the problem; server alive; store unchanged', async () => {
    const before = { episodes: JSON.stringify((await parts.store.exportAll()).episodes), stats: await parts.store.stats(), usage: await parts.store.toolUsage() };
    const toolNames = ALL_TOOLS.map((t) => t.name);
    const schemas = new Map(ALL_TOOLS.map((t) => [t.name, t.input]));

    const invalidArgs = fc
      .record({
        tool: fc.constantFrom(...toolNames),
        kind: fc.constantFrom('wrong-value', 'delete', 'extra-key', 'random-object'),
        pick: fc.nat(),
        value: fc.oneof(
          fc.anything({ maxDepth: 2 }),
          fc.string({ maxLength: 5 }),
          fc.integer({ min: -1e9, max: 1e9 }),
          fc.double(),
          fc.constantFrom('', '   ', null, -1, 51, 1e12, 1.5, true, [], {}, 'not_a_type', 'x'.repeat(300_000)),
        ),
        key: fc.string({ minLength: 1, maxLength: 12 }),
        random: fc.dictionary(fc.string({ maxLength: 10 }), fc.anything({ maxDepth: 2 }), { maxKeys: 4 }),
      })
      .map(({ tool, kind, pick, value, key, random }) => {
        const base = bases[tool];
        const paths = pathsOf(base);
        let args: Json;
        if (kind === 'random-object' || paths.length === 0) args = kind === 'random-object' ? random : { ...base, [key]: value };
        else if (kind === 'extra-key') args = { ...base, [`${key}_extra`]: value };
        else args = mutate(base, paths[pick % paths.length], kind === 'delete' ? 'delete' : 'set', value);
        return { tool, args };
      })
      .filter(({ tool, args }) => !schemas.get(tool)!.safeParse(args).success);

    let n = 0;
    await fc.assert(
      fc.asyncProperty(invalidArgs, async ({ tool, args }) => {
        n++;
        const r = await call(client, tool, args);
        assert.equal(r.isError, true, `${tool} ${JSON.stringify(args).slice(0, 200)} → ${textOf(r).slice(0, 200)}`);
        const text = textOf(r);
        assert.ok(text.startsWith(`Invalid arguments for ${tool}: `), text.slice(0, 300));
        assert.match(text, /("[^"]+"|arguments): /, 'names the field');
        assert.ok(text.length < 4000, 'error text stays short');
        assert.equal(r.structuredContent, undefined);
      }),
      { numRuns: 1300, seed: 20251127 },
    );
    assert.ok(n >= 1300, `${n} invalid sets tried`);

    // still answering, nothing written (episodes, stats, usage counters)
    const health = await ok<{ status: string }>(client, 'health_check');
    assert.equal(health.status, 'ok');
    const afterUsage = await parts.store.toolUsage();
    assert.equal(JSON.stringify((await parts.store.exportAll()).episodes), before.episodes);
    const stats = await parts.store.stats();
    assert.equal(stats.episodes, before.stats.episodes);
    assert.equal(stats.steps, before.stats.steps);
    assert.equal(stats.patterns, before.stats.patterns);
    assert.equal(afterUsage.health_check, (before.usage.health_check ?? 0) + 1, 'only the valid health_check counted');
    for (const t of toolNames) if (t !== 'health_check') assert.equal(afterUsage[t] ?? 0, before.usage[t] ?? 0, `usage of ${t} unchanged`);
  });
});
