/**
 * DOMException (WebIDL), the error the web APIs throw: a name, a message and
 * the legacy code. Serialisable: structuredClone copies its name and message.
 */
import type { Intrinsics } from './types';

const LEGACY_CODES: Record<string, number> = {
  IndexSizeError: 1,
  HierarchyRequestError: 3,
  WrongDocumentError: 4,
  InvalidCharacterError: 5,
  NoModificationAllowedError: 7,
  NotFoundError: 8,
  NotSupportedError: 9,
  InvalidStateError: 11,
  SyntaxError: 12,
  InvalidModificationError: 13,
  NamespaceError: 14,
  InvalidAccessError: 15,
  TypeMismatchError: 17,
  SecurityError: 18,
  NetworkError: 19,
  AbortError: 20,
  URLMismatchError: 21,
  QuotaExceededError: 22,
  TimeoutError: 23,
  InvalidNodeTypeError: 24,
  DataCloneError: 25,
};

export type DOMExceptionClass = new (message?: string, name?: string) => Error & { readonly code: number };

export default function domExceptionModule(I: Intrinsics): Record<string, unknown> {
  const Base = I.Error;
  const made = new WeakSet<object>();
  class DOMException extends Base {
    readonly #name: string;
    constructor(message: unknown = '', options: unknown = 'Error') {
      super(I.String(message));
      made.add(this);
      this.#name = options !== null && typeof options === 'object' && 'name' in options ? I.String((options).name) : I.String(options);
      if (options !== null && typeof options === 'object' && 'cause' in options) I.defineProperty(this, 'cause', { value: (options).cause, writable: true, configurable: true });
    }
    override get name(): string {
      return this.#name;
    }
    get code(): number {
      return I.hasOwn(LEGACY_CODES, this.#name) ? LEGACY_CODES[this.#name] : 0;
    }
  }
  const names = I.getOwnPropertyNames(LEGACY_CODES);
  for (let i = 0; i < names.length; i++) {
    const constant = names[i].replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase().replace(/_ERROR$/, '_ERR');
    I.defineProperty(DOMException, constant, { value: LEGACY_CODES[names[i]], enumerable: true });
    I.defineProperty(DOMException.prototype, constant, { value: LEGACY_CODES[names[i]], enumerable: true });
  }
  const nameOf = I.getOwnPropertyDescriptor(DOMException.prototype, 'name')?.get as () => string;
  (I.platform ??= []).push({
    is: (v) => made.has(v),
    clone: (v) => new DOMException(I.getOwnPropertyDescriptor(v, 'message')?.value, I.apply(nameOf, v, [])),
  });
  return { DOMException };
}
