/**
 * The MCP surface clients see (listing, errors, resources, prompts,
 * notifications), through the SDK client over both real transports: Streamable
 * HTTP to `startHttpServer` and stdio to the built `memory-mcp` bin.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CallToolResult, ResourceLink } from '@modelcontextprotocol/sdk/types.js';
import { CORE_TOOL_NAMES, SERVER_VERSION } from '../../../src/mcp';
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
      assert.match(text, /Parameters: query, domain\?, task_type\?, limit\?, offset\?\./);
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
  });
}
