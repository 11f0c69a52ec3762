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
  /** Set for `--http [PORT]`; port 0 means an ephemeral port. */
  http?: { port: number };
  allTools: boolean;
  logLevel: LogLevel;
}

export type CliParse = { kind: 'run'; options: CliOptions } | { kind: 'help' } | { kind: 'version' } | { kind: 'error'; message: string };

export const DEFAULT_DB_DIR = '.memory-mcp';

export const HELP_TEXT = `memory-mcp - MCP server with an episodic memory and a QuickJS code sandbox

Usage:
  memory-mcp [--db PATH] [--preset restrictive|default|permissive]
             [--allow-path DIR]... [--allow-host HOST]... [--http [PORT]]
  memory-mcp export [--db PATH] [FILE|-]
  memory-mcp import [--db PATH] [--skip-invalid] FILE|-

Export and import (JSON Lines: a header line, then one episode a line):
  export               Writes every episode to FILE (default: stdout).
  import               Adds the episodes of FILE (- for stdin) that the store lacks;
                       an invalid line imports nothing unless --skip-invalid.
                       The older whole-JSON export imports too.

Transports:
  (default)            stdio: stdout carries only MCP protocol, logs go to stderr.
  --http [PORT]        Streamable HTTP on 127.0.0.1 (PORT omitted or 0: a free port).
                       Prints the URL, a bearer token and a client configuration.
                       Set MEMORY_MCP_TOKEN to use a fixed token.

Options:
  --db PATH            Folder of the memory store (created if missing).
                       Default: $MEMORY_MCP_DB or ./${DEFAULT_DB_DIR} in the current folder.
  --preset NAME        Sandbox limits: restrictive (3 s, 64 MB), default (5 s, 128 MB)
                       or permissive (10 s, 256 MB, filesystem allowed in --allow-path dirs).
  --allow-path DIR     Let sandboxed code read/write under DIR (repeatable).
  --allow-host HOST    Let sandboxed code reach HOST[:PORT] (repeatable).
  --all-tools          List the advanced tools from the start (default: via discover_tools).
  --log-level LEVEL    trace, debug, info (default), warn or error (to stderr).
  -h, --help           Show this help.
  -v, --version        Show the version.

Example client configuration (stdio), e.g. Claude Desktop or Cursor:
  {"mcpServers": {"agent-memory": {"command": "npx", "args": ["memory-mcp", "--db", "/home/me/.memory-mcp"]}}}
`;

const PRESETS: readonly PresetName[] = ['restrictive', 'default', 'permissive'];
const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}, cwd = '.'): CliParse {
  let db: string | undefined;
  let preset: PresetName = 'default';
  const allowPaths: string[] = [];
  const allowHosts: string[] = [];
  let httpPort: number | undefined;
  let allTools = false;
  let logLevel: LogLevel = 'info';

  const args = [...argv];
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
        break;
      }
      case '--allow-path': {
        const v = value('--allow-path');
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        allowPaths.push(path.resolve(cwd, v));
        break;
      }
      case '--allow-host': {
        const v = value('--allow-host');
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        allowHosts.push(v);
        break;
      }
      case '--http': {
        let portText = inline;
        if (portText === undefined && args[i + 1] !== undefined && /^\d+$/.test(args[i + 1])) portText = args[++i];
        if (portText === undefined) {
          httpPort = 0;
        } else {
          const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
          if (!Number.isInteger(port) || port < 0 || port > 65535) return { kind: 'error', message: `--http PORT must be a number from 0 to 65535 (got "${portText}")` };
          httpPort = port;
        }
        break;
      }
      case '--all-tools':
        if (inline !== undefined) return { kind: 'error', message: '--all-tools takes no value' };
        allTools = true;
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
  return {
    kind: 'run',
    options: { db: dbDir, preset, allowPaths, allowHosts, ...(httpPort !== undefined ? { http: { port: httpPort } } : {}), allTools, logLevel },
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
