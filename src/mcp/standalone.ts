/**
 * What makes a standalone `memory-mcp --http` configuration last across
 * restarts: the port and the bearer token are kept in the store folder, so a
 * configuration pasted into a client keeps working.
 * - Port: `--port`/`--http PORT` if given; else the one saved in
 *   `<store>/server.json`; else DEFAULT_HTTP_PORT (a free port if that one is
 *   taken), saved on that first start.
 * - Token: `MEMORY_MCP_TOKEN` if set; else the file `--token-file` names; else
 *   `<store>/token`. A missing token file is created with a new random token,
 *   mode 0600.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_HTTP_PORT, type ClientKind } from './cliArgs';
import { generateToken, MCP_PATH } from './http';
import { SERVER_NAME } from './server';

export const SERVER_FILE = 'server.json';
export const TOKEN_FILE = 'token';


/** The port saved in the store folder by an earlier start, if any. */
export function savedPort(db: string): number | undefined {
  try {
    const data = JSON.parse(fs.readFileSync(path.join(db, SERVER_FILE), 'utf8')) as { port?: unknown };
    const port = data.port;
    return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  } catch {
    return undefined;
  }
}

export function savePort(db: string, port: number): void {
  const file = path.join(db, SERVER_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ port }, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** The port to serve on and whether it is the first choice to remember. */
export function choosePort(db: string, requested: number | undefined): { port: number; remember: boolean } {
  if (requested !== undefined) return { port: requested, remember: false };
  const saved = savedPort(db);
  return saved !== undefined ? { port: saved, remember: false } : { port: DEFAULT_HTTP_PORT, remember: true };
}

export interface TokenSource {
  token: string;
  /** Where it came from: the environment or a file path. */
  from: string;
  /** Set when a group- or world-readable token file was tightened to 0600. */
  tightened?: boolean;
}

/** Reads (or creates, mode 0600) the bearer token; MEMORY_MCP_TOKEN wins. */
export function loadToken(db: string, tokenFile: string | undefined, env: Readonly<Record<string, string | undefined>>): TokenSource {
  const fromEnv = env.MEMORY_MCP_TOKEN;
  if (fromEnv) return { token: fromEnv, from: 'MEMORY_MCP_TOKEN' };
  const file = tokenFile ?? path.join(db, TOKEN_FILE);
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`the token file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  if (text === undefined) {
    const token = generateToken();
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, from: file };
  }
  if (text.length < 16 || /\s/.test(text)) throw new Error(`the token in ${file} must be at least 16 characters without spaces`);
  let tightened = false;
  if (process.platform !== 'win32' && (fs.statSync(file).mode & 0o077) !== 0) {
    fs.chmodSync(file, 0o600);
    tightened = true;
  }
  return { token: text, from: file, tightened };
}

export function serverUrl(port: number): string {
  return `http://127.0.0.1:${port}${MCP_PATH}`;
}

export type ClientTarget = { kind: 'http'; url: string; token: string } | { kind: 'stdio'; command: string; args: string[] };

/** A ready-to-paste configuration for one client, with where to paste it. */
export function clientConfig(client: ClientKind, target: ClientTarget): string {
  const http = target.kind === 'http' ? { url: target.url, headers: { Authorization: `Bearer ${target.token}` } } : undefined;
  const stdio = target.kind === 'stdio' ? { command: target.command, args: target.args } : undefined;
  switch (client) {
    case 'vscode':
      return [
        '// VS Code: .vscode/mcp.json in the workspace (or "MCP: Open User Configuration")',
        JSON.stringify({ servers: { [SERVER_NAME]: http ? { type: 'http', ...http } : { type: 'stdio', ...stdio } } }, null, 2),
      ].join('\n');
    case 'cursor':
      return ['// Cursor: .cursor/mcp.json in the project, or ~/.cursor/mcp.json', JSON.stringify({ mcpServers: { [SERVER_NAME]: http ?? stdio } }, null, 2)].join('\n');
    case 'claude': {
      const add = http
        ? `claude mcp add --transport http ${SERVER_NAME} ${http.url} --header "Authorization: ${http.headers.Authorization}"`
        : `claude mcp add ${SERVER_NAME} -- ${[stdio!.command, ...stdio!.args].map(shellQuote).join(' ')}`;
      return [
        '# Claude Code: run this, or put the JSON below in .mcp.json at the project root',
        add,
        '',
        JSON.stringify({ mcpServers: { [SERVER_NAME]: http ? { type: 'http', ...http } : { type: 'stdio', ...stdio } } }, null, 2),
      ].join('\n');
    }
  }
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
