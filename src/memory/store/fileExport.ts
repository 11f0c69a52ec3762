/**
 * Writing the whole store to a file as JSON Lines (exportFormat.ts), a page at a time in
 * export order, with a turn of the event loop between pages so the store keeps serving
 * other calls, and the file stream's backpressure respected: memory stays flat whatever
 * the store's size. The lines go to a temporary file beside the target, renamed onto it once
 * complete: a failure or a cancel removes only that, so a file the export was to replace survives.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Database } from 'sql.js';
import type { ExchangeProgressOptions } from '../types';
import { ImportCancelledError, MemoryError } from '../errors';
import { headerLine } from '../exportFormat';
import { linesPage } from './exchange';

/** Episodes read and written per page. */
const PAGE = 200;

export async function exportToFile(db: () => Database, file: string, options: ExchangeProgressOptions): Promise<number> {
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.partial`);
  const out = fs.createWriteStream(partial, { flags: 'wx' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  let written = 0;
  try {
    let page = linesPage(db(), { offset: 0, limit: PAGE });
    await write(headerLine(page.total));
    for (;;) {
      await write(page.lines);
      written += page.count;
      options.onProgress?.(written, page.total);
      if (page.next === undefined) break;
      await new Promise((resolve) => setImmediate(resolve));
      if (options.signal?.aborted) throw new ImportCancelledError(`The export to ${file} was cancelled; nothing was written there.`);
      page = linesPage(db(), { after: page.next, offset: 0, limit: PAGE });
    }
    // Renamed once closed (Windows refuses to rename a file still open).
    await Promise.race([new Promise<void>((resolve) => out.once('close', resolve).end()), failed]);
    fs.renameSync(partial, file);
    return written;
  } catch (e) {
    out.destroy();
    fs.rmSync(partial, { force: true });
    if (e instanceof MemoryError) throw e;
    throw new Error(`Cannot write the export to ${file}: ${(e as Error).message}`, { cause: e });
  }
}
