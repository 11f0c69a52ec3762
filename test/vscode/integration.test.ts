/**
 * The extension in a real VS Code extension host: the MCP server definition provider, VS Code's
 * own MCP client, a scripted agent session reaching the Memory explorer, Run in Sandbox and
 * settings that change the limits the server's sandbox applies.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AgentMemoryApi } from '../../src/extension';
import type { MemoryNode } from '../../src/views/trees';
import type { ExecutionResult } from '../../src/sandbox';
import { activateApi, call, connect, domTexts, resolvedDefinition, screenshot, typeText, underHeadlessLauncher, waitFor } from './helpers';

// VS Code names MCP tools mcp_<server name>_<tool>; 1.139 turns the name's '-' into '_'.
const TOOL_PREFIX = 'mcp_agent_memory_';

async function setPreset(preset: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('agentMemory.sandbox').update('preset', preset, vscode.ConfigurationTarget.Workspace);
}


describe('MCP server definition provider', () => {
  let api: AgentMemoryApi;
  before(async () => {
    api = await activateApi();
  });

  it('resolves to a live loopback server that answers a client holding the token', async () => {
    const def = await resolvedDefinition(api);
    assert.equal(def.uri.authority.split(':')[0], '127.0.0.1');
    assert.match(def.headers.Authorization ?? '', /^Bearer [0-9a-f]{32,}$/);
    const client = await connect(def);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      for (const name of ['query_memory', 'create_episode', 'execute_agent_code']) assert.ok(tools.includes(name), `${name} missing from ${tools.join(', ')}`);
    } finally {
      await client.close();
    }
  });

  it('refuses a client without the token, or with a wrong one', async () => {
    const def = await resolvedDefinition(api);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const none = await fetch(def.uri.toString(true), { method: 'POST', headers, body });
    assert.equal(none.status, 401);
    const wrong = await fetch(def.uri.toString(true), { method: 'POST', headers: { ...headers, authorization: 'Bearer 00' }, body });
    assert.equal(wrong.status, 401);
    // The server is unharmed: the real client still works.
    const client = await connect(def);
    await client.close();
  });

  it('bumps the definition version and fires a change when a server setting changes', async () => {
    const before = api.mcpProvider.provideMcpServerDefinitions()[0].version;
    const fired = new Promise<void>((resolve) => {
      const sub = api.mcpProvider.onDidChangeMcpServerDefinitions(() => {
        sub.dispose();
        resolve();
      });
    });
    await setPreset('permissive');
    await fired;
    const after = api.mcpProvider.provideMcpServerDefinitions()[0].version;
    assert.notEqual(after, before);
    await setPreset(undefined);
  });
});

/** Starts the provided server in VS Code's MCP client (the definition arrives a moment after activation) and returns query_memory. */
async function startedInVsCode(): Promise<vscode.LanguageModelToolInformation> {
  await activateApi();
  return waitFor('the Agent Memory tools in vscode.lm.tools', async () => {
      const found = vscode.lm.tools.find((t) => t.name === `${TOOL_PREFIX}query_memory`);
      if (found) return found;
      await vscode.commands.executeCommand('workbench.mcp.startServer', '*', { waitForLiveTools: true });
      return vscode.lm.tools.find((t) => t.name === `${TOOL_PREFIX}query_memory`);
    }, 60_000).catch((err: Error) => {
      const seen = vscode.lm.tools.map((t) => t.name).filter((n) => n.startsWith('mcp')).join(', ');
      throw new Error(`${err.message}; MCP tools seen: [${seen}]`);
    });
}

/** Calls one of our tools through VS Code's own MCP client; answers the text the model would get. */
async function invokeInVsCode(tool: string, input: object): Promise<string> {
  const result = await vscode.lm.invokeTool(`${TOOL_PREFIX}${tool}`, { input, toolInvocationToken: undefined });
  return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');
}

