import * as assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { silentLogger } from '../../../src/common/logger';
import { startHttpServer } from '../../../src/mcp';
import { runWholeFlow } from './flow';
import { CLI, inMemoryClient, openRealParts, requireBuild, tempDir, type RealParts } from './helpers';
import * as fs from 'node:fs';

describe('mcp: whole flow with real store and sandbox', function () {
  this.timeout(60_000);

  describe('in-memory transport', () => {
    let parts: RealParts;
    before(async () => {
      parts = await openRealParts();
    });
    after(async () => parts.dispose());

    it('create → steps → complete → query → analyze → execute (memory in the sandbox) → discover_tools', async () => {
      const { client, close } = await inMemoryClient(parts);
      try {
        await runWholeFlow(client);
      } finally {
        await close();
      }
    });
  });

  describe('Streamable HTTP transport', () => {
    let parts: RealParts;
    before(async () => {
      parts = await openRealParts();
    });
    after(async () => parts.dispose());

    it('runs the whole flow over HTTP with the bearer token', async () => {
      const http = await startHttpServer({ store: parts.store, sandbox: parts.sandbox, logger: silentLogger });
      const client = new Client({ name: 'mcp-test-http', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { Authorization: `Bearer ${http.token}` } } });
      try {
        await client.connect(transport);
        assert.equal(http.sessions(), 1);
        await runWholeFlow(client);
      } finally {
        await transport.terminateSession().catch(() => undefined);
        await client.close();
        await http.close();
      }
      assert.equal(http.sessions(), 0);
    });
  });

  describe('stdio transport (the built memory-mcp bin)', () => {
    it('runs the whole flow against `node dist/cli.js --db <tmp>`', async () => {
      requireBuild();
      const dir = tempDir();
      const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, '--db', dir, '--log-level', 'warn'], stderr: 'pipe' });
      let stderr = '';
      transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const client = new Client({ name: 'mcp-test-stdio', version: '1.0.0' });
      try {
        await client.connect(transport);
        await runWholeFlow(client);
      } catch (error) {
        throw new Error(`${(error as Error).message}\nserver stderr:\n${stderr}`, { cause: error });
      } finally {
        await client.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
