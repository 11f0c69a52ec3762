/**
 * crypto: getRandomValues and randomUUID from the host's CSPRNG (node:crypto,
 * through `h('random', n)`, which answers an ArrayBuffer of n bytes), and
 * subtle.digest (SHA-1, SHA-256, SHA-384, SHA-512) computed in the guest with
 * @noble/hashes (audited), so a large digest counts against the run's limits.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { DOMExceptionClass } from './domexception';
import type { EncodingInternals } from './encoding';
import type { Intrinsics } from './types';

/** getRandomValues' limit (WebCrypto): larger requests throw QuotaExceededError. */
const MAX_RANDOM_BYTES = 65536;
const DIGESTS: Record<string, (data: Uint8Array) => Uint8Array> = { 'SHA-1': sha1, 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 };
const INTEGER_ARRAYS = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

export default function cryptoModule(I: Intrinsics): Record<string, unknown> {
  const { h, freeze } = I;
  const domException = (): DOMExceptionClass => I.need<{ DOMException: DOMExceptionClass }>('domexception').DOMException;
  const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)?.get;

  const randomBytes = (n: number): Uint8Array => new Uint8Array(h('random', n) as ArrayBuffer);
  function getRandomValues<T extends ArrayBufferView>(array: T): T {
    const tag = typedArrayTag ? (I.apply(typedArrayTag, array, []) as string | undefined) : undefined;
    if (tag === undefined || !INTEGER_ARRAYS.includes(tag)) {
      throw new (domException())("Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is not an integer typed array.", 'TypeMismatchError');
    }
    if (array.byteLength > MAX_RANDOM_BYTES) {
      throw new (domException())(`Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (${MAX_RANDOM_BYTES}).`, 'QuotaExceededError');
    }
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(randomBytes(array.byteLength));
    return array;
  }
  function randomUUID(): string {
    const b = randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = '';
    for (let i = 0; i < 16; i++) hex += (b[i] < 16 ? '0' : '') + b[i].toString(16) + (i === 3 || i === 5 || i === 7 || i === 9 ? '-' : '');
    return hex;
  }
  const subtle = freeze({
    digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
      return new Promise<ArrayBuffer>((resolve) => {
        const name = I.String(algorithm !== null && typeof algorithm === 'object' ? (algorithm as { name?: unknown }).name : algorithm).toUpperCase();
        const fn = I.hasOwn(DIGESTS, name) ? DIGESTS[name] : undefined;
        if (!fn) throw new (domException())(`Unrecognized algorithm name: ${name} (crypto.subtle.digest offers SHA-1, SHA-256, SHA-384 and SHA-512)`, 'NotSupportedError');
        const bytes = I.need<{ internals: EncodingInternals }>('encoding').internals.bytesOf(data, 'crypto.subtle.digest');
        const digest = fn(bytes.slice());
        resolve(digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength) as ArrayBuffer);
      });
    },
  });
  const crypto = freeze({ getRandomValues, randomUUID, subtle });
  return { crypto };
}
