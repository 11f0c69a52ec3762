/** Argument parsing for the `memory-mcp` bin (pure: no I/O, so it is unit-tested directly). */
import * as path from 'node:path';
import type { PresetName } from '../sandbox/types';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface CliOptions {
  /** Store folder, absolute. */
  db: string;
  preset: PresetName;
  allowPaths: string[];
  allowHosts: string[];
  /** Set for `--http [PORT]` or `--port PORT`; no port: the saved (or default) one; 0: an ephemeral port. */
  http?: { port?: number };
  /** `--token-file PATH`, absolute. */
  tokenFile?: string;
  allTools: boolean;
  /** `--sample-phrasings` or MEMORY_MCP_SAMPLE_PHRASINGS=1: ask the client's model for phrasings of completed tasks. */
  samplePhrasings: boolean;
  logLevel: LogLevel;
}

export type ClientKind = 'vscode' | 'claude' | 'cursor';
export const CLIENT_KINDS: readonly ClientKind[] = ['vscode', 'claude', 'cursor'];

/** `memory-mcp config --client NAME`: print a configuration for that client. */
export interface ConfigOptions {
  client: ClientKind;
  /** 'http' (default): the URL and token of `memory-mcp --http`; 'stdio': a command line. */
  transport: 'http' | 'stdio';
  db: string;
  port?: number;
  tokenFile?: string;
  /** The server options a stdio configuration passes on (preset, allowed paths and hosts, --all-tools, --sample-phrasings). */
  passOn: string[];
}

export type CliParse =
  | { kind: 'run'; options: CliOptions }
  | { kind: 'config'; options: ConfigOptions }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error'; message: string };

export const DEFAULT_DB_DIR = '.memory-mcp';
/** The documented default port of `memory-mcp --http` (kept in the store folder after the first start). */
export const DEFAULT_HTTP_PORT = 48600;
const DEFAULT_HTTP_PORT_TEXT = String(DEFAULT_HTTP_PORT);

export const HELP_TEXT = `memory-mcp - MCP server with an episodic memory and a QuickJS code sandbox

Usage:
  memory-mcp [--db PATH] [--preset restrictive|default|permissive]
             [--allow-path DIR]... [--allow-host HOST]... [--http [PORT]]
  memory-mcp config --client vscode|claude|cursor [--stdio] [--db PATH] [--port PORT]
  memory-mcp export [--db PATH] [FILE|-]
  memory-mcp import [--db PATH] [--skip-invalid] FILE|-

Export and import (JSON Lines: a header line, then one episode a line):
  export               Writes every episode to FILE (default: stdout).
  import               Adds the episodes of FILE (- for stdin) that the store lacks;
                       an invalid line imports nothing unless --skip-invalid.
                       The older whole-JSON export imports too.

Transports:
  (default)            stdio: stdout carries only MCP protocol, logs go to stderr.
  --http [PORT]        Streamable HTTP on 127.0.0.1. Without PORT: the port saved in
                       the store folder (server.json), else ${DEFAULT_HTTP_PORT_TEXT} on the first
                       start (a free port if taken), then saved. 0: a free port, not saved.
  --port PORT          Same as --http PORT.
  --token-file PATH    Bearer token file (created with mode 0600 if missing).
                       Default: token in the store folder. MEMORY_MCP_TOKEN overrides both.
                       The URL and token stay the same from one start to the next.

Client configuration:
  config --client NAME Print a ready-to-paste configuration for vscode, claude or cursor
                       (the HTTP URL and token a later --http start will use; with
                       --stdio a command line instead).

Options:
  --db PATH            Folder of the memory store (created if missing).
                       Default: $MEMORY_MCP_DB or ./${DEFAULT_DB_DIR} in the current folder.
  --preset NAME        Sandbox limits: restrictive (3 s, 64 MB), default (5 s, 128 MB)
                       or permissive (10 s, 256 MB, filesystem allowed in --allow-path dirs).
  --allow-path DIR     Let sandboxed code read/write under DIR (repeatable).
  --allow-host HOST    Let sandboxed code reach HOST[:PORT] (repeatable).
  --all-tools          List the advanced tools from the start (default: via discover_tools).
  --sample-phrasings   After each completed episode, ask the client's model (MCP sampling,
                       when the client offers it) for a few rewordings of the task, so
                       later queries in other words find it. Off by default; also
                       MEMORY_MCP_SAMPLE_PHRASINGS=1.
  --log-level LEVEL    trace, debug, info (default), warn or error (to stderr).
  -h, --help           Show this help.
  -v, --version        Show the version.

Example client configuration (stdio), e.g. Claude Desktop or Cursor:
  {"mcpServers": {"agent-memory": {"command": "npx", "args": ["memory-mcp", "--db", "/home/me/.memory-mcp"]}}}
`;

