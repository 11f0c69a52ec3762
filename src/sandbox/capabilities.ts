/**
 * Capabilities the guest can be granted: a file system confined to
 * `allowedPaths` and `fetch` confined to `allowedHosts`. Served on the
 * Sandbox's thread as host calls; every denial is a CapabilityViolation, which
 * the Sandbox turns into a `security_violation` result.
 */
import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { Budget } from './budget';
import { ConfinedFs } from './confinedFs';
import type { FsMethod } from './protocol';
import type { SandboxConfig } from './types';
import { CapabilityViolation } from './violation';

export { CapabilityViolation };

export const QUOTAS = {
  fsOps: 1000,
  readBytes: 16 * 1024 * 1024,
  writeBytes: 16 * 1024 * 1024,
  fetches: 50,
  responseBytes: 5 * 1024 * 1024,
  /** All response bodies of one execution together (reserved as they arrive). */
  fetchBodyBytes: 16 * 1024 * 1024,
  requestBodyBytes: 1024 * 1024,
  fetchTimeoutMs: 10_000,
  redirects: 5,
} as const;

/** True for loopback, private, link-local, CGNAT, unspecified, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
  let a = address.toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) a = mapped[1];
  if (net.isIPv4(a)) {
    const [p, q] = a.split('.').map(Number);
    return p === 0 || p === 10 || p === 127 || (p === 169 && q === 254) || (p === 172 && q >= 16 && q <= 31) || (p === 192 && q === 168) || (p === 100 && q >= 64 && q <= 127) || p >= 224;
  }
  if (net.isIPv6(a)) {
    return a === '::' || a === '::1' || /^f[cd]/.test(a) || /^fe[89ab]/.test(a) || /^ff/.test(a) || a.startsWith('::ffff:') || a.startsWith('64:ff9b:');
  }
  return true;
}

interface FetchInit {
  method?: string;
  headers?: Record<string, unknown>;
  body?: string;
}

export interface FetchResponse {
  status: number;
  statusText: string;
  url: string;
  redirected: boolean;
  headers: Record<string, string>;
  body: string;
}

/**
 * One execution's capabilities and quotas. `signal` fires when the execution
 * ends: requests in flight are aborted and nothing more is read or written.
 * `config.allowedPaths` are the real paths resolved when the configuration was
 * accepted (see allowedPaths.ts).
 */
export class Capabilities {
  private fetches = 0;
  private readonly files?: ConfinedFs;
  readonly fetchBodies = new Budget('fetch body budget', QUOTAS.fetchBodyBytes);

  constructor(
    private readonly config: SandboxConfig,
    private readonly signal: AbortSignal,
  ) {
    if (config.allowFilesystem) this.files = new ConfinedFs(config.allowedPaths, { ops: QUOTAS.fsOps, readBytes: QUOTAS.readBytes, writeBytes: QUOTAS.writeBytes }, signal);
  }

  has(name: string): boolean {
    return (this.files !== undefined && ConfinedFs.has(name)) || (this.config.allowNetwork && name === 'fetch');
  }

  async call(name: string, args: unknown[]): Promise<unknown> {
    if (name === 'fetch') return this.fetch(args[0], args[1]);
    if (ConfinedFs.has(name)) {
      if (!this.files) throw new CapabilityViolation('filesystem', 'file-system access is disabled by the sandbox configuration');
      return this.files.call(name.slice(3) as FsMethod, args);
    }
    throw new Error(`${name} is not a capability`);
  }

  // ---- network ----------------------------------------------------------

  private hostAllowed(u: URL): boolean {
    const hosts = this.config.allowedHosts;
    return hosts.includes(u.hostname.toLowerCase()) || hosts.includes(u.host.toLowerCase());
  }

