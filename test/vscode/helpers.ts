import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AgentMemoryApi } from '../../src/extension';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DOM_TEXT_MARKER, SCREENSHOT_MARKER, TYPE_MARKER } from './markers';

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

/** Whether the headless launcher runs the suite (it answers the typing and DOM-text markers; the desktop runner does not). */
export const underHeadlessLauncher = process.env.AGENT_MEMORY_HEADLESS === '1';

/** Asks the headless launcher (if any) to type `text` into the focused element, key by key. */
export async function typeText(text: string): Promise<void> {
  console.log(`${TYPE_MARKER}${text}`);
  await new Promise((r) => setTimeout(r, 200 + 20 * text.length));
}

/**
 * The texts of the workbench elements matching `selector`, as the headless launcher reads them,
 * once `until` holds for them (asked again every second until `timeoutMs`). Only under the
 * headless launcher: elsewhere nobody answers and this times out.
 */
export async function domTexts(name: string, selector: string, until: (texts: string[]) => boolean, timeoutMs = 30_000): Promise<string[]> {
  const root = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
  const file = path.join(root, 'test-results', 'dom', `${name}.json`);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    fs.rmSync(file, { force: true });
    console.log(`${DOM_TEXT_MARKER}${name} ${selector}`);
    for (let i = 0; i < 10 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    if (fs.existsSync(file)) {
      last = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      if (Array.isArray(last) && until(last as string[])) return last as string[];
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${name} (${selector}); last seen: ${JSON.stringify(last)?.slice(0, 1000)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
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
