/**
 * Capabilities the guest can be granted: a file system confined to
 * `allowedPaths` and `fetch` confined to `allowedHosts`. Served on the
 * Sandbox's thread as host calls; every denial is a CapabilityViolation, which
 * the Sandbox turns into a `security_violation` result.
 */
import { constants as FS, promises as fsp } from 'node:fs';
import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import type { SandboxConfig, ViolationType } from './types';

export class CapabilityViolation extends Error {
  constructor(
    readonly violationType: ViolationType,
    message: string,
  ) {
    super(message);
    this.name = 'CapabilityViolation';
  }
}

export const QUOTAS = {
  fsOps: 1000,
  readBytes: 16 * 1024 * 1024,
  writeBytes: 16 * 1024 * 1024,
  fetches: 50,
  responseBytes: 5 * 1024 * 1024,
  requestBodyBytes: 1024 * 1024,
  fetchTimeoutMs: 10_000,
  redirects: 5,
} as const;

const FS_NAMES = new Set(['fs.readFile', 'fs.writeFile', 'fs.readdir', 'fs.stat']);

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

const within = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/** One execution's capabilities and quotas. */
export class Capabilities {
  private fsOps = 0;
  private readBytes = 0;
  private writeBytes = 0;
  private fetches = 0;
  private roots?: Promise<string[]>;
  private readonly aborter = new AbortController();

  constructor(private readonly config: SandboxConfig) {}

  has(name: string): boolean {
    return (this.config.allowFilesystem && FS_NAMES.has(name)) || (this.config.allowNetwork && name === 'fetch');
  }

  dispose(): void {
    this.aborter.abort();
  }

  async call(name: string, args: unknown[]): Promise<unknown> {
    switch (name) {
      case 'fs.readFile':
        return this.readFile(args[0], args[1]);
      case 'fs.writeFile':
        return this.writeFile(args[0], args[1]);
      case 'fs.readdir':
        return this.readdir(args[0]);
      case 'fs.stat':
        return this.stat(args[0]);
      case 'fetch':
        return this.fetch(args[0], args[1]);
      default:
        throw new Error(`${name} is not a capability`);
    }
  }

  // ---- file system ------------------------------------------------------

  private countOp(): void {
    if (!this.config.allowFilesystem) throw new CapabilityViolation('filesystem', 'file-system access is disabled by the sandbox configuration');
    if (++this.fsOps > QUOTAS.fsOps) throw new CapabilityViolation('resource_exhaustion', `more than ${QUOTAS.fsOps} file-system operations in one execution`);
  }

  private allowedRoots(): Promise<string[]> {
    this.roots ??= Promise.all(
      this.config.allowedPaths.map(async (p) => {
        try {
          return await fsp.realpath(p);
        } catch {
          return undefined;
        }
      }),
    ).then((r) => r.filter((x): x is string => typeof x === 'string'));
    return this.roots;
  }

