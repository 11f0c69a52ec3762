/**
 * A real VS Code, headless: code-server (npm; bundles VS Code 1.139 and needs Node 24, also from npm)
 * opened in Debian's Chromium through playwright-core. Installs what it needs by itself into an
 * ignored cache folder it reuses, and stops every process it started by process group id.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const cacheDir = path.join(repoRoot, '.cache', 'vscode-headless');
export const resultsDir = path.join(repoRoot, 'test-results');

const CODE_SERVER_VERSION = '4.139.1';
const NODE_MAJOR = '24';
const APT_PACKAGES: Array<{ pkg: string; check: () => boolean }> = [
  { pkg: 'chromium', check: () => existsSync('/usr/bin/chromium') },
  { pkg: 'libkrb5-dev', check: () => existsSync('/usr/include/gssapi/gssapi.h') },
];

function log(message: string): void {
  process.stderr.write(`[headless] ${message}\n`);
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status ?? r.signal}`);
}

/** Debian packages: installed when root, otherwise the exact command is printed and we stop. */
export function ensureAptPackages(): void {
  const missing = APT_PACKAGES.filter((p) => !p.check()).map((p) => p.pkg);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(`Missing Debian packages: ${missing.join(' ')}. Install them with:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
  }
  run('apt-get', ['update', '-qq'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** The npm CLI script of the npm running us (or the machine's), so it can be run under another node. */
function npmCliPath(): string {
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && /npm-cli\.js$/.test(fromEnv) && existsSync(fromEnv)) return fromEnv;
  const root = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout.trim();
  const cli = path.join(root, 'npm', 'bin', 'npm-cli.js');
  if (!existsSync(cli)) throw new Error(`Cannot find npm's CLI script (looked at ${cli}).`);
  return cli;
}

/**
 * Installs an npm package into a cache folder. With `node`, npm itself runs on that node binary,
 * so install scripts (code-server's version check, native module builds) see that node too.
 */
function npmInstallInto(dir: string, spec: string, node?: string): void {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path.join(dir, 'package.json'))) writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'cache', private: true }));
  // Install scripts are required here: node@24 places its binary, code-server builds its native modules.
  const args = ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', '--dangerously-allow-all-scripts', spec];
  if (node) {
    run(node, [npmCliPath(), ...args], { cwd: dir, env: { ...withNode24(process.env, node), NODE: node } });
  } else {
    run('npm', args, { cwd: dir, env: process.env });
  }
}

export interface Toolchain {
  nodeBin: string;
  codeServerBin: string;
}

/** Node 24 and code-server from the npm registry, cached under .cache/vscode-headless and reused. */
export function ensureToolchain(): Toolchain {
  ensureAptPackages();
  const nodeDir = path.join(cacheDir, 'node24');
  const nodeBin = path.join(nodeDir, 'node_modules', 'node', 'bin', 'node');
  const nodeOk = existsSync(nodeBin) && spawnSync(nodeBin, ['--version'], { encoding: 'utf8' }).stdout.startsWith(`v${NODE_MAJOR}.`);
  if (!nodeOk) {
    const started = Date.now();
    npmInstallInto(nodeDir, `node@${NODE_MAJOR}`);
    log(`installed Node ${NODE_MAJOR} in ${Date.now() - started} ms`);
  }
  const csDir = path.join(cacheDir, 'code-server');
  const codeServerBin = path.join(csDir, 'node_modules', '.bin', 'code-server');
  const marker = path.join(csDir, '.installed');
  const installed = existsSync(marker) && readFileSync(marker, 'utf8') === CODE_SERVER_VERSION && existsSync(codeServerBin);
  if (!installed) {
    const started = Date.now();
    npmInstallInto(csDir, `code-server@${CODE_SERVER_VERSION}`, nodeBin);
    writeFileSync(marker, CODE_SERVER_VERSION);
    log(`installed code-server ${CODE_SERVER_VERSION} in ${Date.now() - started} ms`);
  }
  return { nodeBin, codeServerBin };
}

/**
 * The environment with Node 24 first on PATH and without the outer npm's `npm_*` variables: when
 * the tests run under `npm test`, an inherited npm_config_user_agent ("… node/v20 …") would be
 * taken as the inner npm's config and code-server's install check would see Node 20.
 */
