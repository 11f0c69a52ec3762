/**
 * The host's side of the guest runtime's synchronous services (bridge ops
 * 'url', 'urlset' and 'random'): Node's WHATWG URL parser and its CSPRNG.
 * Strings in, strings out; every input is bounded.
 */
import { randomBytes } from 'node:crypto';

/** Longest URL (or base, or component value) parsed, in characters. */
export const URL_MAX_CHARS = 1024 * 1024;
/** Most random bytes one call answers (crypto.getRandomValues' own limit). */
export const RANDOM_MAX_BYTES = 65536;

const COMPONENTS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const;
const SETTABLE = new Set<string>(['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash']);

function checkLength(s: string, what: string): void {
  if (s.length > URL_MAX_CHARS) throw new Error(`${what} is too long (${s.length} characters; limit ${URL_MAX_CHARS})`);
}

function components(u: URL): string {
  return JSON.stringify(COMPONENTS.map((k) => u[k]));
}

/** The bridge's arguments: a JSON array of `min` to `max` strings. */
function stringArgs(json: string, min: number, max: number): string[] {
  checkLength(json, 'the URL');
  const v: unknown = JSON.parse(json);
  if (!Array.isArray(v) || v.length < min || v.length > max || !v.every((x) => typeof x === 'string')) throw new Error('malformed URL request');
  return v;
}

/** Bridge op 'url': `[input, base?]` as JSON → the components, or ''. */
export function urlOp(json: string): string {
  const [input, base] = stringArgs(json, 1, 2);
  return parseUrl(input, base);
}

/** Bridge op 'urlset': `[href, component, value]` as JSON → the components, or ''. */
export function urlSetOp(json: string): string {
  const [href, name, value] = stringArgs(json, 3, 3);
  return setUrlComponent(href, name, value);
}

/** The URL's components as a JSON array (guest/url.ts reads them in this order), or '' if it is not a URL. */
export function parseUrl(input: string, base?: string): string {
  checkLength(input, 'the URL');
  if (base !== undefined) checkLength(base, 'the base URL');
  const u = URL.parse(input, base);
  return u ? components(u) : '';
}

/** Applies a URL setter (as the standard defines it) and answers the components; '' when `href` is set to a non-URL. */
export function setUrlComponent(href: string, name: string, value: string): string {
  if (!SETTABLE.has(name)) throw new Error(`unknown URL component ${JSON.stringify(name.slice(0, 40))}`);
  checkLength(value, `the URL's ${name}`);
  if (name === 'href') return parseUrl(value);
  const u = URL.parse(href);
  if (!u) return '';
  (u as unknown as Record<string, string>)[name] = value;
  return components(u);
}

/** `n` bytes from the CSPRNG (node:crypto). */
export function secureRandom(n: number): ArrayBuffer {
  if (!Number.isInteger(n) || n < 0 || n > RANDOM_MAX_BYTES) throw new Error(`random: ${n} bytes asked; 0 to ${RANDOM_MAX_BYTES} allowed`);
  const b = randomBytes(n);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}
