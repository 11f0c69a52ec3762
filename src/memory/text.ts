/**
 * Text analysis for the episodic index: tokenisation that understands code
 * identifiers (camelCase, snake_case, dotted names), the Porter (1980) stemmer,
 * a small stop-word list and a 32-bit SimHash for near-duplicate detection.
 * Pure functions, no dependencies.
 */

const STOP = new Set(
  ('a an and are as at be been but by can could did do does for from had has have how i if in into is it its ' +
    'me my no not of on or our so than that the their them then there these they this to too was we were what when ' +
    'where which while who why will with would you your after before also any all just only over per via use used using')
    .split(' '),
);

// ---------------------------------------------------------------------------
// Porter stemmer (M.F. Porter, 1980), the same algorithm as SQLite's FTS "porter".
// ---------------------------------------------------------------------------

const step2list: Record<string, string> = {
  ational: 'ate', tional: 'tion', enci: 'ence', anci: 'ance', izer: 'ize', bli: 'ble', alli: 'al', entli: 'ent', eli: 'e', ousli: 'ous',
  ization: 'ize', ation: 'ate', ator: 'ate', alism: 'al', iveness: 'ive', fulness: 'ful', ousness: 'ous', aliti: 'al', iviti: 'ive', biliti: 'ble', logi: 'log',
};
const step3list: Record<string, string> = { icate: 'ic', ative: '', alize: 'al', iciti: 'ic', ical: 'ic', ful: '', ness: '' };

const c = '[^aeiou]';
const v = '[aeiouy]';
const C = c + '[^aeiouy]*';
const V = v + '[aeiou]*';
const mgr0 = new RegExp('^(' + C + ')?' + V + C);
const meq1 = new RegExp('^(' + C + ')?' + V + C + '(' + V + ')?$');
const mgr1 = new RegExp('^(' + C + ')?' + V + C + V + C);
const sV = new RegExp('^(' + C + ')?' + v);

const re1a = /^(.+?)(ss|i)es$/;
const re1a2 = /^(.+?)([^s])s$/;
const re1b = /^(.+?)eed$/;
const re1b2 = /^(.+?)(ed|ing)$/;
const re1bAt = /(at|bl|iz)$/;
const re1bDbl = /([^aeiouylsz])\1$/;
const re1bCvc = new RegExp('^' + C + v + '[^aeiouwxy]$');
const re1c = /^(.+?)y$/;
const re2 = /^(.+?)(ational|tional|enci|anci|izer|bli|alli|entli|eli|ousli|ization|ation|ator|alism|iveness|fulness|ousness|aliti|iviti|biliti|logi)$/;
const re3 = /^(.+?)(icate|ative|alize|iciti|ical|ful|ness)$/;
const re4 = /^(.+?)(al|ance|ence|er|ic|able|ible|ant|ement|ment|ent|ou|ism|ate|iti|ous|ive|ize)$/;
const re4b = /^(.+?)(s|t)(ion)$/;
const re5 = /^(.+?)e$/;
const re5b = /ll$/;

export function porterStem(input: string): string {
  if (input.length < 3) return input;
  let w = input;
  const firstY = w[0] === 'y';
  if (firstY) w = 'Y' + w.slice(1);

  // Step 1a
  let m = re1a.exec(w);
  if (m) w = m[1] + m[2];
  else if ((m = re1a2.exec(w))) w = m[1] + m[2];

  // Step 1b
  if ((m = re1b.exec(w))) {
    if (mgr0.test(m[1])) w = w.slice(0, -1);
  } else if ((m = re1b2.exec(w))) {
    const stem = m[1];
    if (sV.test(stem)) {
      w = stem;
      if (re1bAt.test(w)) w += 'e';
      else if (re1bDbl.test(w)) w = w.slice(0, -1);
      else if (re1bCvc.test(w)) w += 'e';
    }
  }

  // Step 1c
  if ((m = re1c.exec(w)) && sV.test(m[1])) w = m[1] + 'i';

  // Step 2
  if ((m = re2.exec(w)) && mgr0.test(m[1])) w = m[1] + step2list[m[2]];

  // Step 3
  if ((m = re3.exec(w)) && mgr0.test(m[1])) w = m[1] + step3list[m[2]];

  // Step 4
  if ((m = re4.exec(w))) {
    if (mgr1.test(m[1])) w = m[1];
  } else if ((m = re4b.exec(w))) {
    const stem = m[1] + m[2];
    if (mgr1.test(stem)) w = stem;
  }

  // Step 5
  if ((m = re5.exec(w))) {
    const stem = m[1];
    if (mgr1.test(stem) || (meq1.test(stem) && !re1bCvc.test(stem))) w = stem;
  }
  if (re5b.test(w) && mgr1.test(w)) w = w.slice(0, -1);

  if (firstY) w = 'y' + w.slice(1);
  return w;
}

/**
 * Where Porter's stems mislead in software text: words it conflates with another of a
 * different meaning (customer → "custom" as in custom fonts, production → "product" as in a
 * product page, news → "new") keep their own stem, and the forms of "configure" share the
 * stem of "config" (Porter gives "configur").
 */
const STEM_EXCEPTIONS = new Map<string, string>([
  ['customer', 'customer'],
  ['customers', 'customer'],
  ['production', 'production'],
  ['productions', 'production'],
  ['news', 'news'],
  ['configuration', 'config'],
  ['configurations', 'config'],
  ['configure', 'config'],
  ['configured', 'config'],
  ['configures', 'config'],
  ['configuring', 'config'],
  ['configs', 'config'],
]);

