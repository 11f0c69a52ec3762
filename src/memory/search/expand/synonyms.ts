/**
 * General English synonyms: WordNet 3.1's well-attested senses, compiled at build time into
 * dist/synonyms.txt (scripts/wordnet-table.mjs; one group per line) and loaded once, on the
 * first query that uses them. Next to the bundle when bundled; the build's copy when run
 * from source (tests).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Thesaurus } from './thesaurus';

export const SYNONYMS_FILE = 'synonyms.txt';

export function synonymTablePath(): string {
  const local = path.join(__dirname, SYNONYMS_FILE);
  if (fs.existsSync(local)) return local;
  return path.resolve(__dirname, '../../../../dist', SYNONYMS_FILE);
}

let table: Thesaurus | undefined;
/** The synonym table (throws when the build did not produce it: `npm run build`). */
export function synonymThesaurus(): Thesaurus {
  table ??= new Thesaurus(fs.readFileSync(synonymTablePath(), 'utf8').split('\n').filter(Boolean));
  return table;
}