function portValue(flag: string, text: string): number | { error: string } {
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) return { error: `${flag} must be a number from 0 to 65535 (got "${text}")` };
  return port;
}

const PRESETS: readonly PresetName[] = ['restrictive', 'default', 'permissive'];
const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}, cwd = '.'): CliParse {
  let db: string | undefined;
  let preset: PresetName = 'default';
  const allowPaths: string[] = [];
  const allowHosts: string[] = [];
  let httpPort: number | undefined;
  let http = false;
  let allTools = false;
  let samplePhrasings = false;
  let logLevel: LogLevel = 'info';
  let tokenFile: string | undefined;
  let client: string | undefined;
  let stdio = false;
  const passOn: string[] = [];

  const isConfig = argv[0] === 'config';
  const args = isConfig ? argv.slice(1) : [...argv];
  for (let i = 0; i < args.length; i++) {
    let arg = args[i];
    let inline: string | undefined;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const value = (flag: string): string | { error: string } => {
      if (inline !== undefined) return inline === '' ? { error: `${flag} needs a value` } : inline;
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) return { error: `${flag} needs a value` };
      i++;
      return next;
    };
    switch (arg) {
      case '-h':
      case '--help':
        return { kind: 'help' };
      case '-v':
      case '--version':
        return { kind: 'version' };
      case '--db': {
        const v = value('--db');
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        db = v;
        break;
      }
      case '--preset': {
        const v = value('--preset');
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        if (!PRESETS.includes(v as PresetName)) return { kind: 'error', message: `--preset must be restrictive, default or permissive (got "${v}")` };
        preset = v as PresetName;
        passOn.push('--preset', v);
        break;
      }
      case '--allow-path': {
        const v = value('--allow-path');
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        allowPaths.push(path.resolve(cwd, v));
        passOn.push('--allow-path', path.resolve(cwd, v));
        break;
      }
      case '--allow-host': {
        const v = value('--allow-host');
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        allowHosts.push(v);
        passOn.push('--allow-host', v);
        break;
      }
      case '--http': {
        let portText = inline;
        if (portText === undefined && args[i + 1] !== undefined && /^\d+$/.test(args[i + 1])) portText = args[++i];
        http = true;
        if (portText !== undefined) {
          const port = portValue('--http PORT', portText);
          if (typeof port !== 'number') return { kind: 'error', message: port.error };
          httpPort = port;
        }
        break;
      }
      case '--port': {
        const v = value('--port');
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        const port = portValue('--port', v);
        if (typeof port !== 'number') return { kind: 'error', message: port.error };
        http = true;
        httpPort = port;
        break;
      }
      case '--token-file': {
        const v = value('--token-file');
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        tokenFile = path.resolve(cwd, v);
        break;
      }
      case '--client': {
        const v = value('--client');
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        client = v;
        break;
      }
      case '--stdio':
        if (inline !== undefined) return { kind: 'error', message: '--stdio takes no value' };
        stdio = true;
        break;
      case '--all-tools':
        if (inline !== undefined) return { kind: 'error', message: '--all-tools takes no value' };
        allTools = true;
        passOn.push('--all-tools');
        break;
      case '--sample-phrasings':
        if (inline !== undefined) return { kind: 'error', message: '--sample-phrasings takes no value' };
        samplePhrasings = true;
        passOn.push('--sample-phrasings');
        break;
      case '--log-level': {
        const v = value('--log-level');
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        if (!LEVELS.includes(v as LogLevel)) return { kind: 'error', message: `--log-level must be one of ${LEVELS.join(', ')} (got "${v}")` };
        logLevel = v as LogLevel;
        break;
      }
      default:
        return { kind: 'error', message: arg.startsWith('-') ? `unknown option "${arg}"` : `unexpected argument "${arg}"` };
    }
  }
  const dbDir = path.resolve(cwd, db ?? env.MEMORY_MCP_DB ?? DEFAULT_DB_DIR);
  if (isConfig) {
    if (client === undefined) return { kind: 'error', message: `config needs --client ${CLIENT_KINDS.join('|')}` };
    if (!CLIENT_KINDS.includes(client as ClientKind)) return { kind: 'error', message: `--client must be ${CLIENT_KINDS.join(', ')} (got "${client}")` };
    if (stdio && (http || tokenFile !== undefined)) return { kind: 'error', message: '--stdio prints a command line: it takes no --http, --port or --token-file' };
    return {
      kind: 'config',
      options: { client: client as ClientKind, transport: stdio ? 'stdio' : 'http', db: dbDir, ...(httpPort !== undefined ? { port: httpPort } : {}), ...(tokenFile ? { tokenFile } : {}), passOn },
    };
  }
  if (client !== undefined || stdio) return { kind: 'error', message: `${client !== undefined ? '--client' : '--stdio'} belongs to the config command: memory-mcp config --client NAME` };
  if (tokenFile !== undefined && !http) return { kind: 'error', message: '--token-file is for the HTTP transport: add --http' };
  return {
    kind: 'run',
    options: {
      db: dbDir,
      preset,
      allowPaths,
      allowHosts,
      ...(http ? { http: httpPort !== undefined ? { port: httpPort } : {} } : {}),
      ...(tokenFile ? { tokenFile } : {}),
      allTools,
      samplePhrasings: samplePhrasings || /^(1|true|yes|on)$/i.test(env.MEMORY_MCP_SAMPLE_PHRASINGS ?? ''),
      logLevel,
    },
  };
}

