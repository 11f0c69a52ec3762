import type { InvalidLine, MemoryErrorCode } from './types';

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

/** An import file with invalid lines (and skipInvalid off): nothing was imported. */
export class ImportFileError extends MemoryError {
  constructor(
    message: string,
    readonly invalid: InvalidLine[],
  ) {
    super('invalid', message);
  }
}

/** An import or export cancelled by its caller: nothing was changed (a partial export file is removed). */
export class ImportCancelledError extends MemoryError {
  constructor(message: string) {
    super('cancelled', message);
  }
}
