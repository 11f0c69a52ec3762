import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { silentLogger } from '../../../src/common/logger';
import { hostAllowed, originAllowed, startHttpServer, tokenMatches, type HttpServerHandle } from '../../../src/mcp';
import { openRealParts, type RealParts } from './helpers';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string; host?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        agent: false,
        method: opts.method ?? 'POST',
        path: opts.path ?? '/mcp',
        headers: { host: opts.host ?? `127.0.0.1:${port}`, ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('mcp: HTTP transport security', function () {
  this.timeout(30_000);
  let parts: RealParts;
  let srv: HttpServerHandle;

  before(async () => {
    parts = await openRealParts();
    srv = await startHttpServer({ store: parts.store, sandbox: parts.sandbox, logger: silentLogger });
  });
  after(async () => {
    await srv.close();
    await parts.dispose();
  });

  it('generates a 32-byte hex token and a loopback URL on an ephemeral port', () => {
    assert.match(srv.token, /^[0-9a-f]{64}$/);
    assert.equal(srv.url, `http://127.0.0.1:${srv.port}/mcp`);
    assert.ok(srv.port > 0);
  });

  it('no token → 401 with WWW-Authenticate', async () => {
    const r = await request(srv.port, { headers: JSON_HEADERS, body: INIT });
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    assert.equal(srv.sessions(), 0);
  });

  it('wrong token, wrong scheme, or the token with a suffix → 401', async () => {
    for (const auth of ['Bearer nope', `Bearer ${srv.token.slice(0, -1)}0`.replace(srv.token, ''), `Basic ${srv.token}`, `Bearer ${srv.token}x`, `Bearer`, `${srv.token}`]) {
      const r = await request(srv.port, { headers: { ...JSON_HEADERS, authorization: auth }, body: INIT });
      assert.equal(r.status, 401, auth);
    }
    assert.equal(srv.sessions(), 0);
  });

  it('foreign Origin → 403 even with the right token', async () => {
    for (const origin of ['https://evil.example', 'http://127.0.0.1.evil.example', 'null', 'file://', 'http://192.168.1.5:3000']) {
      const r = await request(srv.port, { headers: { ...JSON_HEADERS, authorization: `Bearer ${srv.token}`, origin }, body: INIT });
      assert.equal(r.status, 403, origin);
    }
    assert.equal(srv.sessions(), 0);
  });

  it('foreign Host (DNS rebinding) → 403 even with the right token', async () => {
    for (const host of ['evil.example', `evil.example:${srv.port}`, `127.0.0.1:${srv.port + 1}`, '127.0.0.1']) {
      const r = await request(srv.port, { host, headers: { ...JSON_HEADERS, authorization: `Bearer ${srv.token}` }, body: INIT });
      assert.equal(r.status, 403, host);
    }
  });

  it('right token with no Origin or a loopback Origin → initialize succeeds with a session id', async () => {
    for (const origin of [undefined, `http://localhost:${srv.port}`, 'http://127.0.0.1:6274']) {
      const headers: Record<string, string> = { ...JSON_HEADERS, authorization: `Bearer ${srv.token}` };
      if (origin) headers.origin = origin;
      const r = await request(srv.port, { headers, body: INIT });
      assert.equal(r.status, 200, `${origin}: ${r.body}`);
      assert.ok(r.headers['mcp-session-id']);
      const msg = JSON.parse(r.body) as { result: { serverInfo: { name: string } } };
      assert.equal(msg.result.serverInfo.name, 'agent-memory');
      const del = await request(srv.port, { method: 'DELETE', headers: { ...JSON_HEADERS, authorization: `Bearer ${srv.token}`, 'mcp-session-id': String(r.headers['mcp-session-id']) } });
      assert.equal(del.status, 200);
    }
  });

  it('unknown session → 404, no session on a non-initialize request → 400, bad JSON → 400, other paths → 404', async () => {
    const auth = { ...JSON_HEADERS, authorization: `Bearer ${srv.token}` };
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.equal((await request(srv.port, { headers: { ...auth, 'mcp-session-id': 'nope' }, body: list })).status, 404);
    assert.equal((await request(srv.port, { headers: auth, body: list })).status, 400);
    assert.equal((await request(srv.port, { headers: auth, body: '{not json' })).status, 400);
    assert.equal((await request(srv.port, { path: '/other', headers: auth, body: INIT })).status, 404);
  });

  it('refuses a body larger than the limit with 413', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { pad: 'x'.repeat(5 * 1024 * 1024) } });
    const r = await request(srv.port, { headers: { ...JSON_HEADERS, authorization: `Bearer ${srv.token}` }, body: big }).catch((e: Error) => ({ status: -1, body: e.message, headers: {} }));
    assert.ok(r.status === 413 || r.status === -1, `status ${r.status}`);
  });

  it('listens on loopback only', async () => {
    const nonLoopback = Object.values((await import('node:os')).networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (nonLoopback) {
      await assert.rejects(
        new Promise<void>((resolve, reject) => {
          const s = net.connect({ host: nonLoopback.address, port: srv.port }, () => {
            s.destroy();
            resolve();
          });
          s.on('error', reject);
        }),
        /ECONNREFUSED/,
      );
    }
    // and the listener's own address is 127.0.0.1
    assert.equal(new URL(srv.url).hostname, '127.0.0.1');
  });

  it('close() ends sessions and the listener', async () => {
    const other = await startHttpServer({ store: parts.store, sandbox: parts.sandbox, logger: silentLogger });
    const r = await request(other.port, { headers: { ...JSON_HEADERS, authorization: `Bearer ${other.token}` }, body: INIT });
    assert.equal(r.status, 200);
    assert.equal(other.sessions(), 1);
    await other.close();
    assert.equal(other.sessions(), 0);
    await assert.rejects(request(other.port, { headers: JSON_HEADERS, body: INIT }), /ECONNREFUSED/);
    await other.close(); // idempotent
  });

  it('pure checks: token, Host, Origin', () => {
    assert.equal(tokenMatches(`Bearer ${'a'.repeat(64)}`, 'a'.repeat(64)), true);
    assert.equal(tokenMatches(`bearer ${'a'.repeat(64)}`, 'a'.repeat(64)), true);
    assert.equal(tokenMatches(undefined, 'a'.repeat(64)), false);
    assert.equal(tokenMatches(`Bearer ${'a'.repeat(63)}`, 'a'.repeat(64)), false);
    assert.equal(hostAllowed('127.0.0.1:80', 80), true);
    assert.equal(hostAllowed('LOCALHOST:80', 80), true);
    assert.equal(hostAllowed('localhost', 80), false);
    assert.equal(hostAllowed(undefined, 80), false);
    assert.equal(originAllowed(undefined), true);
    assert.equal(originAllowed('http://[::1]:3000'), true);
    assert.equal(originAllowed('https://localhost'), true);
    assert.equal(originAllowed('http://localhost.evil.example'), false);
    assert.equal(originAllowed('vscode-webview://abc'), false);
  });
});
