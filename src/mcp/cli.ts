/**
 * `memory-mcp`: the standalone MCP server (bundled to dist/cli.js with a shebang).
 * stdio by default (stdout carries only protocol; logs and anything printed go
 * to stderr); `--http [PORT]` serves Streamable HTTP on 127.0.0.1 and prints
 * the URL, the token and a client configuration. Exit codes: 0 ok, 1 runtime
 * failure, 2 bad arguments or an unusable --db path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { stderrLogger, type Logger } from '../common/logger';
import { MemoryClient } from '../memory';
import { PRESETS, Sandbox, validateConfig, SandboxConfigError, withResolvedPaths, type SandboxConfig } from '../sandbox';
import { HELP_TEXT, parseCliArgs, type CliOptions } from './cliArgs';
import { startHttpServer } from './http';
import { createServer, SERVER_NAME, SERVER_VERSION } from './server';

class UsageError extends Error {}

/** Makes sure `dir` is (or can become) a writable folder; throws a UsageError saying why not. */
export function ensureDbDir(dir: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isDirectory()) throw new UsageError(`--db ${dir} is not a folder (it is a file); pass a folder path`);
  if (!stat) {
    // Created one level at a time: node's recursive mkdir spins forever under /proc.
    const missing: string[] = [];
    let cur = path.resolve(dir);
    for (;;) {
      try {
        const st = fs.statSync(cur);
        if (!st.isDirectory()) throw new UsageError(`--db ${dir} cannot be created: ${cur} is a file`);
        break;
      } catch (error) {
        if (error instanceof UsageError) throw error;
        const parent = path.dirname(cur);
        if (parent === cur) break;
        missing.unshift(cur);
        cur = parent;
      }
    }
    for (const d of missing) {
      try {
        fs.mkdirSync(d);
      } catch (error) {
        throw new UsageError(`--db ${dir} cannot be created (${(error as NodeJS.ErrnoException).code ?? String(error)} at ${d})`);
      }
    }
  }
  try {
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    throw new UsageError(`--db ${dir} is not writable by this user`);
  }
}

/** The sandbox config the options ask for, its --allow-path folders resolved (a refused one throws SandboxConfigError). */
export function sandboxConfigFor(options: CliOptions): SandboxConfig {
  const preset = PRESETS[options.preset];
  return withResolvedPaths(validateConfig({
    ...preset,
    allowedPaths: options.allowPaths,
    allowFilesystem: preset.allowFilesystem || options.allowPaths.length > 0,
    allowedHosts: options.allowHosts,
    allowNetwork: preset.allowNetwork || options.allowHosts.length > 0,
  }));
}

function clientConfigText(url: string, token: string): string {
  const headers = { Authorization: `Bearer ${token}` };
  return [
    'VS Code (.vscode/mcp.json):',
    JSON.stringify({ servers: { [SERVER_NAME]: { type: 'http', url, headers } } }, null, 2),
    '',
    'Cursor, Claude Code and other clients (mcpServers):',
    JSON.stringify({ mcpServers: { [SERVER_NAME]: { type: 'http', url, headers } } }, null, 2),
  ].join('\n');
}

async function run(options: CliOptions, logger: Logger): Promise<void> {
  ensureDbDir(options.db);
  let config: SandboxConfig;
  try {
    config = sandboxConfigFor(options);
  } catch (error) {
    if (error instanceof SandboxConfigError) throw new UsageError(error.message);
    throw error;
  }
  let store: MemoryClient;
  try {
    store = await MemoryClient.open({ dir: options.db, logger, onLocked: 'readonly' });
  } catch (error) {
    throw new UsageError(`--db ${options.db} cannot be opened as a memory store: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (store.readOnly) logger.warn(`The store at ${options.db} is in use by another process: serving it read-only (writes will be refused).`);
  const sandbox = new Sandbox({ config, logger });
  const disclosure = options.allTools ? 'all' : 'progressive';

  let stop: () => Promise<void>;
  if (options.http) {
    const handle = await startHttpServer({ store, sandbox, logger, port: options.http.port, token: process.env.MEMORY_MCP_TOKEN || undefined, disclosure });
    process.stdout.write(
      [
        `${SERVER_NAME} ${SERVER_VERSION}: MCP over Streamable HTTP`,
        `  URL:   ${handle.url}`,
        `  Token: ${handle.token}`,
        `  Store: ${options.db}`,
        '',
        clientConfigText(handle.url, handle.token),
        '',
        'Press Ctrl+C to stop.',
        '',
      ].join('\n'),
    );
    stop = () => handle.close();
  } else {
    const server = createServer({ store, sandbox, logger, transport: 'stdio', disclosure });
    const transport = new StdioServerTransport();
    await server.connect(transport);
    logger.info(`${SERVER_NAME} ${SERVER_VERSION}: MCP over stdio, store ${options.db}`);
    process.stdin.once('end', () => void shutdown('stdin closed'));
    stop = () => server.close();
  }

  let stopping = false;
  async function shutdown(why: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info(`Shutting down (${why})`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    try {
      await stop();
      await sandbox.close();
      await store.close();
    } catch (error) {
      logger.error('Error during shutdown', error);
      process.exitCode = 1;
    }
    process.exit();
  }
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

export async function main(argv: string[]): Promise<number | undefined> {
  const parsed = parseCliArgs(argv, process.env, process.cwd());
  if (parsed.kind === 'help') {
    process.stdout.write(HELP_TEXT);
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${SERVER_VERSION}\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`memory-mcp: ${parsed.message}\nRun "memory-mcp --help" for usage.\n`);
    return 2;
  }
  const options = parsed.options;
  if (!options.http) {
    // stdout belongs to the protocol: route stray console output to stderr.
    const toStderr = (...args: unknown[]): void => void process.stderr.write(`${format(...args)}\n`);
    console.log = toStderr;
    console.info = toStderr;
    console.debug = toStderr;
  }
  const logger = stderrLogger(options.logLevel);
  try {
    await run(options, logger);
    return undefined; // keeps running until a signal or stdin closes
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`memory-mcp: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`memory-mcp: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== undefined) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`memory-mcp: ${String(error)}\n`);
      process.exit(1);
    },
  );
}
