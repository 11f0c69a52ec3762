/**
 * `memory-mcp`: the standalone MCP server (bundled to dist/cli.js with a shebang).
 * stdio by default (stdout carries only protocol; logs and anything printed go
 * to stderr); `--http [PORT]` serves Streamable HTTP on 127.0.0.1 and prints
 * the URL, the token and a client configuration, both kept in the store folder
 * so they stay the same at the next start (standalone.ts); `config --client
 * NAME` prints a client's configuration. Exit codes: 0 ok, 1 runtime failure,
 * 2 bad arguments, an unusable --db path or a port in use.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { format } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { stderrLogger, type Logger } from '../common/logger';
import { MemoryClient, isMemoryError } from '../memory';
import { PRESETS, Sandbox, validateConfig, SandboxConfigError, withResolvedPaths, type SandboxConfig } from '../sandbox';
import { HELP_TEXT, parseCliArgs, parseExchangeArgs, type CliOptions, type ConfigOptions, type ExchangeParse } from './cliArgs';
import { exportFile, exportJsonl, importFile } from './jsonl';
import { startHttpServer, type HttpServerHandle, type HttpServerOptions } from './http';
import { createServer, SERVER_NAME, SERVER_VERSION } from './server';
import { choosePort, clientConfig, loadToken, savePort, SERVER_FILE, serverUrl, type ClientTarget, type TokenSource } from './standalone';

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

/** Starts the HTTP host on the chosen port; on a first start whose default port is taken, on a free one. The port used first is saved. */
async function startStandaloneHttp(options: CliOptions, deps: Pick<HttpServerOptions, 'store' | 'sandbox' | 'logger' | 'disclosure' | 'samplePhrasings'>): Promise<HttpServerHandle> {
  const { port, remember } = choosePort(options.db, options.http?.port);
  let token: TokenSource;
  try {
    token = loadToken(options.db, options.tokenFile, process.env);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (token.tightened) deps.logger.warn(`The token file ${token.from} was readable by others: its mode is now 0600.`);
  let handle: HttpServerHandle;
  try {
    handle = await startHttpServer({ ...deps, port, token: token.token });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    if (!remember) {
      const where = options.http?.port !== undefined ? 'given with --port/--http' : `saved in ${path.join(options.db, SERVER_FILE)}`;
      throw new UsageError(`port ${port} (${where}) is in use: stop what listens there (another memory-mcp?) or pass --port PORT`, { cause: error });
    }
    deps.logger.warn(`The default port ${port} is in use: serving on a free port instead (saved for the next starts).`);
    handle = await startHttpServer({ ...deps, port: 0, token: token.token });
  }
  if (remember) savePort(options.db, handle.port);
  return handle;
}

/** `memory-mcp config --client NAME`: the configuration a client needs, printed to stdout. */
function printConfig(options: ConfigOptions): void {
  ensureDbDir(options.db);
  let target: ClientTarget;
  if (options.transport === 'stdio') {
    target = { kind: 'stdio', command: process.execPath, args: [path.resolve(process.argv[1] ?? 'memory-mcp'), '--db', options.db, ...options.passOn] };
  } else {
    const { port, remember } = choosePort(options.db, options.port);
    if (remember) savePort(options.db, port); // pinned: a later first start uses this port rather than moving
    let token: TokenSource;
    try {
      token = loadToken(options.db, options.tokenFile, process.env);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    target = { kind: 'http', url: serverUrl(port), token: token.token };
  }
  process.stdout.write(`${clientConfig(options.client, target)}
`);
  if (target.kind === 'http') {
    const start = ['memory-mcp --http', '--db', options.db, ...(options.port !== undefined ? ['--port', String(options.port)] : []), ...(options.tokenFile ? ['--token-file', options.tokenFile] : [])];
    process.stderr.write(`Start the server with: ${start.join(' ')}
`);
  }
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
  const unopenable = (error: unknown): UsageError =>
    new UsageError(`--db ${options.db} cannot be opened as a memory store: ${error instanceof Error ? error.message : String(error)}`);
  // The lock is taken here; the store itself opens in its worker while the server already
  // answers (at 100k episodes that takes seconds): calls wait for it, a ping does not.
  let store: MemoryClient;
  try {
    store = await MemoryClient.begin({ dir: options.db, logger, onLocked: 'readonly', takeOver: true });
    if (options.http) await store.whenReady();
  } catch (error) {
    throw unopenable(error);
  }
  if (store.readOnly) logger.warn(`The store at ${options.db} is in use by another process: serving it read-only (writes will be refused) until that process releases it.`);
  const sandbox = new Sandbox({ config, logger });
  const disclosure = options.allTools ? 'all' : 'progressive';
  const samplePhrasings = (): boolean => options.samplePhrasings;

  let stop: () => Promise<void>;
  if (options.http) {
    let handle: HttpServerHandle;
    try {
      handle = await startStandaloneHttp(options, { store, sandbox, logger, disclosure, samplePhrasings });
    } catch (error) {
      await Promise.allSettled([sandbox.close(), store.close()]);
      throw error;
    }
    process.stdout.write(
      [
        `${SERVER_NAME} ${SERVER_VERSION}: MCP over Streamable HTTP`,
        `  URL:   ${handle.url}`,
        `  Token: ${handle.token}`,
        `  Store: ${options.db}`,
        '',
        clientConfig('vscode', { kind: 'http', url: handle.url, token: handle.token }),
        '',
        'For Claude Code or Cursor: memory-mcp config --client claude|cursor. The URL and token stay the same at the next start.',
        'Press Ctrl+C to stop.',
        '',
      ].join('\n'),
    );
    stop = () => handle.close();
  } else {
    const server = createServer({ store, sandbox, logger, transport: 'stdio', disclosure, samplePhrasings });
    const transport = new StdioServerTransport();
    await server.connect(transport);
    logger.info(`${SERVER_NAME} ${SERVER_VERSION}: MCP over stdio, store ${options.db}`);
    store.whenReady().catch((error: unknown) => {
      process.stderr.write(`memory-mcp: ${unopenable(error).message}\n`);
      process.exit(2);
    });
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
  if (argv[0] === 'export' || argv[0] === 'import') return exchange(parseExchangeArgs(argv[0], argv.slice(1), process.env, process.cwd()));
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
  if (parsed.kind === 'config') {
    try {
      printConfig(parsed.options);
      return 0;
    } catch (error) {
      process.stderr.write(`memory-mcp: ${error instanceof Error ? error.message : String(error)}\n`);
      return error instanceof UsageError ? 2 : 1;
    }
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

/** `memory-mcp export|import`: streams JSON Lines (jsonl.ts); progress and the summary go to stderr. */
async function exchange(parsed: ExchangeParse): Promise<number> {
  if (parsed.kind === 'error') {
    process.stderr.write(`memory-mcp: ${parsed.message}\nRun "memory-mcp --help" for usage.\n`);
    return 2;
  }
  const logger = stderrLogger('warn');
  let spooled: string | undefined;
  let store: MemoryClient | undefined;
  const started = Date.now();
  let lastProgress = started;
  const progress = (done: number, total?: number): void => {
    const t = Date.now();
    if (t - lastProgress < 1000) return;
    lastProgress = t;
    process.stderr.write(`memory-mcp: ${parsed.kind}ed ${done}${total !== undefined ? ` of ${total}` : ''} episodes (${Math.round((t - started) / 1000)} s)\n`);
  };
  // Ctrl-C (or SIGTERM) cancels: an import changes nothing, an export leaves its target as it was.
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const isCancelled = (): boolean => interrupted;
  try {
    ensureDbDir(parsed.db);
    store = await MemoryClient.open({ dir: parsed.db, logger, onLocked: parsed.kind === 'export' ? 'readonly' : 'error' });
    if (parsed.kind === 'export') {
      // A file is written by the store's worker; stdout is streamed from pages here.
      const n = parsed.file === '-' ? await exportJsonl(store, process.stdout, progress, isCancelled) : await exportFile(store, parsed.file, { progress, isCancelled });
      process.stderr.write(`memory-mcp: exported ${n} episodes${parsed.file === '-' ? '' : ` to ${parsed.file}`} in ${Date.now() - started} ms\n`);
    } else {
      let file = parsed.file;
      if (file === '-') {
        // Import reads its file twice (check, then import): spool stdin to a temporary file.
        spooled = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'memory-mcp-import-')), 'stdin.jsonl');
        await pipeline(process.stdin, fs.createWriteStream(spooled));
        file = spooled;
      }
      const r = await importFile(store, file, { skipInvalid: parsed.skipInvalid, progress, isCancelled });
      for (const bad of r.invalid.slice(0, 10)) process.stderr.write(`memory-mcp: skipped line ${bad.line}: ${bad.message}\n`);
      process.stderr.write(
        `memory-mcp: imported ${r.imported} episodes, ${r.skipped} already present${r.invalid.length ? `, ${r.invalid.length} invalid lines skipped` : ''} (${r.format === 'json' ? 'whole-JSON export' : 'JSON Lines'}) in ${Date.now() - started} ms\n`,
      );
    }
    return 0;
  } catch (error) {
    process.stderr.write(`memory-mcp: ${parsed.kind} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return isMemoryError(error, 'cancelled') ? 130 : 1;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await store?.close().catch(() => undefined);
    if (spooled) fs.rmSync(path.dirname(spooled), { recursive: true, force: true });
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
