/**
 * The export format (JSON Lines, src/memory/exportFormat.ts) for the callers: the
 * `memory-mcp export/import` CLI and the VS Code commands. Files are read and written by
 * the store itself (MemoryStoreApi.importFile / exportFile: in the service, in its worker,
 * so no line is parsed or built on the caller's thread); this module adds the stream
 * export (stdout) and the cancel-by-polling form the VS Code progress token wants.
 * Import is all or nothing: an invalid line (unless skipInvalid), a failed write or a
 * cancel leaves the store as it was; importing a file twice imports nothing the second time.
 */
import { once } from 'node:events';
import type { ImportReport, MemoryStoreApi } from '../memory/types';
import { headerLine } from '../memory/exportFormat';
import { ImportCancelledError } from '../memory/errors';

export { EXPORT_FORMAT, EXPORT_VERSION } from '../memory/exportFormat';
export { ImportCancelledError, ImportFileError } from '../memory/errors';
export type { ImportReport, InvalidLine } from '../memory/types';

/** Episodes read from the store per call. */
const BATCH = 200;

export type Progress = (done: number, total?: number) => void;

/**
 * Writes the whole store as JSON Lines to a stream (e.g. stdout; for a file use store.exportFile);
 * returns the episodes written. The store serialises the lines: this thread only passes them on.
 */
export async function exportJsonl(store: MemoryStoreApi, out: NodeJS.WritableStream, progress?: Progress, isCancelled?: () => boolean): Promise<number> {
  let page = await store.exportLines({ limit: BATCH });
  await write(out, headerLine(page.total));
  let written = 0;
  for (;;) {
    await write(out, page.lines);
    written += page.count;
    progress?.(written, page.total);
    if (page.next === undefined) return written;
    if (isCancelled?.()) throw new ImportCancelledError('The export was cancelled; what was written so far is incomplete.');
    page = await store.exportLines({ after: page.next, limit: BATCH });
  }
}

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** How often `isCancelled` is asked during an import or export. */
const CANCEL_POLL_MS = 50;

export interface ExchangeOptions {
  progress?: Progress;
  /** Asked every CANCEL_POLL_MS and after each batch; once it answers true the call stops, changing nothing. */
  isCancelled?: () => boolean;
}

/** Runs an import or export with `isCancelled` turned into the AbortSignal the store takes. */
async function withCancel<T>(options: ExchangeOptions, run: (o: { onProgress: Progress; signal: AbortSignal }) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const { isCancelled } = options;
  const poll = isCancelled
    ? setInterval(() => {
        if (isCancelled()) abort.abort();
      }, CANCEL_POLL_MS)
    : undefined;
  try {
    return await run({
      signal: abort.signal,
      onProgress: (done, total) => {
        options.progress?.(done, total);
        if (isCancelled?.()) abort.abort();
      },
    });
  } finally {
    if (poll) clearInterval(poll);
  }
}

/** Imports an export file (JSON Lines, or the older whole-JSON export) through the store; cancelled, it throws ImportCancelledError. */
export function importFile(store: MemoryStoreApi, file: string, options: ExchangeOptions & { skipInvalid?: boolean } = {}): Promise<ImportReport> {
  return withCancel(options, (o) => store.importFile(file, { ...o, skipInvalid: options.skipInvalid }));
}

/** Exports the store to a file through the store; cancelled, it throws ImportCancelledError and leaves the target as it was. */
export function exportFile(store: MemoryStoreApi, file: string, options: ExchangeOptions = {}): Promise<number> {
  return withCancel(options, (o) => store.exportFile(file, o));
}
