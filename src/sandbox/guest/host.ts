/**
 * Host calls and the capabilities built on them (host functions, fs, fetch),
 * compiled on the first touch of one of their globals (see the prelude's
 * hostGlobal): a run that has them but uses none pays nothing for them. A
 * call sends its name and its arguments as JSON text and returns a promise
 * the host settles by id.
 */
import type { FetchInternals, HostResponse } from './fetch';
import type { HostModule, Intrinsics, Setup } from './types';

type Pending = [resolve: (v: unknown) => void, reject: (e: unknown) => void];

export default function host(I: Intrinsics): HostModule {
  const { h, G, freeze, hasOwn, stringify, parse, String: Str, apply, Error: Err, TypeError: TypeErr, Promise: Prom, then, split, lock, deepFreeze } = I;
  const pending = new I.Map<number, Pending>();
  const { mapGet, mapSet, mapDelete } = I;
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
  const fetchTypes = (): FetchInternals => I.need<{ internals: FetchInternals }>('fetch').internals;
  const response = (r: HostResponse): ReturnType<FetchInternals['fromHost']> => fetchTypes().fromHost(r);

  return {
    install(setup: Setup) {
      if (setup.fs) {
        const fs: Record<string, unknown> = {};
        for (let i = 0; i < setup.f.length; i++) fs[setup.f[i]] = hostFunction('fs.' + setup.f[i]);
        lock(G, 'fs', freeze(fs));
      }
      if (setup.net) {
        // Governed by the host's allowlist; the Request is built here, so bad arguments reject as in browsers.
        lock(G, 'fetch', function fetch(input: unknown, init?: unknown): Promise<ReturnType<FetchInternals['fromHost']>> {
          let q: ReturnType<FetchInternals['toHost']>;
          try {
            q = fetchTypes().toHost(input, init);
          } catch (e) {
            return rejected(e);
          }
          return apply(then, call('fetch', [q.url, { method: q.method, headers: q.headers, body: q.body }]), [response]) as Promise<ReturnType<FetchInternals['fromHost']>>;
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