  private addressAllowed(address: string): boolean {
    if (!isPrivateAddress(address)) return true;
    const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
    return this.config.allowedHosts.some((h) => h.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') === bare);
  }

  private checkUrl(raw: string): URL {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new Error(`fetch: invalid URL ${JSON.stringify(raw)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CapabilityViolation('network', `fetch: only http and https URLs are allowed (got ${u.protocol})`);
    if (u.username || u.password) throw new CapabilityViolation('network', 'fetch: credentials in URLs are not allowed');
    if (!this.hostAllowed(u)) throw new CapabilityViolation('network', `fetch: host ${u.host} is not in allowedHosts`);
    const literal = u.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(literal) && !this.addressAllowed(literal)) {
      throw new CapabilityViolation('network', `fetch: ${literal} is a loopback or private address and is not listed in allowedHosts`);
    }
    return u;
  }

  private async fetch(urlArg: unknown, initArg: unknown): Promise<FetchResponse> {
    if (!this.config.allowNetwork) throw new CapabilityViolation('network', 'fetch() is not allowed: network access is disabled by the sandbox configuration');
    if (++this.fetches > QUOTAS.fetches) throw new CapabilityViolation('resource_exhaustion', `more than ${QUOTAS.fetches} fetches in one execution`);
    const init = (typeof initArg === 'object' && initArg !== null ? initArg : {}) as FetchInit;
    let method = typeof init.method === 'string' ? init.method.toUpperCase() : 'GET';
    if (!/^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/.test(method)) throw new Error(`fetch: method ${method} is not supported`);
    const headers: Record<string, string> = {};
    if (init.headers && typeof init.headers === 'object') {
      for (const [k, v] of Object.entries(init.headers)) {
        const key = k.toLowerCase();
        if (key === 'host' || key === 'connection' || key === 'transfer-encoding' || key === 'content-length') continue;
        headers[key] = String(v);
      }
    }
    let body = typeof init.body === 'string' ? init.body : undefined;
    if (body && Buffer.byteLength(body) > QUOTAS.requestBodyBytes) throw new CapabilityViolation('resource_exhaustion', `fetch: request body over ${QUOTAS.requestBodyBytes} bytes`);
    let url = this.checkUrl(String(urlArg));
    const deadline = Date.now() + Math.min(QUOTAS.fetchTimeoutMs, this.config.maxExecutionTimeMs);
    for (let hop = 0; ; hop++) {
      const res = await this.request(url, method, headers, body, deadline);
      if (res.status >= 300 && res.status < 400 && res.location) {
        if (hop >= QUOTAS.redirects) throw new Error(`fetch: more than ${QUOTAS.redirects} redirects`);
        url = this.checkUrl(new URL(res.location, url).toString());
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      return { status: res.status, statusText: res.statusText, url: url.toString(), redirected: hop > 0, headers: res.headers, body: res.body };
    }
  }

  private request(url: URL, method: string, headers: Record<string, string>, body: string | undefined, deadline: number): Promise<FetchResponse & { location?: string }> {
    const lookup = (hostname: string, options: dns.LookupOptions, cb: (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void): void => {
      dns.lookup(hostname, { all: true }, (err, addresses) => {
        if (err) return cb(err, '');
        const bad = addresses.find((a) => !this.addressAllowed(a.address));
        if (bad) return cb(new CapabilityViolation('network', `fetch: ${hostname} resolves to ${bad.address}, a loopback or private address not listed in allowedHosts`), '');
        if (options.all) return cb(null, addresses);
        const first = addresses.find((a) => !options.family || a.family === options.family) ?? addresses[0];
        if (!first) return cb(new Error(`fetch: ${hostname} did not resolve`), '');
        cb(null, first.address, first.family);
      });
    };
    return new Promise((resolve, reject) => {
      const timeout = Math.max(1, deadline - Date.now());
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request(url, { method, headers, lookup, signal: this.signal, timeout });
      const timer = setTimeout(() => req.destroy(new Error(`fetch: timed out after ${timeout} ms`)), timeout);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.on('timeout', () => req.destroy(new Error(`fetch: timed out after ${timeout} ms`)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        // Each chunk is reserved from the execution's body budget before it is kept; what a
        // failed request had reserved is given back.
        const fail = (err: Error): void => {
          clearTimeout(timer);
          this.fetchBodies.release(size);
          size = 0;
          req.destroy();
          reject(err);
        };
        res.on('data', (c: Buffer) => {
          if (size + c.length > QUOTAS.responseBytes) return fail(new CapabilityViolation('resource_exhaustion', `fetch: response larger than ${QUOTAS.responseBytes} bytes`));
          try {
            this.fetchBodies.reserve(c.length, `fetch: the response body of ${url.host}`);
          } catch (err) {
            return fail(err as Error);
          }
          size += c.length;
          chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', url: url.toString(), redirected: false, headers: h, body: Buffer.concat(chunks).toString('utf8'), location: res.headers.location });
        });
      });
      if (body !== undefined) req.write(body);
      req.end();
    });
  }
}
