import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AgentMemoryApi } from '../../src/extension';
import { SCREENSHOT_MARKER } from './markers';

export const EXTENSION_ID = 'agent-memory.agent-memory';

export async function activateApi(): Promise<AgentMemoryApi> {
  const ext = vscode.extensions.getExtension<AgentMemoryApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not known to the host`);
  return ext.activate();
}

/** Asks the headless launcher (if any) for a screenshot, then gives it time to take it. */
export async function screenshot(name: string): Promise<void> {
  console.log(`${SCREENSHOT_MARKER}${name}`);
  await new Promise((r) => setTimeout(r, 2000));
}

/** The extension's MCP server definition, resolved (the in-host server started). */
export async function resolvedDefinition(api: AgentMemoryApi): Promise<vscode.McpHttpServerDefinition> {
  const defs = api.mcpProvider.provideMcpServerDefinitions();
  assert.equal(defs.length, 1);
  return api.mcpProvider.resolveMcpServerDefinition(defs[0]);
}

export async function connect(def: vscode.McpHttpServerDefinition): Promise<Client> {
  const client = new Client({ name: 'extension-host-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(def.uri.toString(true)), { requestInit: { headers: def.headers } }));
  return client;
}

export type Structured = Record<string, unknown>;
export async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Structured> {
  const res = await client.callTool({ name, arguments: args });
  assert.notEqual(res.isError, true, `${name} failed: ${JSON.stringify(res.content)}`);
  return res.structuredContent as Structured;
}

/** Polls until `fn` gives a value. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
