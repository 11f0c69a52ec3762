/** Export and import of whole episodes (the file formats live in the callers). */
import type { Database } from 'sql.js';
import type { Episode } from '../types';
import { MemoryError } from '../errors';
import { computeReward, deriveReflection } from '../learning';
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

/**
 * One page of the export order (started_at, id): after the cursor `after` (from a previous
 * page's `next`) or after skipping `offset`. Only the page's episodes are read.
 */
export function episodePage(db: Database, o: { after?: string; offset: number; limit: number }): { episodes: Episode[]; total: number; next?: string } {
  let from: [string, string] | undefined;
  if (o.after !== undefined) {
    try {
      from = JSON.parse(o.after) as [string, string];
    } catch {
      from = undefined;
    }
    if (!Array.isArray(from) || from.length !== 2 || !from.every((x) => typeof x === 'string')) {
      throw new MemoryError('invalid', 'The export cursor "after" is not one this store returned as "next"; start again without it');
    }
  }
  const episodes: Episode[] = [];
  const where = from ? 'WHERE (started_at, id) > (?, ?)' : '';
  withStatement(db, `SELECT * FROM episodes ${where} ORDER BY started_at, id LIMIT ? OFFSET ?`, (stmt) => {
    stmt.bind([...(from ?? []), o.limit + 1, o.offset]);
    while (stmt.step()) {
      const row = stmt.getAsObject();
      episodes.push(rowToEpisode(row, loadSteps(db, str(row.id))));
    }
  });
  const more = episodes.length > o.limit;
  if (more) episodes.pop();
  const last = episodes[episodes.length - 1];
  const total = Number(db.exec('SELECT COUNT(*) FROM episodes')[0]?.values[0][0] ?? 0);
  return { episodes, total, ...(more && last ? { next: JSON.stringify([last.startedAt, last.id]) } : {}) };
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
