/**
 * Streamable HTTP host for the MCP server, for the VS Code extension host (the
 * sandbox and the single store owner live in that one process) and for
 * `memory-mcp --http`. Stateful sessions (one McpServer per client) with JSON
 * responses (the fastest HTTP mode measured), bound to 127.0.0.1, and before
 * anything reaches the SDK:
 * - `Host` must be 127.0.0.1:PORT or localhost:PORT, and `Origin` absent or a
 *   loopback origin (DNS-rebinding protection, as the MCP spec requires) → 403;
 * - `Authorization: Bearer <token>` must carry the random token, compared in
 *   constant time → 401.
 * Every transport-level refusal (body over the limit → 413, a POST that is not
 * JSON → 415, bad JSON → 400, no room for another session → 503) is answered
 * with its status and a JSON-RPC error body before the connection is closed.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../common/logger';
import type { MemoryStoreApi } from '../memory/types';
import type { SandboxEngine } from '../sandbox/types';
import { createServer, type CreateServerOptions } from './server';

export const MCP_PATH = '/mcp';
const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface HttpServerOptions {
  store: MemoryStoreApi;
  sandbox: SandboxEngine;
  logger: Logger;
  /** TCP port on 127.0.0.1; 0 (default) picks a free ephemeral port. */
  port?: number;
  /** Bearer token clients must send; default: 32 random bytes, hex. */
  token?: string;
  /** Sessions kept at once; a new one beyond this is refused with 503 until one closes or idles out (default 64). */
  maxSessions?: number;
  /** Sessions idle this long are closed (default 30 minutes). */
  sessionIdleMs?: number;
  /** Largest request body accepted, in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  maxResponseChars?: CreateServerOptions['maxResponseChars'];
  disclosure?: CreateServerOptions['disclosure'];
  samplePhrasings?: CreateServerOptions['samplePhrasings'];
  phrasingLimits?: CreateServerOptions['phrasingLimits'];
}

export interface HttpServerHandle {
  /** Endpoint clients connect to, e.g. `http://127.0.0.1:49152/mcp`. */
  readonly url: string;
  readonly token: string;
  readonly port: number;
  /** Live MCP sessions. */
  sessions(): number;
  /** Closes every session and its server, then the listener. Idempotent. */
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
}

export function generateToken(): string {
  return randomBytes(32).toString('hex');
}

let expected: { token: string; digest: Buffer } | undefined;

/** Constant-time comparison of the presented bearer token with the expected one. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  const a = createHash('sha256').update(m[1]).digest();
  // The expected token's digest is computed once per token, not on every request.
  if (expected?.token !== token) expected = { token, digest: createHash('sha256').update(token).digest() };
  return timingSafeEqual(a, expected.digest);
}

/** `Host` must name this listener on a loopback name. */
export function hostAllowed(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
}

/** `Origin` may be absent (non-browser clients) or a loopback http(s) origin. */
export function originAllowed(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTNAMES.has(url.hostname);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function rpcError(res: http.ServerResponse, status: number, code: number, message: string, headers?: Record<string, string>): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}

class BodyTooLarge extends Error {}

/** How long the rest of an oversized body is read (and dropped) after the 413, so the client sees the answer, not a reset. */
const DRAIN_MS = 5000;

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        req.off('data', onData);
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Answers, then drops the rest of the body and closes: a client still sending gets the answer instead of ECONNRESET. */
function refuseBody(req: http.IncomingMessage, res: http.ServerResponse, status: number, code: number, message: string): void {
  rpcError(res, status, code, message, { connection: 'close' });
  req.on('data', () => undefined);
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), DRAIN_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

