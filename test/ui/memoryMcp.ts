/**
 * The standalone memory-mcp server on a workbench's own store folder, driven by a real MCP
 * client (the SDK over stdio), as an agent outside VS Code would use it beside the extension.
 */
import * as assert from 'node:assert/strict';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { repoRoot } from '../launch/codeServer';
import type { Workbench } from './workbench';

/** The extension's store folder, from its activation line in the log (VS Code names it by a hash). */
export async function storeFolder(wb: Workbench): Promise<string> {
  const line = wb.page.locator('.part.panel .view-lines', { hasText: 'Agent Memory activated' }).first();
  await wb.runUntilVisible('Agent Memory: Show Log', line);
  // The Output view wraps long lines: take everything up to the next log line, without the breaks.
  const text = await wb.page.locator('.part.panel .view-lines').first().innerText();
  const m = /memory\s+store\s+folder:\s*([\s\S]+?)(?=\s+\d{4}-\d{2}-\d{2} \d|$)/.exec(text);
  assert.ok(m, `no store folder in: ${text}`);
  return m[1].replace(/\s+/g, '');
}

export type Outcome = { type: 'success'; verdict: string } | { type: 'failure'; reason: string };

export class StandaloneServer {
  private constructor(private readonly client: Client) {}

  /** Starts `memory-mcp --db storeDir` over stdio; the first to open the folder writes it. */
  static async start(storeDir: string): Promise<StandaloneServer> {
    const transport = new StdioClientTransport({ command: process.execPath, args: [path.join(repoRoot, 'dist', 'cli.js'), '--db', storeDir], stderr: 'ignore' });
    const client = new Client({ name: 'ui-test', version: '1.0.0' });
    await client.connect(transport);
    return new StandaloneServer(client);
  }

  async call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await this.client.callTool({ name, arguments: args });
    assert.notEqual(res.isError, true, `${name}: ${JSON.stringify(res.content)}`);
    return res.structuredContent as Record<string, unknown>;
  }

  /** A whole episode as an agent records it: created, two steps, completed. */
  async record(task: string, domain: string, outcome: Outcome): Promise<string> {
    const { episode_id } = (await this.call('create_episode', { task, domain, task_type: 'code_generation' })) as { episode_id: string };
    await this.call('add_episode_step', { episode_id, tool: 'read_file', action: 'read the code', result: { status: 'success' } });
    await this.call('add_episode_step', { episode_id, tool: 'run_tests', action: 'npm test', result: { status: 'success' } });
    await this.call('complete_episode', { episode_id, outcome });
    return episode_id;
  }

  /** Ends the session: the server exits and releases the store. */
  close(): Promise<void> {
    return this.client.close();
  }
}
