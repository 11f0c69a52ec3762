/**
 * util.inspect and util.format as Node prints them (depth 2, breakLength 80,
 * compact 3, at most 100 array items, `<ref *1>` / `[Circular *1]`, Map, Set,
 * typed arrays, errors with their stack), compiled when console output needs
 * more than plain strings and numbers. A port of the parts of Node's
 * lib/internal/util/inspect.js that apply without colours or hidden internals.
 * It uses the prelude's intrinsics where guest tampering would otherwise change
 * what is printed (String, JSON.stringify, join, Map, Error).
 */
import type { Intrinsics } from './types';

export interface InspectOptions {
  depth?: number;
  showHidden?: boolean;
}

export interface Inspect {
  inspect(value: unknown, options?: InspectOptions): string;
  format(args: ArrayLike<unknown>): string;
}

interface Ctx {
  depth: number;
  showHidden: boolean;
  seen: unknown[];
  circular?: Map<unknown, number>;
  indentationLvl: number;
  currentDepth: number;
}

const BREAK_LENGTH = 80;
const COMPACT = 3;
const MAX_ARRAY = 100;
const MAX_STRING = 10000;
const ARRAY = 1;
const OBJECT = 0;
const IDENTIFIER = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const NEEDS_ESCAPE = /[\x00-\x1f\x7f\\']/;
/** Stack frames of the sandbox's own runtime (the prelude, modules compiled from the host's source, the captured Reflect.apply). */
const INTERNAL_FRAME = /^\s*at (?:apply \(native\)|.*\((?:<input>|sandbox-prelude\.js):\d+:\d+\))$/;

export default function inspectModule(I: Intrinsics): Inspect {
  const { String: Str, stringify, apply, getOwnPropertyDescriptor, getPrototypeOf, keys: objectKeys, isArray, hasOwn, charCodeAt, fnToString } = I;
  const Err = I.Error;
  const AsyncFunctionProto = getPrototypeOf(async function () {}) as object;
  const GeneratorFunctionProto = getPrototypeOf(function* () {}) as object;
  const AsyncGeneratorFunctionProto = getPrototypeOf(async function* () {}) as object;
  const TypedArrayProto = getPrototypeOf(Uint8Array.prototype) as object;
  const typedArrayTag = getOwnPropertyDescriptor(TypedArrayProto, Symbol.toStringTag)?.get as () => string | undefined;
  // Prototypes are reached through literals and the captured constructors: the guest may have replaced the globals.
  const mapSize = getOwnPropertyDescriptor(I.Map.prototype, 'size')?.get as () => number;
  const setSize = getOwnPropertyDescriptor(Set.prototype, 'size')?.get as () => number;
  const mapForEach = I.Map.prototype.forEach;
  const setForEach = Set.prototype.forEach;
  const dateGetTime = Date.prototype.getTime;
  const dateToISOString = Date.prototype.toISOString;
  const RegExpProto = getPrototypeOf(/x/) as RegExp;
  const regExpToString = RegExpProto.toString;
  const symbolToString = Symbol.prototype.toString;
  const byteLength = getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')?.get as () => number;
  const numberValueOf = (getPrototypeOf(0) as number).valueOf;
  const stringValueOf = (getPrototypeOf('') as string).valueOf;
  const booleanValueOf = (getPrototypeOf(false) as boolean).valueOf;
  const builtInToStrings = [(getPrototypeOf({}) as object).toString, (getPrototypeOf([]) as unknown[]).toString, I.Error.prototype.toString, Date.prototype.toString, regExpToString];
  const instance = (v: object, C: unknown): boolean => {
    try {
      return v instanceof (C as new () => unknown);
    } catch {
      return false;
    }
  };
  const getOwnPropertySymbols = Object.getOwnPropertySymbols;
  const objectToString = (getPrototypeOf({}) as object).toString;
  const propertyIsEnumerable = Object.prototype.propertyIsEnumerable;

  const push = <T>(a: T[], v: T): void => {
    a[a.length] = v;
  };
  const joinWith = (a: string[], sep: string): string => {
    let s = '';
    for (let i = 0; i < a.length; i++) s += (i ? sep : '') + a[i];
    return s;
  };
  const repeat = (s: string, n: number): string => {
    let out = '';
    for (let i = 0; i < n; i++) out += s;
    return out;
  };
  const has = (s: string, c: string): boolean => apply(I.indexOf, s, [c]) >= 0;
  const is = (fn: unknown, self: unknown, ...args: unknown[]): boolean => {
    try {
      apply(fn as () => unknown, self, args);
      return true;
    } catch {
      return false;
    }
  };

  const ESCAPES: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r', 92: '\\\\' };
  function quote(s: string): string {
    let q = "'";
    if (has(s, "'")) {
      if (!has(s, '"')) q = '"';
      else if (!has(s, '`') && !has(s, '${')) q = '`';
    }
    if (q === "'" && s.length <= MAX_STRING && !NEEDS_ESCAPE.test(s)) return q + s + q;
    let out = '';
    const n = s.length > MAX_STRING ? MAX_STRING : s.length;
    for (let i = 0; i < n; i++) {
      const c = apply(charCodeAt, s, [i]);
      const ch = s[i];
      if (ch === q) out += '\\' + ch;
      else if (c < 32 || c === 127 || c === 92) out += ESCAPES[c] ?? '\\x' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
      else out += ch;
    }
    out = q + out + q;
    if (s.length > n) out += `... ${s.length - n} more character${s.length - n > 1 ? 's' : ''}`;
    return out;
  }
  const formatNumber = (n: number): string => (n === 0 && 1 / n < 0 ? '-0' : '' + n);

  function formatPrimitive(v: unknown): string {
    switch (typeof v) {
      case 'string':
        return quote(v);
      case 'number':
        return formatNumber(v);
      case 'bigint':
        return '' + v + 'n';
      case 'symbol':
        return apply(symbolToString, v, []);
      default:
        return '' + (v as string);
    }
  }

  function constructorName(obj: object): string | null {
    let o: object | null = obj;
    while (o !== null) {
      const d = getOwnPropertyDescriptor(o, 'constructor');
      if (d !== undefined && typeof d.value === 'function' && typeof (d.value as { name?: unknown }).name === 'string' && (d.value as { name: string }).name !== '') {
        return (d.value as { name: string }).name;
      }
      o = getPrototypeOf(o) as object | null;
    }
    return null;
  }
  const prefix = (ctor: string | null, tag: string, fallback: string, size = ''): string => {
    if (ctor === null) return tag !== '' && fallback !== tag ? `[${fallback}${size}: null prototype] [${tag}] ` : `[${fallback}${size}: null prototype] `;
    return tag !== '' && ctor !== tag ? `${ctor}${size} [${tag}] ` : `${ctor}${size} `;
  };

  function functionBase(fn: (...a: unknown[]) => unknown): string {
    let source = '';
    try {
      source = apply(fnToString, fn, []);
    } catch {
      // A function without source text (a proxy or bound function) is printed as a function.
    }
    const nameDesc = getOwnPropertyDescriptor(fn, 'name');
    const name = nameDesc && typeof nameDesc.value === 'string' ? nameDesc.value : '';
    if (source.slice(0, 5) === 'class' && source[source.length - 1] === '}') {
      const proto = getPrototypeOf(fn) as { name?: unknown } | null;
      let base = `[class ${name || '(anonymous)'}`;
      if (proto && proto !== Function.prototype && typeof proto.name === 'string' && proto.name) base += ` extends ${proto.name}`;
      return base + ']';
    }
    const proto = getPrototypeOf(fn) as object | null;
    const type = proto === AsyncFunctionProto ? 'AsyncFunction' : proto === GeneratorFunctionProto ? 'GeneratorFunction' : proto === AsyncGeneratorFunctionProto ? 'AsyncGeneratorFunction' : 'Function';
    return `[${type}${proto === null ? ' (null prototype)' : ''}${name === '' ? ' (anonymous)' : `: ${name}`}]`;
  }

  function formatError(e: Error, ctx: Ctx): string {
    let name = 'Error';
    let message = '';
    let stack = '';
    try {
      name = Str(e.name);
      message = Str(e.message);
      stack = typeof e.stack === 'string' ? e.stack : '';
    } catch {
      // Unprintable parts stay empty.
    }
    const head = message ? `${name}: ${message}` : name;
    const frames = apply(I.split, stack, ['\n']) as string[];
    const kept: string[] = [];
    for (let i = 0; i < frames.length; i++) if (frames[i] !== '' && !INTERNAL_FRAME.test(frames[i])) push(kept, frames[i]);
    stack = joinWith(kept, '\n');
    let out = stack ? `${head}\n${stack}` : `[${head}]`;
    if (ctx.indentationLvl !== 0) {
      const ind = repeat(' ', ctx.indentationLvl);
      const lines = apply(I.split, out, ['\n']) as string[];
      out = joinWith(lines, `\n${ind}`);
    }
    return out;
  }

  function isBelowBreakLength(output: string[], start: number, base: string): boolean {
    let total = output.length + start;
    if (total + output.length > BREAK_LENGTH) return false;
    for (let i = 0; i < output.length; i++) {
      total += output[i].length;
      if (total > BREAK_LENGTH) return false;
    }
    return base === '' || !has(base, '\n');
  }

  function groupArrayElements(ctx: Ctx, output: string[], value: unknown[] | undefined): string[] {
    let totalLength = 0;
    let maxLength = 0;
    let outputLength = output.length;
    if (value && value.length > MAX_ARRAY && outputLength > MAX_ARRAY) outputLength--;
    const separatorSpace = 2;
    const dataLen: number[] = [];
    for (let i = 0; i < outputLength; i++) {
      const len = output[i].length;
      dataLen[i] = len;
      totalLength += len + separatorSpace;
      if (maxLength < len) maxLength = len;
    }
    const actualMax = maxLength + separatorSpace;
    if (actualMax * 3 + ctx.indentationLvl < BREAK_LENGTH && (totalLength / actualMax > 5 || maxLength <= 6)) {
      const averageBias = Math.sqrt(actualMax - totalLength / output.length);
      const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
      const columns = Math.min(Math.round(Math.sqrt(2.5 * biasedMax * outputLength) / biasedMax), Math.floor((BREAK_LENGTH - ctx.indentationLvl) / actualMax), COMPACT * 4, 15);
      if (columns <= 1) return output;
      const tmp: string[] = [];
      const maxLineLength: number[] = [];
      for (let i = 0; i < columns; i++) {
        let lineLength = 0;
        for (let j = i; j < output.length; j += columns) if (dataLen[j] > lineLength) lineLength = dataLen[j];
        push(maxLineLength, lineLength + separatorSpace);
      }
      let padStart = true;
      if (value !== undefined) {
        for (let i = 0; i < output.length; i++) {
          if (typeof value[i] !== 'number' && typeof value[i] !== 'bigint') {
            padStart = false;
            break;
          }
        }
      }
      const pad = (s: string, width: number): string => (padStart ? repeat(' ', width - s.length) + s : s + repeat(' ', width - s.length));
      for (let i = 0; i < outputLength; i += columns) {
        const max = Math.min(i + columns, outputLength);
        let str = '';
        let j = i;
        for (; j < max - 1; j++) str += pad(`${output[j]}, `, maxLineLength[j - i]);
        str += padStart ? pad(output[j], maxLineLength[j - i] - separatorSpace) : output[j];
        push(tmp, str);
      }
      if (outputLength < output.length) push(tmp, output[outputLength]);
      return tmp;
    }
    return output;
  }

  function reduceToSingleString(ctx: Ctx, output: string[], base: string, braces: [string, string], extrasType: number, recurseTimes: number, value: unknown): string {
    const entries = output.length;
    if (extrasType === ARRAY && entries > 6) output = groupArrayElements(ctx, output, isArray(value) ? value : undefined);
    if (ctx.currentDepth - recurseTimes < COMPACT && entries === output.length) {
      const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
      if (isBelowBreakLength(output, start, base)) {
        const joined = joinWith(output, ', ');
        if (!has(joined, '\n')) return `${base ? `${base} ` : ''}${braces[0]} ${joined} ${braces[1]}`;
      }
    }
    const indentation = `\n${repeat(' ', ctx.indentationLvl)}`;
    return `${base ? `${base} ` : ''}${braces[0]}${indentation}  ${joinWith(output, `,${indentation}  `)}${indentation}${braces[1]}`;
  }

  function formatProperty(ctx: Ctx, value: object, recurseTimes: number, key: string | symbol, type: number): string {
    let desc = getOwnPropertyDescriptor(value, key);
    if (desc === undefined) desc = { value: (value as Record<string | symbol, unknown>)[key], enumerable: true };
    let str: string;
    if (desc.value !== undefined || !(desc.get || desc.set)) {
      ctx.indentationLvl += 2;
      str = formatValue(ctx, desc.value, recurseTimes);
      ctx.indentationLvl -= 2;
    } else if (desc.get) str = desc.set ? '[Getter/Setter]' : '[Getter]';
    else str = '[Setter]';
    if (type === ARRAY) return str;
    let name: string;
    if (typeof key === 'symbol') name = `[${apply(symbolToString, key, [])}]`;
    else if (IDENTIFIER.test(key)) name = key;
    else name = quote(key);
    if (desc.enumerable === false) name = `[${name}]`;
    return `${name}: ${str}`;
  }

  function ownKeys(value: object, skipIndexes: boolean): (string | symbol)[] {
    const out: (string | symbol)[] = [];
    const names = objectKeys(value);
    for (let i = 0; i < names.length; i++) {
      const k = names[i];
      if (skipIndexes && k !== '' && '' + (+k >>> 0) === k) continue;
      push(out, k);
    }
    const symbols = getOwnPropertySymbols(value);
    for (let i = 0; i < symbols.length; i++) if (apply(propertyIsEnumerable, value, [symbols[i]])) push(out, symbols[i]);
    return out;
  }

  function formatList(ctx: Ctx, value: ArrayLike<unknown>, recurseTimes: number, isTyped: boolean): string[] {
    const output: string[] = [];
    const len = value.length < MAX_ARRAY ? value.length : MAX_ARRAY;
    let holes = 0;
    const flushHoles = (): void => {
      if (holes) push(output, `<${holes} empty item${holes > 1 ? 's' : ''}>`);
      holes = 0;
    };
    for (let i = 0; i < len; i++) {
      if (!isTyped && !hasOwn(value, i)) {
        holes++;
        continue;
      }
      flushHoles();
      push(output, isTyped ? formatPrimitive(value[i]) : formatProperty(ctx, value as object, recurseTimes, '' + i, ARRAY));
    }
    flushHoles();
    const remaining = value.length - len;
    if (remaining > 0) push(output, `... ${remaining} more item${remaining > 1 ? 's' : ''}`);
    return output;
  }

  function formatValue(ctx: Ctx, value: unknown, recurseTimes: number): string {
    if (typeof value !== 'object' && typeof value !== 'function') return formatPrimitive(value);
    if (value === null) return 'null';
    for (let i = 0; i < ctx.seen.length; i++) {
      if (ctx.seen[i] === value) {
        ctx.circular ??= new I.Map();
        let index = apply(I.mapGet, ctx.circular, [value]) as number | undefined;
        if (index === undefined) {
          index = apply(mapSize, ctx.circular, []) + 1;
          apply(I.mapSet, ctx.circular, [value, index]);
        }
        return `[Circular *${index}]`;
      }
    }
    return formatRaw(ctx, value, recurseTimes);
  }

  function formatRaw(ctx: Ctx, value: object, recurseTimes: number): string {
    const ctor = typeof value === 'function' ? 'Function' : constructorName(value);
    let tag = '';
    try {
      const t = (value as Record<symbol, unknown>)[Symbol.toStringTag];
      if (typeof t === 'string' && t !== ctor) tag = t;
    } catch {
      // A throwing getter: no tag.
    }
    let base = '';
    let braces: [string, string] = ['{', '}'];
    let extrasType = OBJECT;
    let keys: (string | symbol)[];
    let formatter: (() => string[]) | undefined;
    let noEntries = false;
    const typedTag = apply(typedArrayTag, value, []);
    // The built-in tag names the internal slots (or the guest's Symbol.toStringTag): only a matching one is
    // confirmed by calling the brand method, so an ordinary object costs no exception.
    let builtin = '';
    try {
      builtin = apply(objectToString, value, []);
    } catch {
      // A proxy that throws: an ordinary object.
    }
    const may = (name: string): boolean => builtin === `[object ${name}]`;
    if (isArray(value)) {
      keys = ownKeys(value, true);
      const p = ctor !== 'Array' || tag !== '' ? prefix(ctor, tag, 'Array', `(${value.length})`) : '';
      braces = [`${p}[`, ']'];
      extrasType = ARRAY;
      if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
      formatter = () => formatList(ctx, value, recurseTimes, false);
    } else if (typedTag !== undefined) {
      keys = ownKeys(value, true);
      const ta = value as unknown as ArrayLike<number>;
      braces = [`${prefix(ctor, tag === typedTag ? '' : tag, typedTag, `(${ta.length})`)}[`, ']'];
      extrasType = ARRAY;
      if (ta.length === 0 && keys.length === 0) return `${braces[0]}]`;
      formatter = () => formatList(ctx, ta, recurseTimes, true);
    } else if (may('Map') && is(mapSize, value)) {
      const size = apply(mapSize, value, []);
      keys = ownKeys(value, false);
      const p = prefix(ctor, tag, 'Map', `(${size})`);
      if (size === 0 && keys.length === 0) return `${p}{}`;
      braces = [`${p}{`, '}'];
      formatter = () => {
        const out: string[] = [];
        ctx.indentationLvl += 2;
        apply(mapForEach, value, [(v: unknown, k: unknown) => push(out, `${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`)]);
        ctx.indentationLvl -= 2;
        return out;
      };
    } else if (may('Set') && is(setSize, value)) {
      const size = apply(setSize, value, []);
      keys = ownKeys(value, false);
      const p = prefix(ctor, tag, 'Set', `(${size})`);
      if (size === 0 && keys.length === 0) return `${p}{}`;
      braces = [`${p}{`, '}'];
      formatter = () => {
        const out: string[] = [];
        ctx.indentationLvl += 2;
        apply(setForEach, value, [(v: unknown) => push(out, formatValue(ctx, v, recurseTimes))]);
        ctx.indentationLvl -= 2;
        return out;
      };
    } else {
      keys = ownKeys(value, false);
      noEntries = true;
      if (typeof value === 'function') {
        base = functionBase(value as (...a: unknown[]) => unknown);
        if (keys.length === 0) return base;
      } else if (may('Date') && is(dateGetTime, value)) {
        const t = apply(dateGetTime, value, []);
        base = t !== t ? 'Invalid Date' : apply(dateToISOString, value, []);
        if (keys.length === 0) return base;
      } else if (instance(value, RegExpProto.constructor)) {
        base = apply(regExpToString, value, []);
        if (keys.length === 0) return base;
      } else if (value instanceof Err) {
        base = formatError(value, ctx);
        const filtered: (string | symbol)[] = [];
        for (let i = 0; i < keys.length; i++) if (keys[i] !== 'stack' && keys[i] !== 'message') push(filtered, keys[i]);
        keys = filtered;
        if (keys.length === 0) return base;
      } else if (may('ArrayBuffer') && is(byteLength, value)) {
        const bytes = new Uint8Array(value as ArrayBuffer);
        let hex = '';
        const n = bytes.length < 50 ? bytes.length : 50;
        for (let i = 0; i < n; i++) hex += (i ? ' ' : '') + (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
        if (bytes.length > n) hex += ` ... ${bytes.length - n} more byte${bytes.length - n > 1 ? 's' : ''}`;
        braces[0] = `${prefix(ctor, tag, 'ArrayBuffer')}{`;
        const extra = [`[Uint8Contents]: <${hex}>`, `byteLength: ${bytes.length}`];
        formatter = () => extra;
        noEntries = false;
      } else if (may('Number') && is(numberValueOf, value)) {
        base = `[Number: ${formatNumber(apply(numberValueOf, value, []))}]`;
        if (keys.length === 0) return base;
      } else if (may('String') && is(stringValueOf, value)) {
        base = `[String: ${quote(apply(stringValueOf, value, []))}]`;
        keys = ownKeys(value, true);
        if (keys.length === 0) return base;
      } else if (may('Boolean') && is(booleanValueOf, value)) {
        base = `[Boolean: ${'' + apply(booleanValueOf, value, [])}]`;
        if (keys.length === 0) return base;
      } else if (instance(value, I.Promise)) {
        braces[0] = `${prefix(ctor, tag, 'Promise')}{`;
        formatter = () => ['<unknown>'];
        noEntries = false;
      } else if (instance(value, I.G.WeakMap) || instance(value, I.G.WeakSet)) {
        return `${prefix(ctor, tag, instance(value, I.G.WeakMap) ? 'WeakMap' : 'WeakSet')}{ <items unknown> }`;
      } else {
        braces[0] = ctor === 'Object' && tag === '' ? '{' : `${prefix(ctor, tag, 'Object')}{`;
        if (keys.length === 0) return `${braces[0]}}`;
      }
    }
    if (recurseTimes > ctx.depth) return `[${ctor === null ? (tag || 'Object') + ': null prototype' : ctor || tag || 'Object'}]`;
    recurseTimes++;
    push(ctx.seen, value);
    ctx.currentDepth = recurseTimes;
    let output: string[];
    try {
      output = noEntries || !formatter ? [] : formatter();
      for (let i = 0; i < keys.length; i++) push(output, formatProperty(ctx, value, recurseTimes, keys[i], OBJECT));
      if (ctx.showHidden && isArray(value)) push(output, `[length]: ${value.length}`);
    } finally {
      ctx.seen.length--;
    }
    if (ctx.circular !== undefined) {
      const index = apply(I.mapGet, ctx.circular, [value]) as number | undefined;
      if (index !== undefined) {
        const reference = `<ref *${index}>`;
        base = base === '' ? reference : `${reference} ${base}`;
      }
    }
    return reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
  }

  function inspect(value: unknown, options?: InspectOptions): string {
    const ctx: Ctx = { depth: 2, showHidden: false, seen: [], indentationLvl: 0, currentDepth: 0 };
    if (options) {
      if (typeof options.depth === 'number') ctx.depth = options.depth;
      else if (options.depth === null) ctx.depth = Infinity;
      if (options.showHidden) ctx.showHidden = true;
    }
    return formatValue(ctx, value, 0);
  }

  const hasBuiltInToString = (v: object): boolean => {
    let toString: unknown;
    try {
      toString = (v as { toString?: unknown }).toString;
    } catch {
      return true;
    }
    for (let i = 0; i < builtInToStrings.length; i++) if (toString === builtInToStrings[i]) return true;
    return toString === undefined;
  };

  function format(args: ArrayLike<unknown>): string {
    const first = args[0];
    let a = 0;
    let str = '';
    let join = '';
    if (typeof first === 'string') {
      if (args.length === 1) return first;
      let lastPos = 0;
      let temp: string;
      for (let i = 0; i < first.length - 1; i++) {
        if (apply(charCodeAt, first, [i]) !== 37) continue;
        const next = apply(charCodeAt, first, [++i]);
        if (a + 1 !== args.length) {
          switch (next) {
            case 115: {
              const arg = args[++a];
              if (typeof arg === 'number') temp = formatNumber(arg);
              else if (typeof arg === 'bigint') temp = '' + arg + 'n';
              else if (typeof arg !== 'object' || arg === null || !hasBuiltInToString(arg)) temp = Str(arg);
              else temp = inspect(arg, { depth: 0 });
              break;
            }
            case 106: {
              try {
                temp = '' + stringify(args[++a]);
              } catch (e) {
                temp = has(Str((e as Error).message), 'circular') ? '[Circular]' : (() => { throw e; })();
              }
              break;
            }
            case 100: {
              const n = args[++a];
              temp = typeof n === 'bigint' ? '' + n + 'n' : typeof n === 'symbol' ? 'NaN' : formatNumber(Number(n));
              break;
            }
            case 79:
              temp = inspect(args[++a]);
              break;
            case 111:
              temp = inspect(args[++a], { showHidden: true, depth: 4 });
              break;
            case 105: {
              const n = args[++a];
              temp = typeof n === 'bigint' ? '' + n + 'n' : typeof n === 'symbol' ? 'NaN' : formatNumber(parseInt(Str(n)));
              break;
            }
            case 102: {
              const n = args[++a];
              temp = typeof n === 'symbol' ? 'NaN' : formatNumber(parseFloat(Str(n)));
              break;
            }
            case 99:
              a++;
              temp = '';
              break;
            case 37:
              str += first.slice(lastPos, i);
              lastPos = i + 1;
              continue;
            default:
              continue;
          }
          if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
          str += temp;
          lastPos = i + 1;
        } else if (next === 37) {
          str += first.slice(lastPos, i);
          lastPos = i + 1;
        }
      }
      if (lastPos !== 0) {
        a++;
        join = ' ';
        if (lastPos < first.length) str += first.slice(lastPos);
      }
    }
    while (a < args.length) {
      const v = args[a];
      str += join + (typeof v === 'string' ? v : inspect(v));
      join = ' ';
      a++;
    }
    return str;
  }

  return { inspect, format };
}