  /** Lexical and real-path checks; returns the real path (or, for a new file, real parent + name). */
  private async resolve(input: unknown, forWrite: boolean): Promise<string> {
    if (typeof input !== 'string' || input.length === 0) throw new CapabilityViolation('filesystem', 'a path must be a non-empty string');
    if (input.includes('\0')) throw new CapabilityViolation('path_traversal', 'a path must not contain NUL characters');
    let decoded = input;
    try {
      decoded = decodeURIComponent(input);
    } catch {
      // not URL-encoded
    }
    if ([input, decoded].some((p) => p.split(/[\\/]+/).includes('..'))) {
      throw new CapabilityViolation('path_traversal', `'..' is not allowed in paths (${JSON.stringify(input)})`);
    }
    const roots = await this.allowedRoots();
    if (roots.length === 0) throw new CapabilityViolation('filesystem', 'file-system access is enabled but no allowed path exists');
    const abs = path.isAbsolute(input) ? path.resolve(input) : path.resolve(roots[0], input);
    const lexicalRoots = this.config.allowedPaths;
    if (!roots.some((r) => within(r, abs)) && !lexicalRoots.some((r) => within(r, abs))) {
      throw new CapabilityViolation('filesystem', `${JSON.stringify(input)} is outside the allowed paths`);
    }
    let real: string;
    if (forWrite) {
      const parent = await fsp.realpath(path.dirname(abs));
      real = path.join(parent, path.basename(abs));
      try {
        const st = await fsp.lstat(real);
        if (st.isSymbolicLink()) real = await fsp.realpath(real);
        else if (!st.isFile()) throw new CapabilityViolation('filesystem', `${JSON.stringify(input)} is not a regular file`);
      } catch (err) {
        if (err instanceof CapabilityViolation) throw err;
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    } else {
      real = await fsp.realpath(abs);
    }
    if (!roots.some((r) => within(r, real))) {
      throw new CapabilityViolation('path_traversal', `${JSON.stringify(input)} resolves (through a symbolic link) outside the allowed paths`);
    }
    if (real.startsWith('/dev/') || real.startsWith('/proc/') || real.startsWith('/sys/')) {
      throw new CapabilityViolation('filesystem', `${JSON.stringify(input)} is a device or kernel file`);
    }
    return real;
  }

  private async readFile(p: unknown, encoding: unknown): Promise<string> {
    this.countOp();
    const real = await this.resolve(p, false);
    const fh = await fsp.open(real, FS.O_RDONLY | FS.O_NOFOLLOW | FS.O_NONBLOCK);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new CapabilityViolation('filesystem', `${JSON.stringify(p)} is not a regular file`);
      const room = QUOTAS.readBytes - this.readBytes;
      if (st.size > room) throw new CapabilityViolation('resource_exhaustion', `reading ${JSON.stringify(p)} (${st.size} bytes) would exceed the read quota of ${QUOTAS.readBytes} bytes`);
      const buf = Buffer.alloc(Math.min(st.size, room));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      this.readBytes += bytesRead;
      return buf.subarray(0, bytesRead).toString(encoding === 'base64' ? 'base64' : 'utf8');
    } finally {
      await fh.close();
    }
  }

  private async writeFile(p: unknown, data: unknown): Promise<void> {
    this.countOp();
    if (typeof data !== 'string') throw new Error('fs.writeFile(path, data): data must be a string');
    const bytes = Buffer.from(data, 'utf8');
    if (this.writeBytes + bytes.length > QUOTAS.writeBytes) throw new CapabilityViolation('resource_exhaustion', `writing ${bytes.length} bytes would exceed the write quota of ${QUOTAS.writeBytes} bytes`);
    const real = await this.resolve(p, true);
    const fh = await fsp.open(real, FS.O_WRONLY | FS.O_CREAT | FS.O_NOFOLLOW | FS.O_NONBLOCK, 0o644);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new CapabilityViolation('filesystem', `${JSON.stringify(p)} is not a regular file`);
      await fh.truncate(0);
      await fh.write(bytes, 0, bytes.length, 0);
      this.writeBytes += bytes.length;
    } finally {
      await fh.close();
    }
  }

  private async readdir(p: unknown): Promise<string[]> {
    this.countOp();
    const real = await this.resolve(p, false);
    return (await fsp.readdir(real)).slice(0, 10_000);
  }

  private async stat(p: unknown): Promise<{ size: number; isFile: boolean; isDirectory: boolean; mtimeMs: number }> {
    this.countOp();
    const real = await this.resolve(p, false);
    const st = await fsp.stat(real);
    return { size: st.size, isFile: st.isFile(), isDirectory: st.isDirectory(), mtimeMs: st.mtimeMs };
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
      const req = mod.request(url, { method, headers, lookup, signal: this.aborter.signal, timeout });
      const timer = setTimeout(() => req.destroy(new Error(`fetch: timed out after ${timeout} ms`)), timeout);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.on('timeout', () => req.destroy(new Error(`fetch: timed out after ${timeout} ms`)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > QUOTAS.responseBytes) {
            clearTimeout(timer);
            req.destroy();
            reject(new CapabilityViolation('resource_exhaustion', `fetch: response larger than ${QUOTAS.responseBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
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
