/**
 * Importing an export file into the store, all or nothing, without holding up the store's
 * other calls for long:
 *
 * 1. check: every line is read and validated (no store change); an invalid line fails the
 *    import with every bad line's number (unless skipInvalid). Other calls run meanwhile.
 * 2. apply: one database transaction, held while the file is read again in batches (the
 *    store's other writes wait for it; reads go on between batches); the index takes each
 *    batch as it goes. A failure or a cancel rolls the transaction back and takes the
 *    batches out of the index again: nothing changed.
 * 3. save: after COMMIT the import is made durable by a snapshot (not by the journal, which
 *    would hold the whole file once more); it is acknowledged once the snapshot is on disk.
 *    A crash before that leaves the files as they were; a failed snapshot reloads the store
 *    from its files, which hold no trace of the import.
 *
 * Memory stays flat in the file's size: one batch of episodes at a time, the ids, and a
 * bounded tally of pattern counts (written in slices when it fills, and at the end).
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import type { Episode, ImportFileOptions, ImportReport, InvalidLine } from '../types';
import { ImportCancelledError, ImportFileError, MemoryError } from '../errors';
import { EXPORT_FORMAT, EXPORT_VERSION, episodeFromLine, isHeader } from '../exportFormat';
import { freshImports } from './exchange';
import { insertEpisodes } from './operations';
import { PatternTally } from './patterns';
import type { StoreState } from './state';

/** Episodes applied per slice of the transaction (between two, the store serves other calls). */
const BATCH = 200;
/**
 * Pattern keys tallied before they are written (most keys recur across batches: at 10k
 * episodes 119k writes batch by batch, 35k in all), and keys written per slice.
 */
const PATTERN_KEYS_HELD = 50_000;
const PATTERN_SLICE = 2_000;
/** Lines checked between two turns of the event loop while checking the file. */
const CHECK_SLICE = 500;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function lines(file: string): AsyncIterable<string> {
  return readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
}

/** The episode lines of an export file with their line numbers (blank lines and the header left out). */
async function* episodeLines(file: string): AsyncGenerator<{ n: number; text: string }> {
  let n = 0;
  let headerSeen = false;
  for await (const text of lines(file)) {
    n++;
    if (!text.trim()) continue;
    if (headerSeen) yield { n, text };
    headerSeen = true;
  }
}

/** The file's first non-empty line (read without loading the file). */
async function firstLine(file: string): Promise<string | undefined> {
  for await (const l of lines(file)) if (l.trim()) return l;
  return undefined;
}

export function importCancelled(file: string): ImportCancelledError {
  return new ImportCancelledError(`The import of ${file} was cancelled; nothing was changed.`);
}

export type FileKind = { format: 'json' } | { format: 'jsonl'; invalid: InvalidLine[]; valid: number };

/** Step 1: what the file is, and (JSON Lines) its invalid lines; throws ImportFileError when it cannot be imported. */
export async function checkImportFile(file: string, options: ImportFileOptions): Promise<FileKind> {
  let first: string | undefined;
  try {
    first = await firstLine(file);
  } catch (e) {
    throw new MemoryError('invalid', `Cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (first === undefined) throw new ImportFileError(`${file} is empty: expected a header line {"format":"${EXPORT_FORMAT}","version":1,…}`, []);
  if (!isHeader(first)) {
    if (first.trimStart().startsWith('{')) return { format: 'json' };
    throw new ImportFileError(`${file} is not JSON Lines with an export header (line 1 should be {"format":"${EXPORT_FORMAT}","version":1,…}). Nothing was changed.`, [
      { line: 1, message: 'not an export header' },
    ]);
  }
  const header = JSON.parse(first) as { version?: unknown };
  if (header.version !== EXPORT_VERSION) {
    throw new ImportFileError(`${file} is export version ${String(header.version)}; this version reads version ${EXPORT_VERSION}`, [{ line: 1, message: 'unsupported version' }]);
  }
  const invalid: InvalidLine[] = [];
  let checked = 0;
  for await (const { n, text } of episodeLines(file)) {
    if (++checked % CHECK_SLICE === 0) {
      await yieldToLoop();
      if (options.signal?.aborted) throw importCancelled(file);
    }
    try {
      episodeFromLine(text);
    } catch (e) {
      invalid.push({ line: n, message: (e as Error).message });
    }
  }
  if (invalid.length && !options.skipInvalid) {
    const shown = invalid.slice(0, 10).map((i) => `line ${i.line}: ${i.message}`);
    throw new ImportFileError(
      `${invalid.length} invalid line${invalid.length === 1 ? '' : 's'} in ${file}; nothing was imported (fix them, or import the valid ones with --skip-invalid):\n  ${shown.join('\n  ')}${invalid.length > 10 ? `\n  … and ${invalid.length - 10} more` : ''}`,
      invalid,
    );
  }
  return { format: 'jsonl', invalid, valid: checked - invalid.length };
}

/**
 * Step 2: applies the file's valid lines in one transaction (the caller keeps other writes
 * out until it resolves). Resolves after COMMIT with what was imported; on any failure the
 * transaction is rolled back and the index restored before it throws.
 */
export async function applyImportFile(
  state: StoreState,
  file: string,
  kind: FileKind & { format: 'jsonl' },
  options: ImportFileOptions,
): Promise<Omit<ImportReport, 'invalid' | 'format'>> {
  const { db, index } = state;
  const bad = new Set(kind.invalid.map((i) => i.line));
  const added: string[] = [];
  let skipped = 0;
  let batch: Episode[] = [];
  const patterns = new PatternTally();
  const flush = (): void => {
    const { fresh, skipped: repeated } = freshImports(db, index, batch);
    skipped += repeated;
    batch = [];
    if (!fresh.length) return;
    insertEpisodes(db, fresh, patterns);
    for (const e of fresh) {
      index.upsert(e);
      added.push(e.id);
    }
  };
  /** Writes the tallied patterns a slice at a time (other calls run between slices). */
  const writePatterns = async (): Promise<void> => {
    while (patterns.size) {
      patterns.write(db, PATTERN_SLICE);
      await yieldToLoop();
      if (options.signal?.aborted) throw importCancelled(file);
    }
  };
  db.exec('BEGIN');
  try {
    for await (const { n, text } of episodeLines(file)) {
      if (bad.has(n)) continue;
      try {
        batch.push(episodeFromLine(text));
      } catch (e) {
        throw new MemoryError('conflict', `${file} changed while it was being imported (line ${n}: ${(e as Error).message}); nothing was imported. Import it again.`, { cause: e });
      }
      if (batch.length < BATCH) continue;
      flush();
      if (patterns.size > PATTERN_KEYS_HELD) await writePatterns();
      options.onProgress?.(added.length + skipped, kind.valid);
      await yieldToLoop();
      if (options.signal?.aborted) throw importCancelled(file);
    }
    flush();
    await writePatterns();
    if (options.signal?.aborted) throw importCancelled(file);
    db.exec(added.length ? 'COMMIT' : 'ROLLBACK');
  } catch (e) {
    try {
      db.exec('ROLLBACK');
    } catch {
      /* already rolled back */
    }
    for (const id of added) index.remove(id);
    throw e;
  }
  options.onProgress?.(added.length + skipped, kind.valid);
  return { imported: added.length, skipped };
}

/** The older whole-JSON export, read whole. */
export async function readWholeExport(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    throw new MemoryError('invalid', `Cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ImportFileError(`${file} is neither JSON Lines with an export header nor a JSON export: ${(e as Error).message}`, []);
  }
}
