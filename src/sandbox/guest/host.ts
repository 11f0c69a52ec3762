/**
 * Host calls and the capabilities built on them (host functions, fs, fetch),
 * compiled during set-up when the run has any. A call sends its name and its
 * arguments as JSON text and returns a promise the host settles by id.
 */
import type { HostModule, Intrinsics, Setup } from './types';

type Pending = [resolve: (v: unknown) => void, reject: (e: unknown) => void];

interface HostResponse {
  status: number;
  statusText: string;
  url: string;
  redirected?: boolean;
  headers?: Record<string, string>;
  body: string;
}

export default function host(I: Intrinsics): HostModule {
  const { h, G, freeze, hasOwn, entries, stringify, parse, String: Str, apply, Error: Err, TypeError: TypeErr, Promise: Prom, then, split, toLowerCase, lock, deepFreeze } = I;
  const pending = new I.Map<number, Pending>();
  const { mapGet, mapSet, mapDelete } = I;
  const resolved = (v: unknown): Promise<unknown> => new Prom((res) => res(v));
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on whatever the guest or the host threw
  const rejected = (e: unknown): Promise<never> => new Prom((_res, rej) => rej(e));
  const safeString = (v: unknown): string => {
    try {
      return Str(v);
    } catch {
      return '[unprintable value]';
    }
  };

  const call = (name: string, args: unknown[]): Promise<unknown> => {
    let json: string | undefined;
    try {
      json = stringify(args);
    } catch (e) {
      return rejected(new TypeErr('arguments of ' + name + '() must be JSON-serialisable: ' + safeString((e as { message?: unknown } | null)?.message)));
    }
    if (typeof json !== 'string') json = '[]';
    const argsJson = json;
    return new Prom((res, rej) => {
      const id = h('call', name, argsJson) as number;
      apply(mapSet, pending, [id, [res, rej]]);
    });
  };
  const hostFunction = (name: string) =>
    function (): Promise<unknown> {
      const args: unknown[] = [];
      // eslint-disable-next-line prefer-rest-params
      for (let i = 0; i < arguments.length; i++) args[i] = arguments[i];
      return call(name, args);
    };
  const response = (r: HostResponse): object => {
    const headers = r.headers || {};
    const lower = (k: unknown): string => apply(toLowerCase, safeString(k), []);
    return freeze({
      status: r.status,
      statusText: r.statusText,
      ok: r.status >= 200 && r.status < 300,
      url: r.url,
      redirected: !!r.redirected,
      headers: freeze({
        get: (k: unknown) => {
          const key = lower(k);
          return hasOwn(headers, key) ? headers[key] : null;
        },
        has: (k: unknown) => hasOwn(headers, lower(k)),
        entries: () => entries(headers),
      }),
      text: () => resolved(r.body),
      json: () => {
        try {
          return resolved(parse(r.body));
        } catch (e) {
          return rejected(e);
        }
      },
    });
  };

  return {
    install(setup: Setup) {
      if (setup.fs) {
        const fs: Record<string, unknown> = {};
        for (let i = 0; i < setup.f.length; i++) fs[setup.f[i]] = hostFunction('fs.' + setup.f[i]);
        lock(G, 'fs', freeze(fs));
      }
      if (setup.net) {
        lock(G, 'fetch', function fetch(url: unknown, init: unknown) {
          const req: Record<string, unknown> = {};
          if (init !== null && typeof init === 'object') {
            const o = init as Record<string, unknown>;
            if (o.method !== undefined) req.method = safeString(o.method);
            if (o.headers !== undefined) req.headers = o.headers;
            if (o.body !== undefined) req.body = typeof o.body === 'string' ? o.body : stringify(o.body);
          }
          return apply(then, call('fetch', [safeString(url), req]), [response]) as Promise<object>;
        });
      }
      // Dotted names become nested objects: 'memory.stats.count' → memory.stats.count().
      const roots: Record<string, Record<string, unknown>> = {};
      for (let i = 0; i < setup.n.length; i++) {
        const name = setup.n[i];
        const parts = apply(split, name, ['.']) as string[];
        if (parts.length === 1) {
          roots[name] = hostFunction(name) as unknown as Record<string, unknown>;
          continue;
        }
        let o: Record<string, unknown> = roots;
        for (let j = 0; j < parts.length - 1; j++) {
          if (!hasOwn(o, parts[j])) o[parts[j]] = {};
          o = o[parts[j]] as Record<string, unknown>;
        }
        o[parts[parts.length - 1]] = hostFunction(name);
      }
      const keys = I.getOwnPropertyNames(roots);
      for (let i = 0; i < keys.length; i++) lock(G, keys[i], deepFreeze(roots[keys[i]]));
    },
    settle(id, ok, payload) {
      const p = apply(mapGet, pending, [id]) as Pending | undefined;
      if (!p) return;
      apply(mapDelete, pending, [id]);
      if (!ok) return p[1](new Err(payload));
      let v: unknown;
      try {
        v = payload === '' ? undefined : parse(payload);
      } catch (e) {
        return p[1](e);
      }
      p[0](v);
    },
  };
}