export type ExchangeParse =
  | { kind: 'export'; db: string; file: string }
  | { kind: 'import'; db: string; file: string; skipInvalid: boolean }
  | { kind: 'error'; message: string };

/** `export [--db PATH] [FILE|-]` and `import [--db PATH] [--skip-invalid] FILE|-` (argv after the subcommand name). */
export function parseExchangeArgs(kind: 'export' | 'import', argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}, cwd = '.'): ExchangeParse {
  let db: string | undefined;
  let file: string | undefined;
  let skipInvalid = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--db' || arg.startsWith('--db=')) {
      const v = arg.startsWith('--db=') ? arg.slice(5) : argv[++i];
      if (!v || v.startsWith('--')) return { kind: 'error', message: '--db needs a value' };
      db = v;
    } else if (arg === '--skip-invalid' && kind === 'import') skipInvalid = true;
    else if (arg !== '-' && arg.startsWith('-')) return { kind: 'error', message: `unknown option "${arg}" for ${kind}` };
    else if (file !== undefined) return { kind: 'error', message: `${kind} takes one FILE (got "${file}" and "${arg}")` };
    else file = arg;
  }
  const dbDir = path.resolve(cwd, db ?? env.MEMORY_MCP_DB ?? DEFAULT_DB_DIR);
  if (kind === 'import') {
    if (file === undefined) return { kind: 'error', message: 'import needs a FILE (or - for stdin)' };
    return { kind, db: dbDir, file: file === '-' ? '-' : path.resolve(cwd, file), skipInvalid };
  }
  return { kind, db: dbDir, file: file === undefined || file === '-' ? '-' : path.resolve(cwd, file) };
}
