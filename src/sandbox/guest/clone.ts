/**
 * structuredClone (HTML's structured serialisation, in one step): primitives,
 * their wrapper objects, Date, RegExp, ArrayBuffer (resizable ones stay
 * resizable), typed arrays and DataView (length-tracking ones keep tracking),
 * Map, Set, arrays (holes kept), plain objects (own enumerable string keys, read
 * with their getters), the standard Error types, cycles and shared references,
 * and the runtime's serialisable platform objects (Blob, File, DOMException).
 * Anything else (functions, symbols, WeakMap, Promise, SharedArrayBuffer, an
 * out-of-bounds view, the other platform objects such as Response or URL)
 * throws a DataCloneError DOMException. Prototypes are not kept: a class
 * instance becomes a plain object, as in browsers and Node.
 *
 * `{ transfer }` takes ArrayBuffers: the clone gets their contents and the
 * originals are detached, as HTML's transfer does. There is no other
 * transferable here (no MessagePort, no streams).
 */
import type { DOMExceptionClass } from './domexception';
import type { Intrinsics } from './types';

const ERROR_NAMES = ['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError'];

type View = ArrayBufferView & { length?: number };

export default function cloneModule(I: Intrinsics): Record<string, unknown> {
  const { getPrototypeOf, hasOwn, keys: objectKeys, isArray } = I;
  const G = I.G as unknown as Record<string, unknown>;
  const domException = (): DOMExceptionClass => I.need<{ DOMException: DOMExceptionClass }>('domexception').DOMException;
  const dataCloneError = (message: string): Error => new (domException())(message, 'DataCloneError');
  const uncloneable = (what: string): Error => dataCloneError(`${what} could not be cloned.`);
  const tryCall = (fn: unknown, v: unknown): boolean => {
    try {
      I.apply(fn as () => unknown, v, []);
      return true;
    } catch {
      return false;
    }
  };
  const getter = (proto: object, name: PropertyKey): (() => unknown) => I.getOwnPropertyDescriptor(proto, name)?.get as () => unknown;
  const call = <T>(fn: unknown, v: unknown, args: unknown[] = []): T => I.apply(fn as () => T, v, args) as T;
  const dateGetTime = Date.prototype.getTime;
  const numberValueOf = (getPrototypeOf(0) as number).valueOf;
  const stringValueOf = (getPrototypeOf('') as string).valueOf;
  const booleanValueOf = (getPrototypeOf(false) as boolean).valueOf;
  const bigintValueOf = BigInt.prototype.valueOf;
  const bufferProto = ArrayBuffer.prototype;
  const byteLength = getter(bufferProto, 'byteLength');
  const maxByteLength = getter(bufferProto, 'maxByteLength');
  const resizable = getter(bufferProto, 'resizable');
  const detached = getter(bufferProto, 'detached');
  const { slice: bufferSlice, resize, transfer: detach } = bufferProto;
  const typedArrayProto = getPrototypeOf(Uint8Array.prototype) as object;
  const typedArrayTag = getter(typedArrayProto, Symbol.toStringTag);
  const taBuffer = getter(typedArrayProto, 'buffer');
  const taOffset = getter(typedArrayProto, 'byteOffset');
  const taByteLength = getter(typedArrayProto, 'byteLength');
  const taLength = getter(typedArrayProto, 'length');
  const taAt = (typedArrayProto as { at: unknown }).at;
  const dvBuffer = getter(DataView.prototype, 'buffer');
  const dvOffset = getter(DataView.prototype, 'byteOffset');
  const dvByteLength = getter(DataView.prototype, 'byteLength');
  const mapSize = getter(Map.prototype, 'size');
  const setSize = getter(Set.prototype, 'size');
  const regExpProto = getPrototypeOf(/x/) as RegExp;
  const objectProto = Object.prototype;
  const objectToString = objectProto.toString;

  /** A copy of an ArrayBuffer's contents; a resizable one stays resizable, with its maximum. */
  const copyBuffer = (ab: ArrayBuffer): ArrayBuffer => {
    if (call(detached, ab)) throw uncloneable('A detached ArrayBuffer');
    if (!call(resizable, ab)) return call(bufferSlice, ab, [0]);
    const out = new ArrayBuffer(call(byteLength, ab), { maxByteLength: call(maxByteLength, ab) });
    new Uint8Array(out).set(new Uint8Array(ab));
    return out;
  };
  /** A typed array is out of bounds (its buffer shrank under it, or was detached) when its methods refuse it. */
  const outOfBounds = (ta: View, dataView: boolean): boolean => {
    try {
      if (dataView) call(dvByteLength, ta);
      else if (call<number>(taLength, ta) === 0) call(taAt, ta, [0]);
      return false;
    } catch {
      return true;
    }
  };
  /**
   * Whether a view over a resizable buffer tracks the buffer's length (made
   * without a length) rather than having a fixed one. Nothing reads this
   * directly, so the buffer is resized by one element and back: a tracking view
   * follows a growth, a fixed one that reaches the end goes out of bounds when it
   * shrinks (the bytes that dropped are restored). No guest code runs meanwhile.
   */
  const tracksLength = (v: View, buffer: ArrayBuffer, dataView: boolean, end: number): boolean => {
    if (!call(resizable, buffer)) return false;
    const step = dataView ? 1 : (v as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const length = call<number>(byteLength, buffer);
    if (length - end >= step) return false;
    const measure = (): number => call<number>(dataView ? dvByteLength : taByteLength, v);
    if (length + step <= call<number>(maxByteLength, buffer)) {
      const before = measure();
      call(resize, buffer, [length + step]);
      const after = measure();
      call(resize, buffer, [length]);
      return after !== before;
    }
    if (length < step) return false;
    const dropped = new Uint8Array(buffer, length - step, step).slice();
    call(resize, buffer, [length - step]);
    const tracking = !outOfBounds(v, dataView);
    call(resize, buffer, [length]);
    new Uint8Array(buffer, length - step, step).set(dropped);
    return tracking;
  };

  function structuredClone(value: unknown, options?: unknown): unknown {
    if (arguments.length === 0) throw new I.TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
    const memory = new Map<object, unknown>();

    /** A typed array or DataView over a clone of its buffer, with the same offset and length (or length tracking). */
    const cloneView = (v: View, tag: string | undefined): unknown => {
      const dataView = tag === undefined;
      const name = dataView ? 'DataView' : tag;
      if (outOfBounds(v, dataView)) throw uncloneable(`An out-of-bounds ${name}`);
      const source = call<ArrayBuffer>(dataView ? dvBuffer : taBuffer, v);
      const offset = call<number>(dataView ? dvOffset : taOffset, v);
      const bytes = call<number>(dataView ? dvByteLength : taByteLength, v);
      const tracking = tracksLength(v, source, dataView, offset + bytes);
      const buffer = clone(source) as ArrayBuffer;
      const Ctor = G[name] as new (b: ArrayBuffer, o: number, l?: number) => unknown;
      if (tracking) return new Ctor(buffer, offset);
      return new Ctor(buffer, offset, dataView ? bytes : call<number>(taLength, v));
    };

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
      else if (may('ArrayBuffer') && tryCall(byteLength, v)) out = copyBuffer(v as ArrayBuffer);
      else if (may('SharedArrayBuffer')) throw uncloneable('A SharedArrayBuffer (memory is not shared here: the sandbox is not cross-origin isolated)');
      else if (tag !== undefined) out = cloneView(v as View, tag);
      else if (v instanceof DataView) out = cloneView(v, undefined);
      else if (may('Map') && tryCall(mapSize, v)) {
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
      } else if ((out = platformClone(v)) !== undefined) {
        // A Blob, File or DOMException, copied by its module.
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

    const transferred = transferList(options);
    // Each transferred buffer's contents go to the clone (its views see them); the originals detach at the end.
    for (let i = 0; i < transferred.length; i++) memory.set(transferred[i], copyBuffer(transferred[i]));
    const result = clone(value);
    for (let i = 0; i < transferred.length; i++) {
      if (call(detached, transferred[i])) throw uncloneable('A detached ArrayBuffer');
    }
    for (let i = 0; i < transferred.length; i++) call(detach, transferred[i], [0]);
    return result;
  }

  /** The options' `transfer` list, checked: ArrayBuffers only, each once and not detached. */
  const transferList = (options: unknown): ArrayBuffer[] => {
    if (options === undefined || options === null) return [];
    if (typeof options !== 'object' && typeof options !== 'function') throw new I.TypeError("Failed to execute 'structuredClone': The provided value is not of type 'StructuredSerializeOptions'.");
    const transfer = (options as { transfer?: unknown }).transfer;
    if (transfer === undefined) return [];
    if (transfer === null || typeof transfer !== 'object' || typeof (transfer as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      throw new I.TypeError("Failed to execute 'structuredClone': Failed to read the 'transfer' property from 'StructuredSerializeOptions': The provided value cannot be converted to a sequence.");
    }
    const list: ArrayBuffer[] = [];
    for (const t of transfer as Iterable<unknown>) {
      if (t === null || (typeof t !== 'object' && typeof t !== 'function')) throw new I.TypeError("Failed to execute 'structuredClone': Value at index " + list.length + ' is not an object.');
      if (I.apply(objectToString, t, []) !== '[object ArrayBuffer]' || !tryCall(byteLength, t)) throw dataCloneError(`#<${constructorName(t)}> is not transferable: only ArrayBuffers are, here.`);
      if (list.includes(t as ArrayBuffer)) throw dataCloneError('An ArrayBuffer is listed twice in transfer.');
      if (call(detached, t)) throw uncloneable('A detached ArrayBuffer');
      list.push(t as ArrayBuffer);
    }
    return list;
  };
  /** A copy of the runtime's serialisable platform objects; a DataCloneError for the others; undefined for anything else. */
  const platformClone = (v: object): object | undefined => {
    const kinds = I.platform;
    if (!kinds) return undefined;
    const proto = getPrototypeOf(v) as object | null;
    // An object with Object.prototype (or none) was not made by a platform class: no brand lookups for plain objects.
    if (proto === objectProto || proto === null) return undefined;
    for (let i = 0; i < kinds.length; i++) {
      if (!kinds[i].is(v)) continue;
      const copy = kinds[i].clone;
      if (!copy) throw uncloneable(`#<${constructorName(v)}>`);
      return copy(v);
    }
    return undefined;
  };
  const constructorName = (v: object): string => {
    const proto = getPrototypeOf(v) as { constructor?: { name?: string } } | null;
    return proto?.constructor?.name || 'Object';
  };

  return { structuredClone };
}
