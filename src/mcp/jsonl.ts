/**
 * The export format, JSON Lines: a header line
 *   {"format":"agent-memory-export","version":1,"exported_at":…,"episodes":N}
 * then one episode a line, with the field names of get_episode's output (snake_case).
 * Export and import stream (constant memory whatever the size): export pages through the
 * store, import reads line by line and imports in batches. Import first checks every line
 * and imports nothing if one is invalid (listing them by line number), unless skipInvalid;
 * episodes whose id the store already holds are skipped, so importing a file twice imports
 * nothing the second time. The older whole-JSON export ({format, version, episodes: [...]})
 * still imports. Used by the `memory-mcp export/import` CLI and the VS Code commands.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { once } from 'node:events';
import type { Episode, MemoryStoreApi } from '../memory/types';
import { EpisodeSchema } from '../memory/schemas';
import { episodeToOut } from './tools/common';

export const EXPORT_FORMAT = 'agent-memory-export';
export const EXPORT_VERSION = 1;
/** Episodes read from the store, or imported, per call. */
const BATCH = 200;

export type Progress = (done: number, total?: number) => void;

/** Writes the whole store as JSON Lines to `out`; returns the number of episodes written. */
export async function exportJsonl(store: MemoryStoreApi, out: NodeJS.WritableStream, progress?: Progress): Promise<number> {
  let page = await store.exportPage({ limit: BATCH });
  await write(out, JSON.stringify({ format: EXPORT_FORMAT, version: EXPORT_VERSION, exported_at: new Date().toISOString(), episodes: page.total }) + '\n');
  let written = 0;
  for (;;) {
    for (const e of page.episodes) await write(out, JSON.stringify(episodeToOut(e)) + '\n');
    written += page.episodes.length;
    progress?.(written, page.total);
    if (page.next === undefined) return written;
    page = await store.exportPage({ after: page.next, limit: BATCH });
  }
}

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export interface InvalidLine {
  line: number;
  message: string;
}

export interface ImportReport {
  imported: number;
  /** Episodes already in the store (by id). */
  skipped: number;
  /** Invalid lines (skipped with skipInvalid; otherwise the import threw). */
  invalid: InvalidLine[];
  format: 'jsonl' | 'json';
}

/** Thrown when lines are invalid and skipInvalid is off: nothing was imported. */
export class ImportFileError extends Error {
  constructor(
    message: string,
    readonly invalid: InvalidLine[],
  ) {
    super(message);
    this.name = 'ImportFileError';
  }
}

/** An export line (get_episode's field names) as the store's Episode, validated. */
export function episodeFromLine(text: string): Episode {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message})`, { cause: e });
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error('not a JSON object');
  const r = o as Record<string, unknown>;
  const steps = Array.isArray(r.steps)
    ? r.steps.map((s: unknown) => {
        if (!s || typeof s !== 'object') return s;
        const { latency_ms, tokens_used, ...rest } = s as Record<string, unknown>;
        return { ...rest, ...(latency_ms !== undefined ? { latencyMs: latency_ms } : {}), ...(tokens_used !== undefined ? { tokensUsed: tokens_used } : {}) };
      })
    : r.steps;
  const candidate = Object.fromEntries(
    Object.entries({
      id: r.episode_id,
      task: r.task,
      domain: r.domain,
      taskType: r.task_type,
      context: r.context,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      steps,
      outcome: r.outcome,
      reward: r.reward,
      reflection: r.reflection,
    }).filter(([, v]) => v !== undefined),
  );
  const parsed = EpisodeSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}

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

function isHeader(text: string): boolean {
  try {
    const h = JSON.parse(text) as Record<string, unknown>;
    return h !== null && typeof h === 'object' && h.format === EXPORT_FORMAT && !Array.isArray(h.episodes);
  } catch {
    return false;
  }
}

/** Thrown when `isCancelled` answered true: the episodes imported so far were deleted again, so nothing changed. */
export class ImportCancelledError extends Error {
  constructor(file: string) {
    super(`The import of ${file} was cancelled; nothing was changed.`);
    this.name = 'ImportCancelledError';
  }
}

/** Lines checked between two looks at `isCancelled` while checking the file. */
const CHECK_EVERY = 500;

/**
 * Imports an export file (JSON Lines, or the older whole-JSON export). `isCancelled` is asked
 * while checking and before each batch; a cancelled import deletes the episodes it had
 * imported (one write) and throws ImportCancelledError.
 */
export async function importFile(store: MemoryStoreApi, file: string, options: { skipInvalid?: boolean; progress?: Progress; isCancelled?: () => boolean } = {}): Promise<ImportReport> {
  const cancelled = options.isCancelled ?? (() => false);
  const first = await firstLine(file);
  if (first === undefined) throw new ImportFileError(`${file} is empty: expected a header line {"format":"${EXPORT_FORMAT}","version":1,…}`, []);
  if (!isHeader(first)) {
    if (first.trimStart().startsWith('{')) return importWholeJson(store, file);
    throw new ImportFileError(`${file} is not JSON Lines with an export header (line 1 should be {"format":"${EXPORT_FORMAT}","version":1,…}). Nothing was changed.`, [
      { line: 1, message: 'not an export header' },
    ]);
  }
  const header = JSON.parse(first) as { version?: unknown };
  if (header.version !== EXPORT_VERSION) {
    throw new ImportFileError(`${file} is export version ${String(header.version)}; this version reads version ${EXPORT_VERSION}`, [{ line: 1, message: 'unsupported version' }]);
  }
  // Pass 1: check every line, so that a bad one imports nothing (unless skipInvalid).
  const invalid: InvalidLine[] = [];
  let checked = 0;
  for await (const { n, text } of episodeLines(file)) {
    if (++checked % CHECK_EVERY === 0 && cancelled()) throw new ImportCancelledError(file);
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
  // Pass 2: import in batches.
  const bad = new Set(invalid.map((i) => i.line));
  let imported = 0;
  let skipped = 0;
  let batch: Episode[] = [];
  const importedIds: string[] = [];
  // Retention waits for the last batch, so a cancel has only the import's own episodes to delete.
  const flush = async (last: boolean): Promise<void> => {
    if (!batch.length && !last) return;
    if (cancelled()) {
      await store.deleteEpisodes(importedIds);
      throw new ImportCancelledError(file);
    }
    const r = await store.importAll({ format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: new Date().toISOString(), episodes: batch }, { deferRetention: !last });
    importedIds.push(...r.ids);
    imported += r.imported;
    skipped += r.skipped;
    batch = [];
    options.progress?.(imported + skipped);
  };
  for await (const { n, text } of episodeLines(file)) {
    if (bad.has(n)) continue;
    batch.push(episodeFromLine(text));
    if (batch.length >= BATCH) await flush(false);
  }
  await flush(true);
  return { imported, skipped, invalid, format: 'jsonl' };
}

/** The older export: one JSON document {format, version, episodes: [...]} (read whole). */
async function importWholeJson(store: MemoryStoreApi, file: string): Promise<ImportReport> {
  let data: unknown;
  try {
    data = JSON.parse(await fs.promises.readFile(file, 'utf8'));
  } catch (e) {
    throw new ImportFileError(`${file} is neither JSON Lines with an export header nor a JSON export: ${(e as Error).message}`, []);
  }
  const r = await store.importAll(data);
  return { imported: r.imported, skipped: r.skipped, invalid: [], format: 'json' };
}
