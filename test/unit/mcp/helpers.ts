/** Real parts for the MCP tests: a store in a temp folder and the sandbox with the bundled worker. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '../../../src/common/logger';
import { MemoryStore } from '../../../src/memory';
import { Sandbox } from '../../../src/sandbox';
import { createServer, startHttpServer, type CreateServerOptions, type HttpServerOptions } from '../../../src/mcp';

export const ROOT = path.resolve(__dirname, '../../..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const WORKER = path.join(ROOT, 'dist', 'sandbox-worker.js');

export function requireBuild(): void {
  if (!fs.existsSync(CLI) || !fs.existsSync(WORKER)) throw new Error('dist/ is not built: run `npm run build` before the MCP tests');
}

export function tempDir(prefix = 'mcp-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface RealParts {
  store: MemoryStore;
  sandbox: Sandbox;
  dir: string;
  dispose(): Promise<void>;
}

export async function openRealParts(dir = tempDir()): Promise<RealParts> {
  requireBuild();
  const store = await MemoryStore.open({ dir, logger: silentLogger });
  const sandbox = new Sandbox({ workerPath: WORKER, logger: silentLogger, workers: 1 });
  return {
    store,
    sandbox,
    dir,
    async dispose() {
      await sandbox.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An SDK Client connected to `createServer` over the in-memory transport. */
export async function inMemoryClient(parts: RealParts, extra: Partial<CreateServerOptions> = {}): Promise<{ client: Client; close: () => Promise<void> }> {
  const server = createServer({ store: parts.store, sandbox: parts.sandbox, logger: silentLogger, transport: 'in-memory', ...extra });
  const [clientT, serverT] = InMemoryTransport.createLinkedPair();
  await server.connect(serverT);
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  await client.connect(clientT);
  return {
    client,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

export function textOf(result: unknown): string {
  const r = result as CallToolResult;
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** Calls a tool that must succeed and returns its structured content. */
export async function ok<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = await call(client, name, args);
  if (r.isError) throw new Error(`${name} failed: ${textOf(r)}`);
  if (!r.structuredContent) throw new Error(`${name} returned no structuredContent`);
  return r.structuredContent as T;
}

export interface ConnectedClient {
  client: Client;
  close(): Promise<void>;
}

/** An SDK Client (by default one declaring no capabilities) over Streamable HTTP to `startHttpServer` on the real parts, with the bearer token. */
export async function httpClient(parts: RealParts, extra: Partial<HttpServerOptions> = {}, client = new Client({ name: 'mcp-test-http', version: '1.0.0' })): Promise<ConnectedClient> {
  const http = await startHttpServer({ store: parts.store, sandbox: parts.sandbox, logger: silentLogger, ...extra });
  const transport = new StreamableHTTPClientTransport(new URL(http.url), { requestInit: { headers: { Authorization: `Bearer ${http.token}` } } });
  await client.connect(transport);
  return {
    client,
    async close() {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
      await http.close();
    },
  };
}

/** An SDK Client over stdio to the built `memory-mcp` bin on a store in `dir`. */
export async function stdioClient(dir: string, args: string[] = []): Promise<ConnectedClient & { stderr: () => string }> {
  requireBuild();
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, '--db', dir, '--log-level', 'warn', ...args], stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'mcp-test-stdio', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}
