/** Export and import of whole episodes (the file formats live in the callers). */
import type { Database } from 'sql.js';
import type { Episode } from '../types';
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
