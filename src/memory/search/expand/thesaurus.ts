/**
 * Groups of equivalent phrases (the curated lexicon, lexicon.ts) compiled to index terms.
 * A text "contains" a phrase when it has every term of the phrase, and, for a phrase some of
 * whose words are not index terms ("log in", "at once": stop words), when those words occur
 * in it in that order; the related terms of a text are the terms of the other phrases of
 * each group it contains.
 */
import { phraseWords, tokenize } from '../../text';

interface Phrase {
  terms: string[];
  group: number;
  /** The phrase's words in order, when some of them are not index terms (see phraseWords). */
  words?: string[];
}

/** Whether `words` holds `run` as consecutive words. */
function hasRun(words: readonly string[], run: readonly string[]): boolean {
  outer: for (let i = 0; i + run.length <= words.length; i++) {
    for (let j = 0; j < run.length; j++) if (words[i + j] !== run[j]) continue outer;
    return true;
  }
  return false;
}

export class Thesaurus {
  /** Phrases by their first term. */
  private readonly byTerm = new Map<string, Phrase[]>();
  /** Each group's distinct terms. */
  private readonly groupTerms: string[][] = [];

  constructor(groups: readonly string[]) {
    for (const line of groups) {
      const g = this.groupTerms.length;
      const all = new Set<string>();
      for (const phrase of line.split(',')) {
        const tokens = tokenize(phrase);
        const terms = [...new Set(tokens)];
        if (terms.length === 0) continue;
        for (const t of terms) all.add(t);
        const words = phraseWords(phrase);
        const list = this.byTerm.get(terms[0]) ?? [];
        // One term left of several words ("log in" → log, "at once" → onc) says too little alone;
        // phrases of several terms are specific enough as a bag of words.
        list.push({ terms, group: g, ...(terms.length === 1 && words.length > tokens.length ? { words } : {}) });
        this.byTerm.set(terms[0], list);
      }
      this.groupTerms.push([...all]);
    }
  }

  get groupCount(): number {
    return this.groupTerms.length;
  }

  /**
   * Terms related to `terms` (not in it), each with the number of matched groups that give it.
   * `words` (phraseWords of the text) lets phrases with stop words match only as phrases.
   */
  related(terms: ReadonlySet<string>, words?: readonly string[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const { related } of this.matches(terms, words)) for (const t of related) out.set(t, (out.get(t) ?? 0) + 1);
    return out;
  }

  /** Each group the text contains a phrase of: the phrase's terms (the source) and the group's other terms. */
  matches(terms: ReadonlySet<string>, words?: readonly string[]): { source: string[]; related: string[] }[] {
    const out: { source: string[]; related: string[] }[] = [];
    const groups = new Set<number>();
    for (const t of terms) {
      for (const p of this.byTerm.get(t) ?? []) {
        if (groups.has(p.group) || !p.terms.every((x) => terms.has(x))) continue;
        if (p.words && words && !hasRun(words, p.words)) continue;
        groups.add(p.group);
        out.push({ source: p.terms, related: this.groupTerms[p.group].filter((x) => !terms.has(x)) });
      }
    }
    return out;
  }
}
