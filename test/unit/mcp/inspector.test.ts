/**
 * An outside client: the MCP Inspector's CLI mode against the stdio bin.
 *
 * The `mcp-inspector` wrapper of @modelcontextprotocol/inspector 0.15.0 (the
 * newest release that supports Node 20; 0.16+ need Node ≥ 22.7.5) imports
 * `commander` without declaring it, so it picks up the hoisted commander 4
 * (from sucrase) and fails ("allowExcessArguments is not a function"). Its
 * `--cli` mode is implemented by the @modelcontextprotocol/inspector-cli
 * package it depends on, whose own bin has its commander 13 nested; that bin is
 * run here with the same `--cli ... --method ...` arguments.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CLI, requireBuild, tempDir } from './helpers';

const run = promisify(execFile);

function inspectorCli(): string | undefined {
  try {
    const pkg = require.resolve('@modelcontextprotocol/inspector-cli/package.json');
    const bin = path.join(path.dirname(pkg), 'build', 'cli.js');
    return fs.existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

describe('mcp: MCP Inspector CLI against the stdio bin', function () {
  this.timeout(90_000);
  let dir: string;
  before(() => {
    requireBuild();
    // A devDependency: its absence is a broken install, not a reason to skip.
    assert.ok(inspectorCli(), 'the MCP Inspector CLI is missing: run npm install');
    dir = tempDir();
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const inspect = async (...args: string[]): Promise<unknown> => {
    const { stdout } = await run(process.execPath, [inspectorCli()!, '--cli', process.execPath, CLI, '--db', dir, '--log-level', 'warn', ...args], { timeout: 60_000 });
    return JSON.parse(stdout);
  };

  it('lists the tools', async () => {
    const out = (await inspect('--method', 'tools/list')) as { tools: { name: string; inputSchema: unknown }[] };
    const names = out.tools.map((t) => t.name);
    for (const n of ['query_memory', 'create_episode', 'execute_agent_code', 'discover_tools']) assert.ok(names.includes(n), n);
  });

  it('calls tools (create_episode, then query_memory finds it)', async () => {
    const created = (await inspect('--method', 'tools/call', '--tool-name', 'create_episode', '--tool-arg', 'task=Tune the webpack build cache', '--tool-arg', 'task_type=refactoring')) as {
      structuredContent: { episode_id: string };
    };
    assert.ok(created.structuredContent.episode_id);
    const found = (await inspect('--method', 'tools/call', '--tool-name', 'query_memory', '--tool-arg', 'query=webpack cache', '--tool-arg', 'limit=3')) as {
      isError?: boolean;
      structuredContent: { total: number; hits: { episode_id: string }[] };
    };
    assert.notEqual(found.isError, true);
    assert.equal(found.structuredContent.hits[0].episode_id, created.structuredContent.episode_id);
  });
});
