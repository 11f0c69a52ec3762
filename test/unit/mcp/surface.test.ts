/**
 * The MCP surface clients see (listing, errors, resources, prompts,
 * notifications), through the SDK client over both real transports: Streamable
 * HTTP to `startHttpServer` and stdio to the built `memory-mcp` bin.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type CallToolResult,
  type EmbeddedResource,
  type ResourceLink,
  type TextResourceContents,
} from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CORE_TOOL_NAMES, SERVER_VERSION } from '../../../src/mcp';
import { TASK_TYPES } from '../../../src/memory/types';
import { call, httpClient, ok, openRealParts, ROOT, stdioClient, tempDir, textOf, type ConnectedClient, type RealParts } from './helpers';

const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Transport {
  name: string;
  connect(): Promise<ConnectedClient>;
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

function transports(): Transport[] {
  let parts: RealParts | undefined;
  let dir = '';
  return [
    {
      name: 'Streamable HTTP',
      setup: async () => void (parts = await openRealParts()),
      teardown: async () => parts?.dispose(),
      connect: () => httpClient(parts!),
    },
    {
      name: 'stdio (built bin)',
      setup: () => Promise.resolve(void (dir = tempDir())),
      teardown: () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })),
      connect: () => stdioClient(dir),
    },
  ];
}

async function recordEpisode(client: Client, task: string, extra: Record<string, unknown> = {}): Promise<string> {
  const { episode_id } = await ok<{ episode_id: string }>(client, 'create_episode', { task, task_type: 'debugging', domain: 'cli-tools', ...extra });
  return episode_id;
}

async function addSteps(client: Client, id: string): Promise<void> {
  await ok(client, 'add_episode_step', { episode_id: id, tool: 'read_file', action: 'read the YAML loader', parameters: { file: 'loader.ts' }, result: { status: 'success', output: 'loader.ts' } });
  await ok(client, 'add_episode_step', { episode_id: id, tool: 'run_tests', action: 'reproduce the crash', result: { status: 'error', message: 'TypeError: cannot read properties of undefined' } });
  await ok(client, 'add_episode_step', { episode_id: id, tool: 'run_tests', action: 'rerun after the guard', result: { status: 'success', output: '12 passing' } });
}

function textOfResource(r: { contents: unknown[] }): string {
  return (r.contents[0] as TextResourceContents).text;
}

async function rpcError(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (error) {
    return error as { code: number; message: string };
  }
  throw new Error('expected an error');
}

/** Resolves once `predicate` holds (notifications arrive asynchronously). */
async function eventually(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const transport of transports()) {
  describe(`mcp surface over ${transport.name}`, function () {
    this.timeout(60_000);
    let c: ConnectedClient;
    before(async () => {
      await transport.setup();
      c = await transport.connect();
    });
    after(async () => {
      await c?.close();
      await transport.teardown();
    });

    it('lists the core tools in ≤ 12,000 characters, with the package version and the shared guidance in the instructions', async () => {
      const { tools } = await c.client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), [...CORE_TOOL_NAMES].sort());
      const size = JSON.stringify({ tools }).length;
      assert.ok(size <= 12_000, `tools/list is ${size} characters`);
      assert.equal(SERVER_VERSION, PACKAGE_VERSION);
      assert.equal(c.client.getServerVersion()?.version, PACKAGE_VERSION);
      const instructions = c.client.getInstructions() ?? '';
      for (const phrase of ['next_offset', 'truncated', 'memory://episodes/{episode_id}']) assert.ok(instructions.includes(phrase), phrase);
      for (const t of tools) assert.equal(JSON.stringify(t).includes('$schema'), false, t.name);
    });

    it('answers bad arguments (validated by the SDK against the zod schema) naming the field, the value and the parameters', async () => {
      const r = await call(c.client, 'query_memory', { query: 5, limit: 500 });
      assert.equal(r.isError, true);
      const text = textOf(r);
      assert.match(text, /^Invalid arguments for query_memory: /);
      assert.match(text, /"query": expected string, got number 5/);
      assert.match(text, /"limit": must be at most 50, got number 500/);
      assert.match(text, /Parameters: query, alternatives\?, domain\?, task_type\?, limit\?, offset\?\./);
      assert.doesNotMatch(text, /MCP error|Input validation error/);
      const extra = await call(c.client, 'create_episode', { task: 'x', task_type: 'debugging', colour: 'red' });
      assert.match(textOf(extra), /unknown field "colour"/);
    });

    it('tool results that name episodes carry resource_links to memory://episodes/{id}', async () => {
      const created = (await c.client.callTool({ name: 'create_episode', arguments: { task: 'Link the episode resource', task_type: 'testing' } })) as CallToolResult;
      const id = (created.structuredContent as { episode_id: string }).episode_id;
      const link = created.content.find((x): x is ResourceLink => x.type === 'resource_link');
      assert.ok(link, 'create_episode carries a link');
      assert.equal(link.uri, `memory://episodes/${id}`);
      assert.equal(link.mimeType, 'text/markdown');
      assert.equal(link.name, `episode ${id}`);
      await ok(c.client, 'add_episode_step', { episode_id: id, tool: 'edit_file', action: 'write it', result: { status: 'success' } });
      await ok(c.client, 'complete_episode', { episode_id: id, outcome: { type: 'success', verdict: 'done' } });
      const q = (await c.client.callTool({ name: 'query_memory', arguments: { query: 'episode resource link' } })) as CallToolResult;
      const links = q.content.filter((x) => x.type === 'resource_link');
      const hit = links.find((l): l is ResourceLink => l.type === 'resource_link' && l.uri === `memory://episodes/${id}`);
      assert.equal(hit?.title, 'Link the episode resource', 'query hits are linked, titled by their task');
    });

    it('answers with compact structuredContent (what VS Code gives the model instead of the text), within each listed outputSchema', async () => {
      const { tools } = await c.client.listTools();
      const declared = new Map(tools.map((t) => [t.name, Object.keys((t.outputSchema?.properties ?? {}) as object)]));
      const answer = async <T,>(name: string, args: Record<string, unknown>): Promise<T> => {
        const structured = await ok<Record<string, unknown>>(c.client, name, args);
        for (const key of Object.keys(structured)) assert.ok(declared.get(name)?.includes(key), `${name} answers "${key}", which its outputSchema does not list`);
        return structured as T;
      };
      type Brief = Record<string, unknown> & { evidence?: string[] };
      const derived = await recordEpisode(c.client, 'Guard the YAML loader against a missing section');
      await addSteps(c.client, derived);
      const done = await answer<{ reflection?: unknown; patterns: Brief[] }>('complete_episode', { episode_id: derived, outcome: { type: 'success', verdict: 'guarded' } });
      assert.ok(done.reflection, 'a derived reflection is news to the model');
      assert.ok(done.patterns.length > 0);
      for (const p of done.patterns) {
        assert.deepEqual(Object.keys(p).filter((k) => ['pattern_id', 'task_type', 'domain', 'evidence'].includes(k)), [], `no internal key, no repeat of the episode's scope, no evidence: ${JSON.stringify(p)}`);
      }
      const own = await recordEpisode(c.client, 'Guard the TOML loader against a missing section');
      await addSteps(c.client, own);
      const reflection = { successes: ['the guard held'], improvements: [], insights: ['reproduce before fixing'] };
      const mine = await answer<{ reflection?: unknown }>('complete_episode', { episode_id: own, outcome: { type: 'success', verdict: 'guarded' }, reflection });
      assert.equal(mine.reflection, undefined, 'the reflection the model wrote is not echoed back');

      const scoped = await answer<{ patterns: Brief[] }>('analyze_patterns', { task_type: 'debugging', domain: 'cli-tools', min_success_rate: 0 });
      assert.ok(scoped.patterns.length > 0);
      for (const p of scoped.patterns) {
        assert.equal('task_type' in p || 'domain' in p || 'pattern_id' in p, false, JSON.stringify(p));
        assert.ok(p.evidence && p.evidence.length >= 1 && p.evidence.length <= 3, JSON.stringify(p));
      }
      assert.ok(scoped.patterns.some((p) => p.evidence?.includes(own)), 'evidence names the newest episodes');
      const all = await answer<{ patterns: Brief[] }>('analyze_patterns', { min_success_rate: 0 });
      assert.ok(all.patterns.every((p) => typeof p.task_type === 'string' && typeof p.domain === 'string'), 'unscoped answers say each pattern\'s scope');

      const found = await answer<{ hits: Brief[] }>('query_memory', { query: 'Guard the loader against a missing section', domain: 'cli-tools' });
      assert.ok(found.hits.length > 0);
      for (const h of found.hits) {
        assert.equal('domain' in h || 'ended_at' in h, false, `no repeat of the filter, no ended_at: ${JSON.stringify(h)}`);
        assert.equal(h.task_type, 'debugging', 'a scope not asked for is kept');
        for (const w of h.why as string[]) assert.doesNotMatch(w, /ep_/, 'why does not repeat episode ids (repeats has them)');
      }

      const run = await answer<Record<string, unknown>>('execute_agent_code', { code: 'return 6 * 7', context: { task: 'multiply' } });
      assert.equal(run.output, '42');
      assert.equal('stdout' in run || 'stderr' in run, false, `no empty console fields: ${JSON.stringify(run)}`);
      const logged = await answer<Record<string, unknown>>('execute_agent_code', { code: 'console.log("hi"); return 1', context: { task: 'log' } });
      assert.match(String(logged.stdout), /hi/);
    });

    it('reads an episode as Markdown (task, context, steps, errors and recoveries, outcome, reflection, patterns), and pattern resources', async () => {
      const id = await recordEpisode(c.client, 'Fix the crash in the YAML config loader', { context: { language: 'typescript', tags: ['yaml'] } });
      await addSteps(c.client, id);
      const open = textOfResource(await c.client.readResource({ uri: `memory://episodes/${id}` }));
      assert.match(open, /^# Fix the crash in the YAML config loader/);
      assert.match(open, /Status: open/);
      assert.match(open, /Not completed yet/);
      await ok(c.client, 'complete_episode', {
        episode_id: id,
        outcome: { type: 'success', verdict: 'loader guards empty sections, tests pass' },
        reflection: { successes: ['reproduced first'], improvements: ['read the stack trace sooner'], insights: ['guard optional YAML sections'] },
      });
      const r = await c.client.readResource({ uri: `memory://episodes/${id}` });
      assert.equal(r.contents[0].mimeType, 'text/markdown');
      assert.equal(r.contents[0].uri, `memory://episodes/${id}`);
      const md = textOfResource(r);
      for (const section of ['## Context', '## Steps', '## Errors and recoveries', '## Outcome', '## Reflection', '## Patterns it contributed to']) assert.ok(md.includes(section), section);
      assert.match(md, /language typescript; tags yaml/);
      assert.match(md, /1\. `read_file` read the YAML loader `\{"file":"loader.ts"\}` → ok: loader.ts/);
      assert.match(md, /Step 2 \(`run_tests`\): TypeError: cannot read properties of undefined → recovered at step 3/);
      assert.match(md, /\*\*Success\*\*: loader guards empty sections, tests pass/);
      assert.match(md, /- guard optional YAML sections/);
      const patternsPart = md.slice(md.indexOf('## Patterns it contributed to'));
      assert.match(patternsPart, /run_tests.*memory:\/\/patterns\/task-type\/debugging/);

      const byType = textOfResource(await c.client.readResource({ uri: 'memory://patterns/task-type/debugging' }));
      assert.match(byType, /^# Patterns for task type debugging/);
      assert.ok(byType.includes(`memory://episodes/${id}`), 'patterns cite their evidence');
      const byDomain = textOfResource(await c.client.readResource({ uri: 'memory://patterns/domain/cli-tools' }));
      assert.match(byDomain, /^# Patterns for domain cli-tools/);
      assert.match(textOfResource(await c.client.readResource({ uri: 'memory://patterns/domain/nothing-here' })), /Nothing learned yet/);
    });

    it('lists templates and a paged resources/list (cursor) of recent episodes, newest first', async () => {
      const { resourceTemplates } = await c.client.listResourceTemplates();
      assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate).sort(), ['memory://episodes/{episode_id}', 'memory://patterns/domain/{domain}', 'memory://patterns/task-type/{task_type}']);
      const before = (await c.client.listResources()).resources.filter((r) => r.uri.startsWith('memory://episodes/')).length;
      const made: string[] = [];
      for (let i = 0; i < 55 - before; i++) made.push(await recordEpisode(c.client, `Paging episode number ${i}`));
      const first = await c.client.listResources();
      assert.deepEqual(first.resources.filter((r) => r.uri.startsWith('memory://patterns/')).map((r) => r.uri), TASK_TYPES.map((t) => `memory://patterns/task-type/${t}`));
      const firstEpisodes = first.resources.filter((r) => r.uri.startsWith('memory://episodes/'));
      assert.equal(firstEpisodes.length, 50);
      assert.equal(firstEpisodes[0].uri, `memory://episodes/${made[made.length - 1]}`, 'newest first');
      assert.equal(firstEpisodes[0].title, `Paging episode number ${made.length - 1}`);
      assert.match(firstEpisodes[0].description ?? '', /open · debugging · cli-tools · 0 steps/);
      assert.ok(first.nextCursor, 'a next page');
      const second = await c.client.listResources({ cursor: first.nextCursor });
      assert.equal(second.resources.length, 5);
      assert.equal(second.nextCursor, undefined);
      const all = new Set([...firstEpisodes, ...second.resources].map((r) => r.uri));
      assert.equal(all.size, 55);
      const bad = await rpcError(c.client.listResources({ cursor: 'not-a-cursor' }));
      assert.equal(bad.code, -32602);
      assert.match(bad.message, /Invalid cursor "not-a-cursor": pass the nextCursor/);
    });

    it('completes episode ids by prefix and by task words, task types and domains', async () => {
      const id = await recordEpisode(c.client, 'Tune the flaky websocket reconnect backoff');
      const ref = { type: 'ref/resource' as const, uri: 'memory://episodes/{episode_id}' };
      const byPrefix = await c.client.complete({ ref, argument: { name: 'episode_id', value: id.slice(0, id.length - 3) } });
      assert.ok(byPrefix.completion.values.includes(id), 'by id prefix');
      const byWords = await c.client.complete({ ref, argument: { name: 'episode_id', value: 'websocket backoff' } });
      assert.equal(byWords.completion.values[0], id, 'by task words');
      const types = await c.client.complete({ ref: { type: 'ref/resource', uri: 'memory://patterns/task-type/{task_type}' }, argument: { name: 'task_type', value: 'de' } });
      assert.deepEqual(types.completion.values, ['debugging']);
      const domains = await c.client.complete({ ref: { type: 'ref/resource', uri: 'memory://patterns/domain/{domain}' }, argument: { name: 'domain', value: 'cli' } });
      assert.deepEqual(domains.completion.values, ['cli-tools']);
    });

    it('answers bad URIs, unknown episodes and impossible resources with clear errors', async () => {
      const invalid = await rpcError(c.client.readResource({ uri: 'not a uri' }));
      assert.equal(invalid.code, -32602);
      assert.match(invalid.message, /"not a uri" is not a valid URI\. Episodes are memory:\/\/episodes\/\{episode_id\}/);
      const unknown = await rpcError(c.client.readResource({ uri: 'memory://episodes/ep_missing' }));
      assert.equal(unknown.code, -32002);
      assert.match(unknown.message, /Unknown episode "ep_missing": no episode has this id/);
      const other = await rpcError(c.client.readResource({ uri: 'file:///etc/passwd' }));
      assert.equal(other.code, -32002);
      assert.match(other.message, /Unknown resource "file:\/\/\/etc\/passwd"/);
      const badType = await rpcError(c.client.readResource({ uri: 'memory://patterns/task-type/gardening' }));
      assert.match(badType.message, /Unknown task type "gardening".*use one of code_generation/);
      assert.doesNotMatch(unknown.message, /MCP error -32002: MCP error/);
    });

    it('sends resources/list_changed on add, complete and remove, and resources/updated to a subscribed episode receiving steps', async () => {
      let listChanged = 0;
      const updated: string[] = [];
      c.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => void listChanged++);
      c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
      assert.equal(c.client.getServerCapabilities()?.resources?.subscribe, true);
      const id = await recordEpisode(c.client, 'Watch this episode grow');
      await eventually(() => listChanged >= 1, 'list_changed after create');
      const uri = `memory://episodes/${id}`;
      await c.client.subscribeResource({ uri });
      await ok(c.client, 'add_episode_step', { episode_id: id, tool: 'edit_file', action: 'first edit', result: { status: 'success' } });
      await eventually(() => updated.includes(uri), 'resources/updated after a step');
      const seen = listChanged;
      await ok(c.client, 'complete_episode', { episode_id: id, outcome: { type: 'failure', reason: 'gave up' } });
      await eventually(() => listChanged > seen, 'list_changed after complete');
      await c.client.unsubscribeResource({ uri });
      const afterUnsubscribe = updated.length;
      await ok(c.client, 'discover_tools', { tools: ['delete_episode'] });
      const beforeDelete = listChanged;
      await ok(c.client, 'delete_episode', { episode_id: id });
      await eventually(() => listChanged > beforeDelete, 'list_changed after delete');
      assert.equal(updated.length, afterUnsubscribe, 'no updates after unsubscribe');
      const bad = await rpcError(c.client.subscribeResource({ uri: 'https://example.com/x' }));
      assert.match(bad.message, /Unknown resource/);
    });

    it('offers recall, retrospective and start_task prompts with completion, and clear errors for unknown prompts and bad arguments', async () => {
      const { prompts } = await c.client.listPrompts();
      assert.deepEqual(prompts.map((p) => p.name).sort(), ['recall', 'retrospective', 'start_task']);
      assert.deepEqual(prompts.find((p) => p.name === 'recall')?.arguments?.map((a) => [a.name, a.required]), [['task', true]]);

      const done = await recordEpisode(c.client, 'Fix the crash in the YAML config parser on empty sections');
      await addSteps(c.client, done);
      await ok(c.client, 'complete_episode', { episode_id: done, outcome: { type: 'success', verdict: 'empty sections handled' } });
      const recall = await c.client.getPrompt({ name: 'recall', arguments: { task: 'YAML config parser crashes on empty sections' } });
      const text = (recall.messages[0].content as { text: string }).text;
      assert.match(text, /I am about to work on: YAML config parser crashes/);
      assert.ok(text.includes(`memory://episodes/${done}`), 'names the past episode');
      assert.match(text, /What worked in debugging tasks:\n- /);
      const attached = recall.messages.slice(1).map((m) => m.content as EmbeddedResource);
      assert.ok(attached.some((a) => a.type === 'resource' && a.resource.uri === `memory://episodes/${done}`), 'attaches the episode');
      const taskCompletion = await c.client.complete({ ref: { type: 'ref/prompt', name: 'recall' }, argument: { name: 'task', value: 'yaml parser' } });
      assert.ok(taskCompletion.completion.values.some((v) => v.includes('YAML config parser')), JSON.stringify(taskCompletion.completion.values));

      const open = await recordEpisode(c.client, 'Refactor the retry helper');
      const idCompletion = await c.client.complete({ ref: { type: 'ref/prompt', name: 'retrospective' }, argument: { name: 'episode_id', value: open.slice(0, 6) } });
      assert.ok(idCompletion.completion.values.includes(open));
      const retro = await c.client.getPrompt({ name: 'retrospective', arguments: { episode_id: open } });
      const retroText = (retro.messages[0].content as { text: string }).text;
      assert.match(retroText, /complete episode .*Refactor the retry helper/i);
      assert.match(retroText, /honest/);
      assert.ok(retroText.includes(`"episode_id": "${open}"`));
      assert.equal((retro.messages[1].content as EmbeddedResource).resource.uri, `memory://episodes/${open}`);
      const closed = await c.client.getPrompt({ name: 'retrospective', arguments: { episode_id: done } });
      assert.match((closed.messages[0].content as { text: string }).text, /already completed as success/);

      const start = await c.client.getPrompt({ name: 'start_task', arguments: { task: 'Add a --json flag to the CLI', task_type: 'code_generation' } });
      const startText = (start.messages[0].content as { text: string }).text;
      assert.match(startText, /create_episode with \{"task":"Add a --json flag to the CLI","task_type":"code_generation"\}/);
      assert.match(startText, /add_episode_step/);
      const typeCompletion = await c.client.complete({ ref: { type: 'ref/prompt', name: 'start_task' }, argument: { name: 'task_type', value: 'ref' } });
      assert.deepEqual(typeCompletion.completion.values, ['refactoring']);

      const unknown = await rpcError(c.client.getPrompt({ name: 'remember_everything' }));
      assert.equal(unknown.code, -32602);
      assert.match(unknown.message, /Unknown prompt "remember_everything"\. The prompts are recall, retrospective, start_task\./);
      const missing = await rpcError(c.client.getPrompt({ name: 'recall', arguments: {} }));
      assert.match(missing.message, /Invalid arguments for prompt recall: .*task.*It takes "task"/);
      const noEpisode = await rpcError(c.client.getPrompt({ name: 'retrospective', arguments: { episode_id: 'ep_nope' } }));
      assert.match(noEpisode.message, /Unknown episode "ep_nope"/);
    });
  });
}