/**
 * A copy of a string that holds none of the text it was cut from. V8 represents a substring
 * (a regex match, a slice, even an unchanged toLowerCase() of one) as a view into its parent:
 * kept as a cache key or an index term, a short word would keep a whole step output alive.
 */
function ownCopy(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

const stemCache = new Map<string, string>();
/** Memoised Porter stem of a lower-case word (cache bounded to 200k entries). */
export function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = ownCopy(STEM_EXCEPTIONS.get(word) ?? (/^[a-z]+$/.test(word) ? porterStem(word) : word));
    if (stemCache.size > 200_000) stemCache.clear();
    stemCache.set(ownCopy(word), s);
  }
  return s;
}

// ---------------------------------------------------------------------------
// Tokenisation
// ---------------------------------------------------------------------------

const WORD = /[A-Za-z0-9_$]+(?:[.:-][A-Za-z0-9_$]+)*/g;
const HUMPS = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g;
const MAX_TOKEN = 48;

/**
 * Splits text into index terms. Plain words are lower-cased and stemmed.
 * A code identifier is indexed whole (lower-cased, unstemmed: `readfilesync`,
 * `fs.readfilesync`, `user_id`) and by its parts (`read`, `file`, `sync`, `fs`,
 * `user`, `id`), so "read file" finds `fs.readFileSync` and the exact identifier
 * ranks it higher. Stop words and 1-character parts are dropped.
 */
export function tokenize(text: string, out: string[] = []): string[] {
  WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = WORD.exec(text))) {
    const raw = m[0];
    if (raw.length > 200) continue; // base64 blobs, hashes: noise
    for (const t of wordTerms(raw)) out.push(t);
  }
  return out;
}

const wordCache = new Map<string, readonly string[]>();
/** Words remembered by wordTerms (then it starts again: a bound, not a policy). */
const WORD_CACHE_MAX = 100_000;

/** The index terms of one word of a text, memoised: the same words recur from episode to episode. */
function wordTerms(raw: string): readonly string[] {
  let terms = wordCache.get(raw);
  if (terms === undefined) {
    const found: string[] = [];
    const compound = /[.:-]/.test(raw);
    if (compound && raw.length <= MAX_TOKEN && !raw.includes('-')) found.push(raw.toLowerCase());
    for (const part of compound ? raw.split(/[.:-]+/) : [raw]) addPart(part, found);
    terms = found.map(ownCopy);
    if (wordCache.size >= WORD_CACHE_MAX) wordCache.clear();
    wordCache.set(ownCopy(raw), terms);
  }
  return terms;
}

function addPart(part: string, out: string[]): void {
  if (!part) return;
  const isIdent = part.includes('_') || part.includes('$') || /[a-z][A-Z]|[A-Z]{2}[a-z]|[a-zA-Z][0-9]|[0-9][a-zA-Z]/.test(part);
  if (!isIdent) {
    const w = part.toLowerCase();
    if (w.length < 2 || w.length > MAX_TOKEN || STOP.has(w)) return;
    if (/^[0-9]+$/.test(w) && w.length > 6) return;
    out.push(stem(w));
    return;
  }
  const whole = part.toLowerCase().replace(/^[_$]+|[_$]+$/g, '');
  if (whole.length >= 2 && whole.length <= MAX_TOKEN) out.push(whole);
  for (const seg of part.split(/[_$]+/)) {
    HUMPS.lastIndex = 0;
    let h: RegExpExecArray | null;
    const subs: string[] = [];
    while ((h = HUMPS.exec(seg))) subs.push(h[0].toLowerCase());
    if (subs.length === 1 && subs[0] === whole) continue;
    for (const s of subs) {
      if (s.length < 2 || s.length > MAX_TOKEN || STOP.has(s)) continue;
      if (/^[0-9]+$/.test(s) && s.length > 6) continue;
      out.push(stem(s));
    }
  }
}

/**
 * A text's words in order, stop words kept (and the rest stemmed): to tell whether a phrase
 * with function words ("log in", "at once") occurs as a phrase, which its index terms alone
 * ("log", "onc") cannot say.
 */
export function phraseWords(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).map((w) => (STOP.has(w) ? w : stem(w)));
}

/** Query terms: the same analysis, de-duplicated, order kept. */
export function queryTerms(text: string): string[] {
  return [...new Set(tokenize(text))];
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

/** 32-bit FNV-1a. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** 32-bit SimHash over the terms of a text (near-identical texts differ in few bits). */
export function simhash(text: string): number {
  const terms = tokenize(text);
  if (terms.length === 0) return 0;
  const acc = new Int32Array(32);
  for (const t of terms) {
    const h = fnv1a(t);
    for (let b = 0; b < 32; b++) acc[b] += (h >>> b) & 1 ? 1 : -1;
  }
  let out = 0;
  for (let b = 0; b < 32; b++) if (acc[b] > 0) out |= 1 << b;
  return out >>> 0;
}

export function hamming32(a: number, b: number): number {
  let x = (a ^ b) >>> 0;
  let n = 0;
  while (x) {
    x &= x - 1;
    n++;
  }
  return n;
}

/** Lower-case, collapse whitespace, replace numbers and quoted literals: the "shape" of a text. */
export function normalizeText(s: string): string {
  return s
    .toLowerCase()
    .replace(/(["'`]).*?\1/g, '"…"')
    .replace(/\b0x[0-9a-f]+\b|\b\d+(\.\d+)?\b/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
}
