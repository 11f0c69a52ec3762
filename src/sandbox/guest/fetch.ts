/**
 * Headers, Request, Response, Blob and File (Fetch and File API, without
 * streams), and the Response the sandbox's fetch() resolves to (see host.ts).
 * Bodies are held whole; text is UTF-8. Blob and File are serialisable
 * (structuredClone copies them); Headers, Request and Response are not.
 */
import type { EncodingInternals } from './encoding';
import type { Intrinsics } from './types';

/** An HTTP token (header name, method). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NORMALIZED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
const FORBIDDEN_METHODS = ['CONNECT', 'TRACE', 'TRACK'];
const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

/** What the host answers for a fetch. */
export interface HostResponse {
  status: number;
  statusText: string;
  url: string;
  redirected?: boolean;
  headers?: Record<string, string>;
  body: string;
}

/** What fetch() needs of an AbortSignal. */
interface SignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
}

export interface FetchInternals {
  fromHost(r: HostResponse): object;
  /** A fetch() argument pair as the host's request: url, method, headers and a text body. */
  toHost(input: unknown, init: unknown): { url: string; method?: string; headers?: Record<string, string>; body?: string };
}

export default function fetchModule(I: Intrinsics): Record<string, unknown> {
  const { TypeError: TypeErr } = I;
  const Str = I.String;
  const enc = (): EncodingInternals => I.need<{ internals: EncodingInternals }>('encoding').internals;
  const urlModule = (): { URL: new (url: string) => { href: string }; URLSearchParams: abstract new (...args: never[]) => object } => I.need('url');

  const normalizeValue = (v: unknown): string => Str(v).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  const checkName = (name: unknown): string => {
    const n = Str(name);
    if (!TOKEN.test(n)) throw new TypeErr(`Headers: invalid header name ${JSON.stringify(n)}`);
    return n.toLowerCase();
  };

  const headerLists = new WeakMap<object, [string, string][]>();
  const list = (h: unknown): [string, string][] => {
    const l = headerLists.get(h as object);
    if (!l) throw new TypeErr('Illegal invocation: not a Headers');
    return l;
  };

  class Headers {
    constructor(init?: unknown) {
      headerLists.set(this, []);
      if (init === undefined || init === null) return;
      if (typeof init !== 'object') throw new TypeErr("Failed to construct 'Headers': the provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'");
      const other = headerLists.get(init);
      if (other) {
        for (const [k, v] of other) this.append(k, v);
      } else if (typeof (init as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
        for (const pair of init as Iterable<unknown>) {
          const p = [...(pair as Iterable<unknown>)];
          if (p.length !== 2) throw new TypeErr("Failed to construct 'Headers': each header must be a [name, value] pair");
          this.append(p[0], p[1]);
        }
      } else {
        for (const k of Object.keys(init)) this.append(k, (init as Record<string, unknown>)[k]);
      }
    }
    append(name: unknown, value: unknown): void {
      const n = checkName(name);
      const v = normalizeValue(value);
      if (/[\0\r\n]/.test(v)) throw new TypeErr(`Headers: invalid value for ${n}`);
      list(this).push([n, v]);
    }
    delete(name: unknown): void {
      const n = checkName(name);
      const l = list(this);
      for (let i = l.length - 1; i >= 0; i--) if (l[i][0] === n) l.splice(i, 1);
    }
    get(name: unknown): string | null {
      const n = checkName(name);
      const values = list(this)
        .filter(([k]) => k === n)
        .map(([, v]) => v);
      return values.length ? values.join(', ') : null;
    }
    getSetCookie(): string[] {
      return list(this)
        .filter(([k]) => k === 'set-cookie')
        .map(([, v]) => v);
    }
    has(name: unknown): boolean {
      const n = checkName(name);
      return list(this).some(([k]) => k === n);
    }
    set(name: unknown, value: unknown): void {
      const n = checkName(name);
      const v = normalizeValue(value);
      if (/[\0\r\n]/.test(v)) throw new TypeErr(`Headers: invalid value for ${n}`);
      const l = list(this);
      const i = l.findIndex(([k]) => k === n);
      if (i < 0) l.push([n, v]);
      else {
        l[i] = [n, v];
        for (let j = l.length - 1; j > i; j--) if (l[j][0] === n) l.splice(j, 1);
      }
    }
    forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
      for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
    }
    /** Sorted by name, values of one name combined (set-cookie kept apart), as the standard iterates. */
    *entries(): IterableIterator<[string, string]> {
      const names = [...new Set(list(this).map(([k]) => k))].sort();
      for (const n of names) {
        if (n === 'set-cookie') for (const v of this.getSetCookie()) yield [n, v];
        else yield [n, this.get(n) as string];
      }
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
    get [Symbol.toStringTag](): string {
      return 'Headers';
    }
  }

  const blobs = new WeakMap<object, { bytes: Uint8Array; type: string }>();
  const blobState = (b: unknown): { bytes: Uint8Array; type: string } => {
    const s = blobs.get(b as object);
    if (!s) throw new TypeErr('Illegal invocation: not a Blob');
    return s;
  };
  const blobType = (t: unknown): string => {
    const s = t === undefined ? '' : Str(t);
    return /^[\x20-\x7e]*$/.test(s) ? s.toLowerCase() : '';
  };
  const copy = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

  class Blob {
    constructor(parts: Iterable<unknown> = [], options?: { type?: unknown }) {
      if (parts === null || typeof parts !== 'object' || typeof (parts as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
        throw new TypeErr("Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
      }
      const chunks: Uint8Array[] = [];
      for (const part of parts) {
        const b = blobs.get(part as object);
        if (b) chunks.push(b.bytes);
        else if (part instanceof ArrayBuffer || ArrayBuffer.isView(part)) chunks.push(enc().bytesOf(part, 'Blob').slice());
        else chunks.push(enc().utf8Encode(Str(part)));
      }
      let size = 0;
      for (const c of chunks) size += c.length;
      const bytes = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
      blobs.set(this, { bytes, type: blobType(options?.type) });
    }
    get size(): number {
      return blobState(this).bytes.length;
    }
    get type(): string {
      return blobState(this).type;
    }
    slice(start?: number, end?: number, contentType?: unknown): Blob {
      const s = blobState(this);
      const b = new Blob([], { type: contentType });
      blobState(b).bytes = s.bytes.slice(start, end);
      return b;
    }
    text(): Promise<string> {
      return Promise.resolve(enc().utf8Decode(blobState(this).bytes));
    }
    arrayBuffer(): Promise<ArrayBuffer> {
      return Promise.resolve(copy(blobState(this).bytes));
    }
    bytes(): Promise<Uint8Array> {
      return Promise.resolve(blobState(this).bytes.slice());
    }
    get [Symbol.toStringTag](): string {
      return 'Blob';
    }
  }

  const files = new WeakMap<object, { name: string; lastModified: number }>();
  const fileState = (f: unknown): { name: string; lastModified: number } => {
    const s = files.get(f as object);
    if (!s) throw new TypeErr('Illegal invocation: not a File');
    return s;
  };
  class File extends Blob {
    constructor(bits: Iterable<unknown>, name: unknown, options?: { type?: unknown; lastModified?: unknown }) {
      if (arguments.length < 2) throw new TypeErr(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
      super(bits, options);
      const lastModified = options?.lastModified === undefined ? Date.now() : Number(options.lastModified);
      files.set(this, { name: Str(name), lastModified: Number.isFinite(lastModified) ? Math.trunc(lastModified) : 0 });
    }
    get name(): string {
      return fileState(this).name;
    }
    get lastModified(): number {
      return fileState(this).lastModified;
    }
    get webkitRelativePath(): string {
      fileState(this);
      return '';
    }
    override get [Symbol.toStringTag](): string {
      return 'File';
    }
  }
  /** A copy of a Blob or File, as structuredClone makes it: of this module's class, its bytes and metadata. */
  const cloneBlob = (v: object): Blob => {
    const s = blobState(v);
    const f = files.get(v);
    const b = f ? new File([], f.name, { type: s.type, lastModified: f.lastModified }) : new Blob([], { type: s.type });
    blobState(b).bytes = s.bytes.slice();
    return b;
  };

  /** A body as bytes plus the content type it implies. */
  const extractBody = (body: unknown): { bytes: Uint8Array; type?: string } | null => {
    if (body === null || body === undefined) return null;
    const b = blobs.get(body);
    if (b) return { bytes: b.bytes, type: b.type || undefined };
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return { bytes: enc().bytesOf(body, 'body').slice() };
    if (body instanceof urlModule().URLSearchParams) return { bytes: enc().utf8Encode(Str(body)), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
    return { bytes: enc().utf8Encode(Str(body)), type: 'text/plain;charset=UTF-8' };
  };

  interface BodyState {
    bytes: Uint8Array | null;
    used: boolean;
    headers: Headers;
  }
  const bodies = new WeakMap<object, BodyState>();
  const consume = (o: unknown): Promise<Uint8Array> => {
    const s = bodies.get(o as object);
    if (!s) return Promise.reject(new TypeErr('Illegal invocation'));
    if (s.used) return Promise.reject(new TypeErr('Body is unusable: Body has already been read'));
    s.used = true;
    return Promise.resolve(s.bytes ?? new Uint8Array(0));
  };
  /** The body methods Request and Response share. */
  class Body {
    get bodyUsed(): boolean {
      return bodies.get(this)?.used ?? false;
    }
    get body(): null {
      return null;
    }
    text(): Promise<string> {
      return consume(this).then((b) => enc().utf8Decode(b));
    }
    json(): Promise<unknown> {
      return this.text().then((t) => JSON.parse(t) as unknown);
    }
    arrayBuffer(): Promise<ArrayBuffer> {
      return consume(this).then(copy);
    }
    bytes(): Promise<Uint8Array> {
      return consume(this).then((b) => b.slice());
    }
    blob(): Promise<Blob> {
      const type = bodies.get(this)?.headers.get('content-type') ?? '';
      return consume(this).then((b) => new Blob([b], { type }));
    }
  }
  const initBody = (o: object, body: unknown, headers: Headers): void => {
    const extracted = extractBody(body);
    if (extracted?.type && !headers.has('content-type')) headers.set('content-type', extracted.type);
    bodies.set(o, { bytes: extracted ? extracted.bytes : null, used: false, headers });
  };

  interface ResponseState {
    status: number;
    statusText: string;
    headers: Headers;
    url: string;
    redirected: boolean;
    type: string;
  }
  const responses = new WeakMap<object, ResponseState>();
  const res = (r: unknown): ResponseState => {
    const s = responses.get(r as object);
    if (!s) throw new TypeErr('Illegal invocation: not a Response');
    return s;
  };

  class Response extends Body {
    constructor(body: unknown = null, init: { status?: unknown; statusText?: unknown; headers?: unknown } = {}) {
      super();
      const status = init.status === undefined ? 200 : Number(init.status);
      if (!(status >= 200 && status <= 599) || status !== Math.floor(status)) throw new RangeError(`Failed to construct 'Response': The status provided (${Str(init.status)}) is outside the range [200, 599].`);
      const headers = new Headers(init.headers);
      if (body !== null && body !== undefined && (status === 204 || status === 205 || status === 304)) throw new TypeErr(`Failed to construct 'Response': Response with null body status (${status}) cannot have body`);
      responses.set(this, { status, statusText: init.statusText === undefined ? '' : Str(init.statusText), headers, url: '', redirected: false, type: 'default' });
      initBody(this, body, headers);
    }
    static json(data: unknown, init: { status?: unknown; statusText?: unknown; headers?: unknown } = {}): Response {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeErr('Response.json: the data is not JSON-serialisable');
      const headers = new Headers(init.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      return new Response(text, { ...init, headers });
    }
    static error(): Response {
      const r = new Response(null, { status: 200 });
      const s = res(r);
      s.status = 0;
      s.type = 'error';
      return r;
    }
    static redirect(url: unknown, status: unknown = 302): Response {
      const s = Number(status);
      if (!REDIRECT_STATUSES.includes(s)) throw new RangeError(`Failed to execute 'redirect' on 'Response': Invalid status code ${Str(status)}`);
      const r = new Response(null, { status: s });
      res(r).headers.set('location', new (urlModule().URL)(Str(url)).href);
      return r;
    }
    get status(): number {
      return res(this).status;
    }
    get ok(): boolean {
      const s = res(this).status;
      return s >= 200 && s < 300;
    }
    get statusText(): string {
      return res(this).statusText;
    }
    get headers(): Headers {
      return res(this).headers;
    }
    get url(): string {
      return res(this).url;
    }
    get redirected(): boolean {
      return res(this).redirected;
    }
    get type(): string {
      return res(this).type;
    }
    clone(): Response {
      const b = bodies.get(this);
      if (b?.used) throw new TypeErr('Response.clone: the body has already been read');
      const s = res(this);
      const r = new Response(null, { status: s.status === 0 ? 200 : s.status, statusText: s.statusText, headers: s.headers });
      Object.assign(res(r), { ...s, headers: res(r).headers });
      (bodies.get(r) as BodyState).bytes = b?.bytes ?? null;
      return r;
    }
    get [Symbol.toStringTag](): string {
      return 'Response';
    }
  }

  interface RequestState {
    url: string;
    method: string;
    headers: Headers;
    signal: SignalLike;
    redirect: string;
  }
  const requests = new WeakMap<object, RequestState>();
  const req = (r: unknown): RequestState => {
    const s = requests.get(r as object);
    if (!s) throw new TypeErr('Illegal invocation: not a Request');
    return s;
  };

  class Request extends Body {
    constructor(input: unknown, init: { method?: unknown; headers?: unknown; body?: unknown; signal?: unknown; redirect?: unknown } = {}) {
      super();
      if (arguments.length === 0) throw new TypeErr("Failed to construct 'Request': 1 argument required, but only 0 present.");
      const from = requests.get(input as object);
      let url: string;
      try {
        url = from ? from.url : new (urlModule().URL)(Str(input)).href;
      } catch {
        throw new TypeErr(`Failed to construct 'Request': Invalid URL ${JSON.stringify(Str(input))} (the sandbox has no base URL: give an absolute URL)`);
      }
      let method = init.method !== undefined ? Str(init.method) : from ? from.method : 'GET';
      if (!TOKEN.test(method)) throw new TypeErr(`Failed to construct 'Request': '${method}' is not a valid HTTP method.`);
      if (FORBIDDEN_METHODS.includes(method.toUpperCase())) throw new TypeErr(`Failed to construct 'Request': '${method}' HTTP method is unsupported.`);
      if (NORMALIZED_METHODS.includes(method.toUpperCase())) method = method.toUpperCase();
      const headers = new Headers(init.headers !== undefined ? init.headers : from?.headers);
      let body = init.body;
      if (body === undefined && from) body = bodies.get(input as object)?.bytes ?? null;
      if (body !== null && body !== undefined && (method === 'GET' || method === 'HEAD')) throw new TypeErr("Failed to construct 'Request': Request with GET/HEAD method cannot have body.");
      const events = I.need<{ AbortController: new () => { signal: SignalLike }; AbortSignal: abstract new () => SignalLike }>('events');
      const signal = init.signal ?? from?.signal;
      requests.set(this, { url, method, headers, signal: signal instanceof events.AbortSignal ? signal : new events.AbortController().signal, redirect: init.redirect !== undefined ? Str(init.redirect) : (from?.redirect ?? 'follow') });
      initBody(this, body, headers);
    }
    get url(): string {
      return req(this).url;
    }
    get method(): string {
      return req(this).method;
    }
    get headers(): Headers {
      return req(this).headers;
    }
    get signal(): SignalLike {
      return req(this).signal;
    }
    get redirect(): string {
      return req(this).redirect;
    }
    clone(): Request {
      if (bodies.get(this)?.used) throw new TypeErr('Request.clone: the body has already been read');
      return new Request(this);
    }
    get [Symbol.toStringTag](): string {
      return 'Request';
    }
  }

  const internals: FetchInternals = {
    fromHost(r) {
      const headers = new Headers();
      const hs = r.headers || {};
      for (const k of Object.keys(hs)) {
        try {
          headers.append(k, hs[k]);
        } catch {
          // A header the standard would not accept is left out.
        }
      }
      const status = r.status >= 200 && r.status <= 599 ? r.status : 200;
      const nullBody = status === 204 || status === 205 || status === 304;
      const response = new Response(nullBody ? null : r.body, { status, statusText: r.statusText, headers });
      Object.assign(res(response), { status: r.status, url: r.url, redirected: !!r.redirected, type: 'basic' });
      return response;
    },
    toHost(input, init) {
      const request = input instanceof Request && init === undefined ? input : new Request(input instanceof Request ? input : Str(input), (init ?? {}));
      if (request.signal.aborted) throw request.signal.reason;
      const headers: Record<string, string> = {};
      for (const [k, v] of request.headers) headers[k] = v;
      const bytes = bodies.get(request)?.bytes;
      return { url: request.url, method: request.method, headers, body: bytes ? enc().utf8Decode(bytes) : undefined };
    },
  };

  (I.platform ??= []).push({ is: (v) => blobs.has(v), clone: cloneBlob }, { is: (v) => headerLists.has(v) || bodies.has(v) });
  return { Headers, Request, Response, Blob, File, internals };
}
