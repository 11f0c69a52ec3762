import type { MemoryErrorCode } from './types';

/** The one error type the store throws; `code` says what kind of failure it is. */
export class MemoryError extends Error {
  override readonly name = 'MemoryError';
  constructor(
    readonly code: MemoryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isMemoryError(e: unknown, code?: MemoryErrorCode): e is MemoryError {
  return e instanceof MemoryError && (code === undefined || e.code === code);
}
