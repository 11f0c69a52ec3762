/**
 * The standalone server's configuration lasts: the built `memory-mcp` bin,
 * started twice on one store folder, prints the same URL and token (kept in the
 * folder, the token file mode 0600); --port, --token-file and MEMORY_MCP_TOKEN
 * override; `config --client` prints configurations that connect.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI, requireBuild, tempDir } from './helpers';

interface Started {
  child: ChildProcess;
  url: string;
  token: string;
  stdout: string;
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('MEMORY_MCP_TOKEN' in extra)) delete env.MEMORY_MCP_TOKEN;
  delete env.MEMORY_MCP_DB;
  return env;
}

/** Starts `memory-mcp --http …` and resolves once it has printed its URL and token. */
function startHttp(args: string[], env: Record<string, string> = {}): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--http', '--log-level', 'warn', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`no URL printed in 20 s\n${stdout}\n${stderr}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const url = /URL: +(\S+)/.exec(stdout)?.[1];
      const token = /Token: +(\S+)/.exec(stdout)?.[1];
      if (url && token && stdout.includes('Press Ctrl+C')) {
        clearTimeout(timer);
        resolve({ child, url, token, stdout });
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}\n${stdout}\n${stderr}`));
    });
  });
}

function stop(s: Started): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null) return resolve();
    s.child.removeAllListeners('exit');
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  });
}

async function listToolsOver(url: string, headers: Record<string, string>): Promise<string[]> {
  const client = new Client({ name: 'standalone-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function config(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'config', ...args], { env: cleanEnv(env), encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The first JSON object in printed text (a configuration after its comment line). */
function jsonOf(printed: string): Record<string, Record<string, Record<string, unknown>>> {
  const start = printed.indexOf('{');
  let depth = 0;
  for (let i = start; i < printed.length; i++) {
    if (printed[i] === '{') depth++;
    else if (printed[i] === '}' && --depth === 0) return JSON.parse(printed.slice(start, i + 1)) as Record<string, Record<string, Record<string, unknown>>>;
  }
  throw new Error(`no JSON object in ${printed}`);
}

describe('mcp: standalone server configuration that lasts (built bin)', function () {
  this.timeout(90_000);
  const dirs: string[] = [];
  const started: Started[] = [];
  const dir = (): string => {
    const d = tempDir('mcp-standalone-');
    dirs.push(d);
    return d;
  };
  before(requireBuild);
  afterEach(async () => {
    await Promise.all(started.splice(0).map(stop));
  });
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('two starts on one store print the same URL and token; the token file is mode 0600; the printed VS Code config connects', async () => {
    const db = dir();
    const first = await startHttp(['--db', db]);
    started.push(first);
    const saved = JSON.parse(fs.readFileSync(path.join(db, 'server.json'), 'utf8')) as { port: number };
    assert.equal(first.url, `http://127.0.0.1:${saved.port}/mcp`);
    assert.equal(fs.readFileSync(path.join(db, 'token'), 'utf8').trim(), first.token);
    assert.equal(fs.statSync(path.join(db, 'token')).mode & 0o777, 0o600);
    const vscode = jsonOf(first.stdout.slice(first.stdout.indexOf('VS Code'))).servers['agent-memory'] as { url: string; headers: Record<string, string> };
    assert.equal(vscode.url, first.url);
    assert.ok((await listToolsOver(vscode.url, vscode.headers)).includes('query_memory'));
    await stop(started.pop()!);

    const second = await startHttp(['--db', db]);
    started.push(second);
    assert.equal(second.url, first.url);
    assert.equal(second.token, first.token);
    assert.ok((await listToolsOver(second.url, vscode.headers)).includes('create_episode'), 'the pasted config still works');
  });

  it('--port, --token-file and MEMORY_MCP_TOKEN override the saved port and token', async () => {
    const db = dir();
    const port = await freePort();
    const tokenFile = path.join(dir(), 'my-token');
    const a = await startHttp(['--db', db, '--port', String(port), '--token-file', tokenFile]);
    started.push(a);
    assert.equal(a.url, `http://127.0.0.1:${port}/mcp`);
    assert.equal(fs.readFileSync(tokenFile, 'utf8').trim(), a.token, 'a missing token file is created');
    assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600);
    assert.equal(fs.existsSync(path.join(db, 'server.json')), false, 'an explicit port is not saved');
    await stop(started.pop()!);

    const envToken = 'env-token-0123456789abcdef';
    const b = await startHttp(['--db', db, '--port', String(port), '--token-file', tokenFile], { MEMORY_MCP_TOKEN: envToken });
    started.push(b);
    assert.equal(b.token, envToken);
    assert.ok((await listToolsOver(b.url, { Authorization: `Bearer ${envToken}` })).length > 0);
  });

  it('a store that cannot be opened ends the stdio server with a clear message (exit 2)', async () => {
    const db = dir();
    fs.writeFileSync(path.join(db, 'snapshot.db'), Buffer.from('hello, not a snapshot at all'.repeat(10)));
    // stdin stays open (as a client holds it): the server ends because the store failed, not because its input did.
    const child = spawn(process.execPath, [CLI, '--db', db], { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    assert.equal(status, 2, stderr);
    assert.match(stderr, /--db .* cannot be opened as a memory store: .*snapshot/);
  });

  it('a saved port in use is refused with a clear message (exit 2), not moved', async () => {
    const db = dir();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    fs.writeFileSync(path.join(db, 'server.json'), JSON.stringify({ port }));
    try {
      const r = spawnSync(process.execPath, [CLI, '--http', '--db', db], { env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`port ${port} \\(saved in .*server\\.json\\) is in use: stop what listens there \\(another memory-mcp\\?\\) or pass --port PORT`));
    } finally {
      blocker.close();
    }
  });

  it('config --client vscode|claude|cursor prints ready-to-paste configurations a later start answers; --stdio a command line that runs', async () => {
    const db = dir();
    // A saved port (as after a first start) rather than the default one, which another run on this machine may hold.
    fs.writeFileSync(path.join(db, 'server.json'), JSON.stringify({ port: await freePort() }));
    const vscode = config(['--client', 'vscode', '--db', db]);
    assert.equal(vscode.status, 0, vscode.stderr);
    const server = jsonOf(vscode.stdout).servers['agent-memory'] as { type: string; url: string; headers: Record<string, string> };
    assert.equal(server.type, 'http');
    const claude = config(['--client', 'claude', '--db', db]);
    assert.match(claude.stdout, new RegExp(`claude mcp add --transport http agent-memory ${server.url} --header "Authorization: ${server.headers.Authorization}"`));
    const cursor = jsonOf(config(['--client', 'cursor', '--db', db]).stdout).mcpServers['agent-memory'] as { url: string; headers: Record<string, string> };
    assert.deepEqual(cursor, { url: server.url, headers: server.headers });

    const s = await startHttp(['--db', db]);
    started.push(s);
    assert.equal(s.url, server.url, 'the server starts where the config points');
    assert.ok((await listToolsOver(server.url, server.headers)).includes('query_memory'));
    await stop(started.pop()!);

    const stdioDb = dir();
    const printed = jsonOf(config(['--client', 'cursor', '--stdio', '--db', stdioDb, '--preset', 'restrictive']).stdout).mcpServers['agent-memory'] as { command: string; args: string[] };
    assert.deepEqual(printed.args.slice(-4), ['--db', stdioDb, '--preset', 'restrictive']);
    const client = new Client({ name: 'standalone-stdio', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: printed.command, args: printed.args, stderr: 'ignore' }));
    try {
      assert.ok((await client.listTools()).tools.length > 0);
    } finally {
      await client.close();
    }
  });
});
