/**
 * structuredClone (HTML's structured serialisation, in one step): primitives,
 * their wrapper objects, Date, RegExp, ArrayBuffer, typed arrays, DataView,
 * Map, Set, arrays (holes kept), plain objects (own enumerable string keys, read
 * with their getters), the standard Error types, and cycles and shared
 * references. Anything else (functions, symbols, WeakMap, Promise, …) throws a
 * DataCloneError DOMException. Prototypes are not kept: a class instance
 * becomes a plain object, as in browsers and Node.
 */
import type { DOMExceptionClass } from './domexception';
import type { Intrinsics } from './types';

const ERROR_NAMES = ['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError'];

export default function cloneModule(I: Intrinsics): Record<string, unknown> {
  const { getPrototypeOf, hasOwn, keys: objectKeys, isArray } = I;
  const G = I.G as unknown as Record<string, unknown>;
  const domException = (): DOMExceptionClass => I.need<{ DOMException: DOMExceptionClass }>('domexception').DOMException;
  const uncloneable = (what: string): Error => new (domException())(`${what} could not be cloned.`, 'DataCloneError');
  const tryCall = (fn: unknown, v: unknown): boolean => {
    try {
      I.apply(fn as () => unknown, v, []);
      return true;
    } catch {
      return false;
    }
  };
  const dateGetTime = Date.prototype.getTime;
  const numberValueOf = (getPrototypeOf(0) as number).valueOf;
  const stringValueOf = (getPrototypeOf('') as string).valueOf;
  const booleanValueOf = (getPrototypeOf(false) as boolean).valueOf;
  const bigintValueOf = BigInt.prototype.valueOf;
  const byteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')?.get;
  const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size')?.get;
  const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size')?.get;
  const typedArrayTag = Object.getOwnPropertyDescriptor(getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)?.get;
  const regExpProto = getPrototypeOf(/x/) as RegExp;
  const objectToString = Object.prototype.toString;

  function structuredClone(value: unknown, _options?: unknown): unknown {
    if (arguments.length === 0) throw new I.TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
    const memory = new Map<object, unknown>();

    const clone = (v: unknown): unknown => {
      if (typeof v === 'symbol') throw uncloneable(I.String(v.description ?? 'Symbol()'));
      if (typeof v === 'function') throw uncloneable(`${(v as { name?: string }).name || 'function'}() {...}`);
      if (v === null || typeof v !== 'object') return v;
      const seen = memory.get(v);
      if (seen !== undefined || memory.has(v)) return seen;
      let out: unknown;
      const tag = typedArrayTag ? (I.apply(typedArrayTag, v, []) as string | undefined) : undefined;
      // The built-in tag names the internal slots (or a Symbol.toStringTag): a matching one is confirmed by the
      // brand method, so ordinary objects and arrays cost no exception.
      let builtin = '';
      try {
        builtin = I.apply(objectToString, v, []);
      } catch {
        // A proxy that throws: treated as an ordinary object.
      }
      const may = (name: string): boolean => builtin === `[object ${name}]`;
      if (may('Boolean') && tryCall(booleanValueOf, v)) out = Object(I.apply(booleanValueOf, v, []));
      else if (may('Number') && tryCall(numberValueOf, v)) out = Object(I.apply(numberValueOf, v, []));
      else if (may('BigInt') && tryCall(bigintValueOf, v)) out = Object(I.apply(bigintValueOf, v, []));
      else if (may('String') && tryCall(stringValueOf, v)) out = Object(I.apply(stringValueOf, v, []));
      else if (may('Date') && tryCall(dateGetTime, v)) out = new Date(I.apply(dateGetTime, v, []));
      else if (v instanceof RegExp || getPrototypeOf(v) === regExpProto) out = new RegExp((v as RegExp).source, (v as RegExp).flags);
      else if (may('ArrayBuffer') && tryCall(byteLength, v)) out = (v as ArrayBuffer).slice(0);
      else if (tag !== undefined) {
        const ta = v as Uint8Array;
        const buffer = clone(ta.buffer) as ArrayBuffer;
        const Ctor = G[tag] as new (b: ArrayBuffer, o: number, l: number) => unknown;
        out = new Ctor(buffer, ta.byteOffset, ta.length);
      } else if (v instanceof DataView) {
        out = new DataView(clone(v.buffer) as ArrayBuffer, v.byteOffset, v.byteLength);
      } else if (may('Map') && tryCall(mapSize, v)) {
        const m = new Map<unknown, unknown>();
        memory.set(v, m);
        const entries: [unknown, unknown][] = [];
        (v as Map<unknown, unknown>).forEach((val, key) => entries.push([key, val]));
        for (let i = 0; i < entries.length; i++) m.set(clone(entries[i][0]), clone(entries[i][1]));
        return m;
      } else if (may('Set') && tryCall(setSize, v)) {
        const s = new Set<unknown>();
        memory.set(v, s);
        const values: unknown[] = [];
        (v as Set<unknown>).forEach((val) => values.push(val));
        for (let i = 0; i < values.length; i++) s.add(clone(values[i]));
        return s;
      } else if (v instanceof I.Error) {
        const e = v as Error & { cause?: unknown };
        const name = ERROR_NAMES.includes(e.name) ? e.name : 'Error';
        const err = new (G[name] as ErrorConstructor)();
        memory.set(v, err);
        if (hasOwn(e, 'message')) I.defineProperty(err, 'message', { value: I.String(e.message), writable: true, configurable: true });
        if (typeof e.stack === 'string') I.defineProperty(err, 'stack', { value: e.stack, writable: true, configurable: true });
        if (hasOwn(e, 'cause')) I.defineProperty(err, 'cause', { value: clone(e.cause), writable: true, configurable: true });
        return err;
      } else if (isArray(v)) {
        const a: unknown[] = new Array(v.length);
        memory.set(v, a);
        const ks = objectKeys(v);
        for (let i = 0; i < ks.length; i++) (a as unknown as Record<string, unknown>)[ks[i]] = clone((v as unknown as Record<string, unknown>)[ks[i]]);
        return a;
      } else {
        if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet || v instanceof WeakRef) throw uncloneable(`#<${constructorName(v)}>`);
        const o: Record<string, unknown> = {};
        memory.set(v, o);
        const ks = objectKeys(v);
        for (let i = 0; i < ks.length; i++) I.defineProperty(o, ks[i], { value: clone((v as Record<string, unknown>)[ks[i]]), writable: true, enumerable: true, configurable: true });
        return o;
      }
      memory.set(v, out);
      return out;
    };
    return clone(value);
  }
  const constructorName = (v: object): string => {
    const proto = getPrototypeOf(v) as { constructor?: { name?: string } } | null;
    return proto?.constructor?.name || 'Object';
  };

  return { structuredClone };
}
