/**
 * Weakness 6: transport-level refusals answered, not reset. A hostile client
 * on loopback (holding the token) sends an oversized body (declared and
 * streamed), a body that is not JSON, the wrong content type, and more
 * sessions than allowed: each gets its status and a JSON-RPC error body, and
 * the server keeps serving.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import { silentLogger } from '../../src/common/logger';
import { startHttpServer, type HttpServerHandle } from '../../src/mcp';
import { openRealParts, type RealParts } from '../unit/mcp/helpers';
import { watchHealth } from './health';

interface Reply {
  status: number;
  body: string;
  error?: string;
}

/** A raw request; `chunks` are written one after another (a streamed body without Content-Length). */
function send(srv: HttpServerHandle, opts: { headers?: Record<string, string>; body?: string; chunks?: Buffer[]; sessionId?: string }): Promise<Reply> {
  return new Promise((resolve) => {
    const req = http.request(srv.url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${srv.token}`, ...(opts.sessionId ? { 'mcp-session-id': opts.sessionId, 'mcp-protocol-version': '2025-06-18' } : {}), ...opts.headers },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, body, error: e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: e.code ?? e.message }));
    if (opts.chunks) {
      const write = (i: number): void => {
        if (i >= (opts.chunks?.length ?? 0)) return void req.end();
        if (req.destroyed) return;
        req.write(opts.chunks?.[i], () => write(i + 1));
      };
      write(0);
    } else req.end(opts.body);
  });
}

function rpcError(r: Reply, status: number, pattern: RegExp): void {
  assert.equal(r.error, undefined, `the client saw ${r.error} instead of an answer`);
  assert.equal(r.status, status, r.body);
  const body = JSON.parse(r.body) as { jsonrpc: string; error: { code: number; message: string } };
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(typeof body.error.code, 'number');
  assert.match(body.error.message, pattern);
}

const init = (id: number): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'hostile', version: '1' } } });

describe('security: HTTP refusals are answered with a status and a JSON-RPC error', function () {
  this.timeout(60_000);
  let parts: RealParts;
  let srv: HttpServerHandle;

  before(async () => {
    parts = await openRealParts();
    srv = await startHttpServer({ store: parts.store, sandbox: parts.sandbox, logger: silentLogger, maxBodyBytes: 64 * 1024, maxSessions: 3 });
  });
  after(async () => {
    await srv.close();
    await parts.dispose();
  });

  it('oversized (declared and streamed), non-JSON, wrong content type: 413, 400, 415, never a reset; the server keeps serving', async () => {
    const health = watchHealth();
    rpcError(await send(srv, { body: 'x'.repeat(1024 * 1024) }), 413, /larger than 65536 bytes/);
    // Streamed without Content-Length: 4 MiB in 64 KiB chunks, still being sent when the 413 comes.
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 32));
    rpcError(await send(srv, { chunks, headers: { 'transfer-encoding': 'chunked' } }), 413, /larger than/);
    rpcError(await send(srv, { body: '{"jsonrpc": "2.0", ' }), 400, /not valid JSON/);
    rpcError(await send(srv, { body: init(1), headers: { 'content-type': 'text/plain' } }), 415, /Content-Type: application\/json/);
    // Ten oversized bodies at once: every one answered.
    const many = await Promise.all(Array.from({ length: 10 }, () => send(srv, { body: 'y'.repeat(512 * 1024) })));
    for (const r of many) rpcError(r, 413, /larger than/);
    await health.assertUnharmed();
    const ok = await send(srv, { body: init(2) });
    assert.equal(ok.status, 200, ok.body);
  });

  it('more sessions than allowed: 503 with a JSON-RPC error; existing sessions are not evicted', async () => {
    const health = watchHealth();
    // One session was opened by the test before; open up to the limit of 3.
    const opened: Reply[] = [];
    for (let i = 0; i < 6; i++) opened.push(await send(srv, { body: init(10 + i) }));
    const ok = opened.filter((r) => r.status === 200).length;
    assert.equal(srv.sessions(), 3);
    assert.equal(ok, 2, 'the sessions up to the limit opened');
    for (const r of opened.filter((x) => x.status !== 200)) rpcError(r, 503, /sessions are open, the limit/);
    await health.assertUnharmed();
  });
});