const isJsonContentType = (value: string | undefined): boolean => /^application\/json\s*(;|$)/i.test((value ?? '').trim());

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const { logger } = options;
  const token = options.token ?? generateToken();
  if (token.length < 16 || /\s/.test(token)) throw new Error('The HTTP bearer token must be at least 16 characters without spaces.');
  const maxSessions = options.maxSessions ?? 64;
  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const sessions = new Map<string, Session>();
  let port = 0;
  let closing = false;
  let opening = 0;

  const closeSession = async (id: string, why: string): Promise<void> => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    logger.debug(`MCP HTTP: closing session ${id} (${why})`);
    try {
      await s.transport.close();
      await s.server.close();
    } catch (error) {
      logger.warn(`MCP HTTP: error closing session ${id}`, error);
    }
  };

  const newSession = async (): Promise<Session> => {
    const server = createServer({
      store: options.store,
      sandbox: options.sandbox,
      logger,
      transport: 'streamable-http',
      sessions: () => sessions.size,
      maxResponseChars: options.maxResponseChars,
      disclosure: options.disclosure,
      samplePhrasings: options.samplePhrasings,
      phrasingLimits: options.phrasingLimits,
    });
    const session: Session = { server, transport: undefined as unknown as StreamableHTTPServerTransport, lastSeen: Date.now() };
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        sessions.set(id, session);
        logger.info(`MCP HTTP: session ${id} opened (${sessions.size} live)`);
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
        logger.info(`MCP HTTP: session ${id} closed by the client`);
      },
    });
    session.transport = transport;
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return session;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (!hostAllowed(req.headers.host, port)) {
      logger.warn(`MCP HTTP: refused request with Host ${JSON.stringify(req.headers.host ?? '')}`);
      return rpcError(res, 403, -32000, 'Forbidden: invalid Host header');
    }
    if (!originAllowed(req.headers.origin)) {
      logger.warn(`MCP HTTP: refused request from Origin ${JSON.stringify(req.headers.origin)}`);
      return rpcError(res, 403, -32000, 'Forbidden: invalid Origin');
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path !== MCP_PATH) return rpcError(res, 404, -32000, `Not found: the MCP endpoint is ${MCP_PATH}`);
    if (!tokenMatches(req.headers.authorization, token)) {
      return rpcError(res, 401, -32001, 'Unauthorized: send "Authorization: Bearer <token>"', { 'www-authenticate': 'Bearer realm="agent-memory"' });
    }
    if (closing) return rpcError(res, 503, -32000, 'Server is shutting down');

    const sessionHeader = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
    let body: unknown;
    if (req.method === 'POST') {
      if (!isJsonContentType(req.headers['content-type'])) {
        return refuseBody(req, res, 415, -32000, `Unsupported Media Type: send the JSON-RPC message with "Content-Type: application/json" (got ${JSON.stringify(req.headers['content-type'] ?? '')})`);
      }
      let raw: string;
      try {
        raw = await readBody(req, maxBody);
      } catch (error) {
        if (error instanceof BodyTooLarge) return refuseBody(req, res, 413, -32000, `Payload Too Large: the request body is larger than ${maxBody} bytes`);
        throw error;
      }
      try {
        body = JSON.parse(raw);
      } catch {
        return rpcError(res, 400, -32700, 'Parse error: the body is not valid JSON');
      }
    }

    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session) return rpcError(res, 404, -32001, 'Session not found: initialize a new session');
      session.lastSeen = Date.now();
      await session.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method === 'POST' && isInitializeRequest(body)) {
      // Sessions still initialising count too: parallel initialize requests cannot slip past the limit.
      if (sessions.size + opening >= maxSessions) {
        logger.warn(`MCP HTTP: refused a new session (${sessions.size} live, the limit)`);
        return rpcError(res, 503, -32000, `Service Unavailable: ${sessions.size} sessions are open, the limit; close one (DELETE /mcp with its Mcp-Session-Id) or retry after idle ones expire`, { 'retry-after': '30' });
      }
      opening++;
      try {
        const session = await newSession();
        await session.transport.handleRequest(req, res, body);
      } finally {
        opening--;
      }
      return;
    }
    return rpcError(res, 400, -32000, 'Bad request: no Mcp-Session-Id; start with an initialize request');
  };

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error('MCP HTTP: request failed', error);
      if (!res.headersSent) rpcError(res, 500, -32603, 'Internal server error');
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, '127.0.0.1', () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  port = (httpServer.address() as AddressInfo).port;

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) if (now - s.lastSeen > idleMs) void closeSession(id, 'idle');
  }, Math.min(60_000, Math.max(1000, idleMs / 2)));
  sweep.unref();

  const url = `http://127.0.0.1:${port}${MCP_PATH}`;
  logger.info(`MCP HTTP: listening on ${url}`);

  let closed: Promise<void> | undefined;
  return {
    url,
    token,
    port,
    sessions: () => sessions.size,
    close: () => {
      closed ??= (async () => {
        closing = true;
        clearInterval(sweep);
        await Promise.all([...sessions.keys()].map((id) => closeSession(id, 'shutdown')));
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
        logger.info('MCP HTTP: stopped');
      })();
      return closed;
    },
  };
}
