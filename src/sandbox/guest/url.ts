/**
 * URL and URLSearchParams (WHATWG URL). Parsing and the URL setters are the
 * host's: Node's own WHATWG parser (IDNA/punycode, percent-encoding, relative
 * resolution), reached through the bridge with JSON text only (so every code
 * unit, NUL included, crosses intact): `h('url', '[input, base?]')` and
 * `h('urlset', '[href, component, value]')` answer the components as JSON, or
 * '' when the input is not a URL. URLSearchParams
 * (application/x-www-form-urlencoded) is implemented here.
 */
import type { EncodingInternals } from './encoding';
import type { Intrinsics } from './types';

/** The order of the components in the host's answer. */
const COMPONENTS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const;
type Component = (typeof COMPONENTS)[number];
const HEX = '0123456789ABCDEF';

export default function urlModule(I: Intrinsics): Record<string, unknown> {
  const { h, parse, TypeError: TypeErr } = I;
  const Str = I.String;
  const enc = (): EncodingInternals => I.need<{ internals: EncodingInternals }>('encoding').internals;
interface UrlState {
    c: Record<Component, string>;
    params?: URLSearchParams;
  }
  interface ParamsState {
    list: [string, string][];
    url?: URL;
  }
  const urls = new WeakMap<object, UrlState>();
  const paramsOf = new WeakMap<object, ParamsState>();

  const components = (json: unknown): Record<Component, string> | undefined => {
    if (typeof json !== 'string' || json === '') return undefined;
    const values = parse(json) as string[];
    const c = {} as Record<Component, string>;
    for (let i = 0; i < COMPONENTS.length; i++) c[COMPONENTS[i]] = values[i];
    return toCurrentStandard(c);
  };
  /**
   * Two later changes of the URL Standard that the host's parser (Node 20's)
   * predates, applied to each of its answers: `^` is in the path
   * percent-encode set, and in an opaque path a space just before the query or
   * fragment is written `%20` (instead of trailing spaces being stripped). The
   * href carries the corrected path back to the host for setters.
   */
  const toCurrentStandard = (c: Record<Component, string>): Record<Component, string> => {
    const path = c.pathname;
    const opaque = path[0] !== '/';
    let fixed = path;
    if (!opaque) fixed = path.replace(/\^/g, '%5E');
    else if (path[path.length - 1] === ' ' && /^[?#]/.test(c.href.slice(c.protocol.length + path.length))) fixed = `${path.slice(0, -1)}%20`;
    if (fixed === path) return c;
    // An opaque path follows the scheme; any other path holds the first `^` of the href (the userinfo and host never have one).
    const at = opaque ? c.protocol.length : c.href.indexOf(path);
    c.href = c.href.slice(0, at) + fixed + c.href.slice(at + path.length);
    c.pathname = fixed;
    return c;
  };
  const parseUrl = (input: unknown, base?: unknown): Record<Component, string> | undefined =>
    components(h('url', I.stringify(base === undefined ? [Str(input)] : [Str(input), Str(base)])));
  const state = (u: unknown): UrlState => {
    const s = urls.get(u as object);
    if (!s) throw new TypeErr('Illegal invocation: not a URL');
    return s;
  };
  const pstate = (p: unknown): ParamsState => {
    const s = paramsOf.get(p as object);
    if (!s) throw new TypeErr('Illegal invocation: not a URLSearchParams');
    return s;
  };

  // application/x-www-form-urlencoded
  const decode = (s: string): string => {
    if (!/[%+]/.test(s)) return s.toWellFormed ? s.toWellFormed() : s;
    const bytes = enc().utf8Encode(s.replace(/\+/g, ' '));
    const out = new Uint8Array(bytes.length);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0x25 && i + 2 < bytes.length) {
        const hex = String.fromCharCode(bytes[i + 1], bytes[i + 2]);
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
          out[n++] = parseInt(hex, 16);
          i += 2;
          continue;
        }
      }
      out[n++] = b;
    }
    return enc().utf8Decode(out.subarray(0, n));
  };
  const encode = (s: string): string => {
    const bytes = enc().utf8Encode(s);
    let out = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2a || b === 0x2d || b === 0x2e || b === 0x5f) out += String.fromCharCode(b);
      else if (b === 0x20) out += '+';
      else out += '%' + HEX[b >> 4] + HEX[b & 15];
    }
    return out;
  };
  const parseQuery = (q: string): [string, string][] => {
    const list: [string, string][] = [];
    const parts = q.split('&');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (part === '') continue;
      const eq = part.indexOf('=');
      list.push(eq < 0 ? [decode(part), ''] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))]);
    }
    return list;
  };
  const serialize = (list: [string, string][]): string => {
    let out = '';
    for (let i = 0; i < list.length; i++) out += (i ? '&' : '') + encode(list[i][0]) + '=' + encode(list[i][1]);
    return out;
  };
  /** The URL's query follows its searchParams. */
  const update = (p: ParamsState): void => {
    if (!p.url) return;
    const s = state(p.url);
    const q = serialize(p.list);
    const c = components(h('urlset', I.stringify([s.c.href, 'search', q])));
    if (c) s.c = c;
  };

  class URLSearchParams {
    constructor(init: unknown = '') {
      let list: [string, string][] = [];
      if (init !== null && typeof init === 'object') {
        const other = paramsOf.get(init);
        if (other) list = other.list.map(([k, v]) => [k, v] as [string, string]);
        else if (typeof (init as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
          for (const pair of init as Iterable<unknown>) {
            const p = [...(pair as Iterable<unknown>)];
            if (p.length !== 2) throw new TypeErr("Failed to construct 'URLSearchParams': each query pair must be an iterable [name, value] tuple");
            list.push([Str(p[0]), Str(p[1])]);
          }
        } else {
          const ks = Object.keys(init);
          for (let i = 0; i < ks.length; i++) list.push([ks[i], Str((init as Record<string, unknown>)[ks[i]])]);
        }
      } else {
        const q = Str(init);
        list = parseQuery(q[0] === '?' ? q.slice(1) : q);
      }
      paramsOf.set(this, { list });
    }
    get size(): number {
      return pstate(this).list.length;
    }
    append(name: unknown, value: unknown): void {
      const p = pstate(this);
      p.list.push([Str(name), Str(value)]);
      update(p);
    }
    delete(name: unknown, value?: unknown): void {
      const p = pstate(this);
      const n = Str(name);
      const v = value === undefined ? undefined : Str(value);
      p.list = p.list.filter(([k, x]) => !(k === n && (v === undefined || x === v)));
      update(p);
    }
    get(name: unknown): string | null {
      const n = Str(name);
      const hit = pstate(this).list.find(([k]) => k === n);
      return hit ? hit[1] : null;
    }
    getAll(name: unknown): string[] {
      const n = Str(name);
      return pstate(this).list.filter(([k]) => k === n).map(([, v]) => v);
    }
    has(name: unknown, value?: unknown): boolean {
      const n = Str(name);
      const v = value === undefined ? undefined : Str(value);
      return pstate(this).list.some(([k, x]) => k === n && (v === undefined || x === v));
    }
    set(name: unknown, value: unknown): void {
      const p = pstate(this);
      const n = Str(name);
      const v = Str(value);
      const i = p.list.findIndex(([k]) => k === n);
      if (i < 0) p.list.push([n, v]);
      else {
        p.list[i] = [n, v];
        p.list = p.list.filter(([k], j) => j <= i || k !== n);
      }
      update(p);
    }
    sort(): void {
      const p = pstate(this);
      // Stable, by UTF-16 code units of the name.
      p.list = p.list.map((e, i) => [e, i] as const).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map(([e]) => e);
      update(p);
    }
    forEach(callback: (value: string, name: string, params: URLSearchParams) => void, thisArg?: unknown): void {
      const p = pstate(this);
      for (let i = 0; i < p.list.length; i++) callback.call(thisArg, p.list[i][1], p.list[i][0], this);
    }
    *entries(): IterableIterator<[string, string]> {
      const p = pstate(this);
      for (let i = 0; i < p.list.length; i++) yield [p.list[i][0], p.list[i][1]];
    }
    *keys(): IterableIterator<string> {
      for (const [k] of this.entries()) yield k;
    }
    *values(): IterableIterator<string> {
      for (const [, v] of this.entries()) yield v;
    }
    [Symbol.iterator](): IterableIterator<[string, string]> {
      return this.entries();
    }
    toString(): string {
      return serialize(pstate(this).list);
    }
    get [Symbol.toStringTag](): string {
      return 'URLSearchParams';
    }
  }

  const invalid = (input: unknown): TypeError => {
    const e = new TypeErr(`Invalid URL: ${Str(input).slice(0, 200)}`);
    I.defineProperty(e, 'code', { value: 'ERR_INVALID_URL' });
    return e;
  };
  const setComponent = (u: URL, name: Component, value: unknown): void => {
    const s = state(u);
    const c = components(h('urlset', I.stringify([s.c.href, name, Str(value)])));
    if (!c) {
      if (name === 'href') throw invalid(value);
      return;
    }
    s.c = c;
    if (s.params && (name === 'href' || name === 'search')) {
      const ps = pstate(s.params);
      ps.list = parseQuery(c.search.slice(1));
    }
  };

  class URL {
    constructor(url: unknown, base?: unknown) {
      if (arguments.length === 0) throw new TypeErr("Failed to construct 'URL': 1 argument required, but only 0 present.");
      const c = parseUrl(url, base);
      if (!c) throw invalid(url);
      urls.set(this, { c });
    }
    static canParse(url: unknown, base?: unknown): boolean {
      return parseUrl(url, base) !== undefined;
    }
    static parse(url: unknown, base?: unknown): URL | null {
      try {
        return new URL(url, base);
      } catch {
        return null;
      }
    }
    get href(): string {
      return state(this).c.href;
    }
    set href(v: string) {
      setComponent(this, 'href', v);
    }
    get origin(): string {
      return state(this).c.origin;
    }
    get protocol(): string {
      return state(this).c.protocol;
    }
    set protocol(v: string) {
      setComponent(this, 'protocol', v);
    }
    get username(): string {
      return state(this).c.username;
    }
    set username(v: string) {
      setComponent(this, 'username', v);
    }
    get password(): string {
      return state(this).c.password;
    }
    set password(v: string) {
      setComponent(this, 'password', v);
    }
    get host(): string {
      return state(this).c.host;
    }
    set host(v: string) {
      setComponent(this, 'host', v);
    }
    get hostname(): string {
      return state(this).c.hostname;
    }
    set hostname(v: string) {
      setComponent(this, 'hostname', v);
    }
    get port(): string {
      return state(this).c.port;
    }
    set port(v: string) {
      setComponent(this, 'port', v);
    }
    get pathname(): string {
      return state(this).c.pathname;
    }
    set pathname(v: string) {
      setComponent(this, 'pathname', v);
    }
    get search(): string {
      return state(this).c.search;
    }
    set search(v: string) {
      setComponent(this, 'search', v);
    }
    get hash(): string {
      return state(this).c.hash;
    }
    set hash(v: string) {
      setComponent(this, 'hash', v);
    }
    get searchParams(): URLSearchParams {
      const s = state(this);
      if (!s.params) {
        s.params = new URLSearchParams(s.c.search);
        pstate(s.params).url = this;
      }
      return s.params;
    }
    toString(): string {
      return this.href;
    }
    toJSON(): string {
      return this.href;
    }
    get [Symbol.toStringTag](): string {
      return 'URL';
    }
  }

  (I.platform ??= []).push({ is: (v) => urls.has(v) || paramsOf.has(v) });
  return { URL, URLSearchParams };
}