/** How VS Code's MCP client addresses a server's resource (McpResourceURI in its mcpTypes.ts). */
function vscodeResourceUri(definitionId: string, uri: string): vscode.Uri {
  const u = vscode.Uri.parse(uri);
  return vscode.Uri.from({ scheme: 'mcp-resource', authority: Buffer.from(definitionId).toString('hex'), path: `/${u.scheme}/${u.authority}${u.path}` });
}

describe("VS Code's own MCP client (the path agent mode takes)", function () {
  this.timeout(120_000);

  it('starts the provided server, lists its tools in vscode.lm.tools and invokes them', async () => {
    const tool = await startedInVsCode();
    assert.ok(tool.tags.includes('mcp') || tool.name.startsWith('mcp_'));
    const names = vscode.lm.tools.filter((t) => t.name.startsWith(TOOL_PREFIX)).map((t) => t.name);
    assert.ok(names.includes(`${TOOL_PREFIX}execute_agent_code`), names.join(', '));

    const exec = await vscode.lm.invokeTool(`${TOOL_PREFIX}execute_agent_code`, {
      input: { code: 'return context.input.a * context.input.b;', context: { task: 'multiply', input: { a: 6, b: 7 } } },
      toolInvocationToken: undefined,
    });
    const execText = exec.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');
    assert.match(execText, /42/);

    const query = await vscode.lm.invokeTool(`${TOOL_PREFIX}query_memory`, { input: { query: 'anything at all' }, toolInvocationToken: undefined });
    assert.ok(query.content.length > 0);
    assert.ok(query.content[0] instanceof vscode.LanguageModelTextPart);
  });

  it('records an episode over MCP, reads it as an MCP resource and lists it in "MCP: Browse Resources" (screenshot)', async function () {
    await startedInVsCode();
    const mark = Date.now().toString(36);
    const task = `Browse the resource of episode ${mark}`;
    const created = await invokeInVsCode('create_episode', { task, task_type: 'testing', domain: 'vscode-ui' });
    const id = /ep_[0-9a-z]+/.exec(created)?.[0];
    assert.ok(id, created);
    await invokeInVsCode('add_episode_step', { episode_id: id, tool: 'run_tests', action: 'run the UI suite', result: { status: 'error', message: 'Error: quick pick closed' } });
    await invokeInVsCode('add_episode_step', { episode_id: id, tool: 'run_tests', action: 'rerun it', result: { status: 'success', output: 'all green' } });
    await invokeInVsCode('complete_episode', { episode_id: id, outcome: { type: 'success', verdict: 'listed' } });

    // Read through VS Code's MCP client and its resource file system (what Add Context attaches).
    const doc = await vscode.workspace.openTextDocument(vscodeResourceUri('agent-memory.agent-memory/Agent Memory', `memory://episodes/${id}`));
    assert.match(doc.getText(), new RegExp(`^# ${task}`), doc.getText().slice(0, 300));
    assert.match(doc.getText(), /## Errors and recoveries[\s\S]*Step 1 \(`run_tests`\): Error: quick pick closed → recovered at step 2/);

    if (!underHeadlessLauncher) this.skip(); // reading the quick pick needs the launcher's page
    // As a person browses: open the quick pick (it waits for a pick: don't await), type part of the task, read the rows.
    void vscode.commands.executeCommand('workbench.mcp.browseResources');
    try {
      await domTexts('mcp-browse-resources-open', '.quick-input-widget .monaco-list-row', (texts) => texts.some((t) => t.includes('Patterns: ')));
      await typeText(mark);
      const rows = await domTexts('mcp-browse-resources', '.quick-input-widget .monaco-list-row', (texts) => texts.some((t) => t.includes(task)));
      const row = rows.find((t) => t.includes(task))!;
      assert.match(row, /success \(reward \d\.\d\d\) · testing · vscode-ui · 2 steps/, row);
      assert.ok(row.includes(`memory://episodes/${id}`), row);
      await screenshot('mcp-browse-resources');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    }
  });

  it('lists the prompts as /mcp.<server>.<prompt> slash commands in the chat input (screenshot)', async function () {
    if (!underHeadlessLauncher) this.skip(); // reading the suggest list needs the launcher's page
    await startedInVsCode();
    await vscode.commands.executeCommand('workbench.action.chat.open', { query: '/mcp.', isPartialQuery: true });
    await new Promise((r) => setTimeout(r, 1000));
    await vscode.commands.executeCommand('editor.action.triggerSuggest');
    const rows = await domTexts('chat-prompt-suggestions', '.suggest-widget .monaco-list-row', (texts) => texts.some((t) => t.includes('recall')), 20_000).catch(async (e: Error) => {
      await screenshot('chat-prompt-suggestions-missing');
      throw e;
    });
    await screenshot('chat-prompt-suggestions');
    // VS Code names the commands after the definition's label, spaces turned to '_'.
    for (const prompt of ['recall', 'retrospective', 'start_task']) assert.ok(rows.some((t) => t.startsWith(`/mcp.Agent_Memory.${prompt}\n`)), `${prompt} missing: ${rows.join(' | ')}`);
  });
});

describe('a scripted agent session reaches the Memory explorer', function () {
  this.timeout(120_000);
  let api: AgentMemoryApi;
  let client: Client;
  before(async () => {
    api = await activateApi();
    client = await connect(await resolvedDefinition(api));
  });
  after(async () => {
    await client?.close();
  });

  it('create → steps → complete → query → execute shows the episode and its patterns in the trees', async () => {
    const ids: string[] = [];
    // Distinct tasks: near-identical episodes would be merged by the store's de-duplication.
    const tasks = ['Fix the failing tokenizer test for unicode escapes', 'Repair the parser crash on trailing commas in object literals', 'Debug why the lexer drops comments inside JSX'];
    for (const task of tasks) {
      const { episode_id } = (await call(client, 'create_episode', {
        task,
        domain: 'parser',
        task_type: 'debugging',
        context: { language: 'typescript', tags: ['tests'] },
      })) as { episode_id: string };
      ids.push(episode_id);
      await call(client, 'add_episode_step', { episode_id, tool: 'run_tests', action: 'npm test', result: { status: 'error', message: 'TypeError: token is undefined' } });
      await call(client, 'add_episode_step', { episode_id, tool: 'read_file', action: 'open tokenizer.ts', result: { status: 'success', output: 'found off-by-one' } });
      await call(client, 'add_episode_step', { episode_id, tool: 'edit_file', action: 'fix loop bound', result: { status: 'success' } });
      await call(client, 'add_episode_step', { episode_id, tool: 'run_tests', action: 'npm test', result: { status: 'success', output: 'all green' } });
      await call(client, 'complete_episode', { episode_id, outcome: { type: 'success', verdict: 'tests pass' } });
    }
    const q = await call(client, 'query_memory', { query: 'tokenizer test failing' });
    assert.ok(JSON.stringify(q).includes(ids[0]) || ids.some((id) => JSON.stringify(q).includes(id)), 'query did not find the episodes');
    const exec = await call(client, 'execute_agent_code', {
      code: 'const r = await memory.query({ query: "tokenizer" }); return r.hits ? r.hits.length : r.length;',
      context: { task: 'count tokenizer episodes' },
      episode_id: undefined,
    });
    assert.equal(exec.kind, 'success', JSON.stringify(exec));

    // Episodes: domain → task type → episode.
    const episodesTree = api.trees.episodes;
    const domains = await waitFor('the parser domain in the Episodes view', async () => {
      const roots = await episodesTree.getChildren();
      return roots.some((n) => n.type === 'domain' && n.domain === 'parser') ? roots : undefined;
    });
    const parser = domains.find((n) => n.type === 'domain' && n.domain === 'parser')!;
    const types = await episodesTree.getChildren(parser);
    const debugging = types.find((n) => n.type === 'taskType' && n.taskType === 'debugging');
    assert.ok(debugging, JSON.stringify(types));
    const episodes = await episodesTree.getChildren(debugging);
    const shown = episodes.flatMap((n) => (n.type === 'episode' ? [n.episode.id] : []));
    for (const id of ids) assert.ok(shown.includes(id), `episode ${id} not in the tree`);
    const item = episodesTree.getTreeItem(episodes[0]);
    assert.match(String(item.description), /reward \d\.\d\d/);

    // Patterns: kind → pattern → evidence (this domain's: earlier suites record run_tests steps too).
    const kinds = await api.trees.patterns.getChildren();
    const seq = kinds.find((n) => n.type === 'patternKind' && n.kind === 'tool_sequence');
    assert.ok(seq, `no tool sequences learned: ${JSON.stringify(kinds)}`);
    const patterns = await api.trees.patterns.getChildren(seq);
    const learned = patterns.find((n): n is Extract<MemoryNode, { type: 'pattern' }> => n.type === 'pattern' && n.pattern.domain === 'parser' && /run_tests/.test(n.pattern.description));
    assert.ok(learned, JSON.stringify(patterns.map((p) => (p.type === 'pattern' ? p.pattern.description : p.type))));
    const evidence = await api.trees.patterns.getChildren(learned);
    assert.ok(evidence.some((n) => n.type === 'episode' && ids.includes(n.episode.id)));

    // The Sandbox view shows the run.
    const sandboxNodes = await api.trees.sandbox.getChildren();
    assert.ok(sandboxNodes.some((n) => n.type === 'runs'));

    // What a person sees now: the Memory explorer with the session's episodes and patterns.
    await vscode.commands.executeCommand('workbench.view.extension.agentMemory');
    await new Promise((r) => setTimeout(r, 1500));
    await screenshot('memory-explorer-after-scripted-session');
  });
});

describe('Run in Sandbox and the preset setting', function () {
  this.timeout(120_000);
  let api: AgentMemoryApi;
  before(async () => {
    api = await activateApi();
  });
  afterEach(async () => {
    await setPreset(undefined);
  });

  it('runs the active JavaScript file and returns its value', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test workspace has no folder');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'src', 'sample.js'));
    await vscode.window.showTextDocument(doc);
    const result = await vscode.commands.executeCommand<ExecutionResult>('agentMemory.runInSandbox');
    assert.equal(result.kind, 'success', JSON.stringify(result));
    assert.deepEqual(JSON.parse(result.output), { answer: 42 });
  });

  it('gives a security violation for a forbidden snippet, and the next run still works', async () => {
    const bad = await vscode.commands.executeCommand<ExecutionResult>('agentMemory.runInSandbox', "const cp = require('child_process'); return cp.execSync('id').toString();");
    assert.equal(bad.kind, 'security_violation', JSON.stringify(bad));
    const good = await vscode.commands.executeCommand<ExecutionResult>('agentMemory.runInSandbox', 'return 1 + 1;');
    assert.equal(good.kind, 'success');
    assert.equal(good.output, '2');
  });

  it("changing the preset changes the limits the server's sandbox applies", async () => {
    const client = await connect(await resolvedDefinition(api));
    try {
      const spin = 'const end = Date.now() + 3600; let n = 0; while (Date.now() < end) { n++; } return "done";';
      await setPreset('restrictive');
      await waitFor('the restrictive limits', () => (api.services.sandbox().config.maxExecutionTimeMs === 3000 ? true : undefined));
      const limited = await call(client, 'execute_agent_code', { code: spin, context: { task: 'spin 3.6 s' } });
      assert.equal(limited.kind, 'timeout', JSON.stringify(limited));
      assert.ok((limited.elapsed_ms as number) < 3600, `elapsed ${String(limited.elapsed_ms)}`);
      await setPreset('default');
      await waitFor('the default limits', () => (api.services.sandbox().config.maxExecutionTimeMs === 5000 ? true : undefined));
      const allowed = await call(client, 'execute_agent_code', { code: spin, context: { task: 'spin 3.6 s' } });
      assert.equal(allowed.kind, 'success', JSON.stringify(allowed));
    } finally {
      await client.close();
    }
  });
});