function withNode24(env: NodeJS.ProcessEnv, nodeBin: string): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !/^npm_/i.test(k)));
  return { ...clean, PATH: `${path.dirname(nodeBin)}${path.delimiter}${env.PATH ?? ''}` };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Kills a whole process group (the child was started detached, so its pid is the group id). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

export interface CodeServer {
  port: number;
  origin: string;
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  /** URL that opens the workspace, optionally with a smoke-test payload. */
  url(payload?: Array<[string, string]>): string;
  /** Remote URI of a local path for the payload. */
  remote(p: string): string;
  installExtension(vsix: string): void;
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  workspace?: string;
  settings?: Record<string, unknown>;
  /** Reuse an extensions folder (e.g. one a .vsix was installed into). */
  extensionsDir?: string;
  vsix?: string;
  /** Workspace trust: true (default) disables it, so the folder is trusted; false leaves it on. */
  trusted?: boolean;
  /** Extra environment for code-server and the extension host it starts. */
  env?: Record<string, string>;
}

const stoppers = new Set<() => Promise<void>>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const stopAll = (): void => {
    for (const s of stoppers) void s();
  };
  process.once('SIGINT', () => {
    stopAll();
    process.exit(130);
  });
  process.once('SIGTERM', () => {
    stopAll();
    process.exit(143);
  });
}

export async function startCodeServer(options: StartOptions = {}): Promise<CodeServer> {
  const tc = ensureToolchain();
  hookExit();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'agent-memory-cs-'));
  const workspace = options.workspace ?? path.join(scratch, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const userDataDir = path.join(scratch, 'user-data');
  const extensionsDir = options.extensionsDir ?? path.join(scratch, 'extensions');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': options.trusted === false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    ...options.settings,
  };
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const env: NodeJS.ProcessEnv = {
    ...withNode24(process.env, tc.nodeBin),
    XDG_CONFIG_HOME: path.join(scratch, 'xdg-config'),
    XDG_DATA_HOME: path.join(scratch, 'xdg-data'),
    XDG_CACHE_HOME: path.join(scratch, 'xdg-cache'),
    ...options.env,
  };
  const installExtension = (vsix: string): void => {
    run(tc.codeServerBin, ['--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--force'], { env });
  };
  if (options.vsix) installExtension(options.vsix);

  const port = await freePort();
  const args = [
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(options.trusted === false ? [] : ['--disable-workspace-trust']),
    '--reconnection-grace-time', '5',
    '--vscode-option', 'enable-smoke-test-driver',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    workspace,
  ];
  const child = spawn(tc.codeServerBin, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const origin = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    stoppers.delete(stop);
    killGroup(child, 'SIGTERM');
    const exited = await Promise.race([
      new Promise<boolean>((r) => (child.exitCode !== null ? r(true) : child.once('exit', () => r(true)))),
      new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
    ]);
    if (!exited) killGroup(child, 'SIGKILL');
    // Extension hosts and other helpers share the group; make sure none is left.
    killGroup(child, 'SIGKILL');
    // Keep VS Code's own logs (extension host, MCP servers) for post-mortems.
    try {
      cpSync(path.join(userDataDir, 'logs'), path.join(resultsDir, 'code-server-logs', path.basename(scratch)), { recursive: true });
    } catch {
      // No logs were written.
    }
    rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
  };
  stoppers.add(stop);

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${origin}/healthz`);
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not become healthy within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const remote = (p: string): string => `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`;
  const url = (payload?: Array<[string, string]>): string => {
    let u = `${origin}/?folder=${encodeURIComponent(workspace)}`;
    if (payload) u += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    return u;
  };
  return { port, origin, workspace, userDataDir, extensionsDir, url, remote, installExtension, output: () => out, stop };
}

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Debian's Chromium, headless, through playwright-core (no browser download). */
export async function openBrowser(): Promise<BrowserSession> {
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'agent-memory-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const browser = context.browser() as Browser;
  const page = context.pages()[0] ?? (await context.newPage());
  const close = async (): Promise<void> => {
    await context.close().catch(() => undefined);
    rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 });
  };
  return { browser, context, page, close };
}
