/** Export and import of whole episodes (the file formats live in the callers). */
import type { Database } from 'sql.js';
import type { Episode } from '../types';
import { MemoryError } from '../errors';
import { computeReward, deriveReflection } from '../learning';
import { episodeLine } from '../exportFormat';
import type { SearchIndex } from '../search';
import { rowToEpisode } from './rows';
import { str, withStatement } from './sql';
import { loadSteps } from './steps';

export function allEpisodes(db: Database): Episode[] {
  const episodes: Episode[] = [];
  withStatement(db, 'SELECT * FROM episodes ORDER BY started_at, id', (stmt) => {
    while (stmt.step()) {
      const row = stmt.getAsObject();
      episodes.push(rowToEpisode(row, loadSteps(db, str(row.id))));
    }
  });
  return episodes;
}

export interface PageOptions {
  after?: string;
  offset: number;
  limit: number;
}

function cursorOf(after: string | undefined): [string, string] | undefined {
  if (after === undefined) return undefined;
  let from: unknown;
  try {
    from = JSON.parse(after);
  } catch {
    from = undefined;
  }
  if (!Array.isArray(from) || from.length !== 2 || !from.every((x) => typeof x === 'string')) {
    throw new MemoryError('invalid', 'The export cursor "after" is not one this store returned as "next"; start again without it');
  }
  return from as [string, string];
}

/**
 * Goes through one page of the export order (started_at, id): after the cursor `after` (from
 * a previous page's `next`) or after skipping `offset`. Only the page's episodes are read;
 * `take` gets each in turn and answers whether it joined the page (false ends the page before it).
 */
function walkPage(db: Database, o: PageOptions, take: (e: Episode) => boolean): { total: number; next?: string } {
  const from = cursorOf(o.after);
  const where = from ? 'WHERE (started_at, id) > (?, ?)' : '';
  let taken = 0;
  let more = false;
  let last: Episode | undefined;
  withStatement(db, `SELECT * FROM episodes ${where} ORDER BY started_at, id LIMIT ? OFFSET ?`, (stmt) => {
    stmt.bind([...(from ?? []), o.limit + 1, o.offset]);
    while (stmt.step()) {
      if (taken === o.limit) {
        more = true;
        return;
      }
      const row = stmt.getAsObject();
      const e = rowToEpisode(row, loadSteps(db, str(row.id)));
      if (!take(e)) {
        more = true;
        return;
      }
      taken++;
      last = e;
    }
  });
  const total = Number(db.exec('SELECT COUNT(*) FROM episodes')[0]?.values[0][0] ?? 0);
  return { total, ...(more && last ? { next: JSON.stringify([last.startedAt, last.id]) } : {}) };
}

/**
 * One page of the export order as export lines (exportFormat.ts), built here so the caller
 * neither parses nor serialises episodes. With `maxChars`, the page ends before its lines
 * would pass that many characters (it always holds at least one episode).
 */
export function linesPage(db: Database, o: PageOptions & { maxChars?: number }): { lines: string; count: number; total: number; next?: string } {
  let lines = '';
  let count = 0;
  const page = walkPage(db, o, (e) => {
    const line = episodeLine(e);
    if (count > 0 && o.maxChars !== undefined && lines.length + line.length > o.maxChars) return false;
    lines += line;
    count++;
    return true;
  });
  return { lines, count, ...page };
}

/**
 * The episodes of an import that are new (by id, also within the import), normalized:
 * ISO dates, steps renumbered from 1, and a completed episode's missing end, reward and
 * reflection derived as on completion.
 */
export function freshImports(db: Database, index: SearchIndex, episodes: Episode[]): { fresh: Episode[]; skipped: number } {
  const fresh: Episode[] = [];
  const ids = new Set<string>();
  let skipped = 0;
  withStatement(db, 'SELECT 1 FROM episodes WHERE id = ?', (exists) => {
    const inDb = (id: string): boolean => {
      exists.bind([id]);
      const r = exists.step();
      exists.reset();
      return r;
    };
    for (const e of episodes) {
      if (ids.has(e.id) || index.has(e.id) || inDb(e.id)) {
        skipped++;
        continue;
      }
      ids.add(e.id);
      fresh.push(normalizeImported(e));
    }
  });
  return { fresh, skipped };
}

export function normalizeImported(e: Episode): Episode {
  const ep: Episode = {
    ...e,
    startedAt: new Date(e.startedAt).toISOString(),
    ...(e.endedAt ? { endedAt: new Date(e.endedAt).toISOString() } : {}),
    steps: e.steps.map((s, i) => ({ ...s, n: i + 1 })),
  };
  if (ep.outcome) {
    ep.endedAt ??= ep.startedAt;
    ep.reward ??= computeReward(ep.outcome, ep.steps, ep.startedAt, ep.endedAt);
    ep.reflection ??= deriveReflection(ep, ep.outcome, ep.endedAt, ep.reward);
  }
  return ep;
}
