/**
 * Error reports and `require`, compiled at most once per
 * run on first need. Its top level reads no property of any shared object (the
 * guest may have changed them by then): it uses the prelude's intrinsics.
 */
import type { Cold, FailKind, Intrinsics } from './types';

export default function cold(I: Intrinsics): Cold {
  const { h, stringify, String: Str, apply, Error: Err, TypeError: TypeErr, indexOf, slice } = I;
  const safeString = (v: unknown): string => {
    try {
      return Str(v);
    } catch {
      return '[unprintable value]';
    }
  };
  const format = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (v instanceof Err) return safeString(v.name) + ': ' + safeString(v.message);
    if (v !== null && typeof v === 'object') {
      try {
        const s = stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? safeString(x) + 'n' : x));
        if (typeof s === 'string') return s;
      } catch {
        // Falls back to String() below.
      }
    }
    return typeof v === 'bigint' ? safeString(v) + 'n' : safeString(v);
  };
  const has = (s: string, part: string): boolean => apply(indexOf, s, [part]) >= 0;
  const clip = (s: string, n: number): string => apply(slice, s, [0, n]);
  const notSerialisable = (e: unknown): Error => {
    const m = safeString((e as { message?: unknown } | null)?.message);
    const why = has(m, 'circular') ? 'it contains a circular reference' : has(m, 'BigInt') ? 'it contains a BigInt (convert it with String() or Number() first)' : m;
    return new TypeErr('the returned value is not JSON-serialisable: ' + why);
  };
  const report = (e: unknown): void => {
    let name = 'Error';
    let message: string;
    let stack = '';
    try {
      if (e instanceof Err) {
        name = safeString(e.name);
        message = safeString(e.message);
        stack = typeof e.stack === 'string' ? e.stack : '';
      } else {
        name = 'Thrown';
        message = 'a non-Error value was thrown: ' + (typeof e === 'string' ? stringify(e) : format(e));
      }
    } catch {
      message = 'an unprintable value was thrown';
    }
    h('fail', name, clip(message, 1e4), clip(stack, 4e3));
  };
  return {
    fail(e: unknown, kind?: FailKind, json?: unknown) {
      if (!kind) return report(e);
      if (kind === 1) return report(notSerialisable(e));
      if (typeof json === 'string') {
        h('oversize', json.length);
        return;
      }
      const t = typeof e;
      if (t === 'function' || t === 'symbol') return report(new TypeErr('the returned value is a ' + t + ', which is not JSON-serialisable'));
      h('done', 'null');
    },
    req(name) {
      throw new Err(h('require', safeString(name)) as string);
    },
  };
}
