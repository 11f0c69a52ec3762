/**
 * TextEncoder and TextDecoder (WHATWG Encoding, UTF-8: `fatal`, `ignoreBOM`,
 * streaming), and atob/btoa (forgiving base64). Errors follow the standards:
 * TypeError for invalid data in a fatal decoder, RangeError for an unknown
 * label, InvalidCharacterError DOMException from atob/btoa.
 */
import type { DOMExceptionClass } from './domexception';
import type { Intrinsics } from './types';

/** Labels of UTF-8 in the Encoding standard (the only encoding offered). */
const UTF8_LABELS = ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8'];
const REPLACEMENT = 0xfffd;
const CHUNK = 8192;

export interface EncodingInternals {
  utf8Encode(s: string): Uint8Array;
  utf8Decode(bytes: Uint8Array): string;
  bytesOf(source: unknown, what: string): Uint8Array;
}

export default function encodingModule(I: Intrinsics): Record<string, unknown> {
  const { TypeError: TypeErr } = I;
  const fromCharCode = String.fromCharCode;
  const domException = (): DOMExceptionClass => I.need<{ DOMException: DOMExceptionClass }>('domexception').DOMException;

  /** A string of UTF-16 code units → UTF-8 bytes, lone surrogates as U+FFFD. */
  function utf8Encode(s: string): Uint8Array {
    const out = new Uint8Array(s.length * 3);
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else c = REPLACEMENT;
      }
      if (c < 0x80) out[n++] = c;
      else if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6);
        out[n++] = 0x80 | (c & 63);
      } else if (c < 0x10000) {
        out[n++] = 0xe0 | (c >> 12);
        out[n++] = 0x80 | ((c >> 6) & 63);
        out[n++] = 0x80 | (c & 63);
      } else {
        out[n++] = 0xf0 | (c >> 18);
        out[n++] = 0x80 | ((c >> 12) & 63);
        out[n++] = 0x80 | ((c >> 6) & 63);
        out[n++] = 0x80 | (c & 63);
      }
    }
    return out.slice(0, n);
  }

  /** The Encoding standard's UTF-8 decoder state (carried across calls when streaming). */
  interface DecoderState {
    codePoint: number;
    needed: number;
    seen: number;
    lower: number;
    upper: number;
  }
  const freshState = (): DecoderState => ({ codePoint: 0, needed: 0, seen: 0, lower: 0x80, upper: 0xbf });

  /** Decodes `bytes`; `flush` ends the stream (an unfinished sequence is an error). Returns undefined on error when fatal. */
  function decodeInto(bytes: Uint8Array, st: DecoderState, fatal: boolean, flush: boolean): string | undefined {
    let out = '';
    const units: number[] = [];
    const emit = (cp: number): void => {
      if (cp < 0x10000) units.push(cp);
      else {
        cp -= 0x10000;
        units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      }
      if (units.length >= CHUNK) {
        out += fromCharCode(...units);
        units.length = 0;
      }
    };
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (st.needed === 0) {
        if (b < 0x80) emit(b);
        else if (b >= 0xc2 && b <= 0xdf) {
          st.needed = 1;
          st.codePoint = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
          if (b === 0xe0) st.lower = 0xa0;
          if (b === 0xed) st.upper = 0x9f;
          st.needed = 2;
          st.codePoint = b & 0xf;
        } else if (b >= 0xf0 && b <= 0xf4) {
          if (b === 0xf0) st.lower = 0x90;
          if (b === 0xf4) st.upper = 0x8f;
          st.needed = 3;
          st.codePoint = b & 0x7;
        } else {
          if (fatal) return undefined;
          emit(REPLACEMENT);
        }
        continue;
      }
      if (b < st.lower || b > st.upper) {
        st.codePoint = st.needed = st.seen = 0;
        st.lower = 0x80;
        st.upper = 0xbf;
        if (fatal) return undefined;
        emit(REPLACEMENT);
        i--; // The byte is processed again as the start of a sequence.
        continue;
      }
      st.lower = 0x80;
      st.upper = 0xbf;
      st.codePoint = (st.codePoint << 6) | (b & 0x3f);
      if (++st.seen === st.needed) {
        const cp = st.codePoint;
        st.codePoint = st.needed = st.seen = 0;
        emit(cp);
      }
    }
    if (flush && st.needed) {
      st.codePoint = st.needed = st.seen = 0;
      st.lower = 0x80;
      st.upper = 0xbf;
      if (fatal) return undefined;
      emit(REPLACEMENT);
    }
    return out + fromCharCode(...units);
  }

  const utf8Decode = (bytes: Uint8Array): string => decodeInto(bytes, freshState(), false, true) as string;

  /** A BufferSource (ArrayBuffer, typed array or DataView) as bytes, without copying. */
  function bytesOf(source: unknown, what: string): Uint8Array {
    if (source instanceof ArrayBuffer) return new Uint8Array(source);
    if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    throw new TypeErr(`${what}: the argument must be an ArrayBuffer, a typed array or a DataView`);
  }

  /** The TextEncoders and TextDecoders made: their brand, for structuredClone. */
  const coders = new WeakSet<object>();
  class TextEncoder {
    constructor() {
      coders.add(this);
    }
    get encoding(): string {
      return 'utf-8';
    }
    encode(input: unknown = ''): Uint8Array {
      return utf8Encode(I.String(input));
    }
    encodeInto(source: unknown, destination: Uint8Array): { read: number; written: number } {
      if (!(destination instanceof Uint8Array)) throw new TypeErr('TextEncoder.encodeInto: the destination must be a Uint8Array');
      const s = I.String(source);
      let read = 0;
      let written = 0;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
        const unit = pair ? s.slice(i, i + 2) : s[i];
        const bytes = utf8Encode(unit);
        if (written + bytes.length > destination.length) break;
        destination.set(bytes, written);
        written += bytes.length;
        read += unit.length;
        if (pair) i++;
      }
      return { read, written };
    }
  }

  class TextDecoder {
    readonly #fatal: boolean;
    readonly #ignoreBOM: boolean;
    #state = freshState();
    #bomSeen = false;
    constructor(label: unknown = 'utf-8', options: { fatal?: unknown; ignoreBOM?: unknown } = {}) {
      const l = I.String(label).trim().toLowerCase();
      if (!UTF8_LABELS.includes(l)) throw new RangeError(`TextDecoder: the encoding label provided ('${I.String(label)}') is not supported here (only UTF-8)`);
      coders.add(this);
      this.#fatal = !!options?.fatal;
      this.#ignoreBOM = !!options?.ignoreBOM;
    }
    get encoding(): string {
      return 'utf-8';
    }
    get fatal(): boolean {
      return this.#fatal;
    }
    get ignoreBOM(): boolean {
      return this.#ignoreBOM;
    }
    decode(input?: unknown, options: { stream?: unknown } = {}): string {
      const bytes = input === undefined ? new Uint8Array(0) : bytesOf(input, 'TextDecoder.decode');
      const stream = !!options?.stream;
      let s = decodeInto(bytes, this.#state, this.#fatal, !stream);
      if (s === undefined) {
        this.#state = freshState();
        this.#bomSeen = false;
        throw new TypeErr('TextDecoder.decode: the encoded data was not valid UTF-8');
      }
      if (!this.#ignoreBOM && !this.#bomSeen && s.length) {
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
        this.#bomSeen = true;
      }
      if (!stream) {
        this.#state = freshState();
        this.#bomSeen = false;
      }
      return s;
    }
  }

  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const B64_VALUE: Record<string, number> = {};
  for (let i = 0; i < 64; i++) B64_VALUE[B64[i]] = i;
  const invalid = (what: string): Error => new (domException())(what, 'InvalidCharacterError');

  function btoa(data: unknown): string {
    if (arguments.length === 0) throw new TypeErr("Failed to execute 'btoa': 1 argument required, but only 0 present.");
    const s = I.String(data);
    let out = '';
    for (let i = 0; i < s.length; i += 3) {
      const a = s.charCodeAt(i);
      const b = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      const c = i + 2 < s.length ? s.charCodeAt(i + 2) : 0;
      if (a > 255 || b > 255 || c > 255) throw invalid('Invalid character: btoa() takes a string of Latin-1 characters (each code unit at most 0xFF)');
      out += B64[a >> 2] + B64[((a & 3) << 4) | (b >> 4)] + (i + 1 < s.length ? B64[((b & 15) << 2) | (c >> 6)] : '=') + (i + 2 < s.length ? B64[c & 63] : '=');
    }
    return out;
  }

  /** Forgiving-base64 decode (HTML): ASCII whitespace ignored, padding optional, anything else invalid. */
  function atob(data: unknown): string {
    if (arguments.length === 0) throw new TypeErr("Failed to execute 'atob': 1 argument required, but only 0 present.");
    let s = I.String(data).replace(/[\t\n\f\r ]/g, '');
    if (s.length % 4 === 0) s = s.replace(/={1,2}$/, '');
    if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw invalid('The string to be decoded is not correctly encoded.');
    let out = '';
    let buffer = 0;
    let bits = 0;
    for (let i = 0; i < s.length; i++) {
      buffer = (buffer << 6) | B64_VALUE[s[i]];
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += fromCharCode((buffer >> bits) & 0xff);
      }
    }
    return out;
  }

  const internals: EncodingInternals = { utf8Encode, utf8Decode, bytesOf };
  (I.platform ??= []).push({ is: (v) => coders.has(v) });
  return { TextEncoder, TextDecoder, atob, btoa, internals };
}
