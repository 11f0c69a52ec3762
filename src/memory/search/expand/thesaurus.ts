/**
 * Groups of equivalent phrases (the curated lexicon, lexicon.ts) compiled to index terms.
 * A text "contains" a phrase when it has every term of the phrase; the related terms of a
 * text are the terms of the other phrases of each group it contains.
 */
import { tokenize } from '../../text';

interface Phrase {
  terms: string[];
  group: number;
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
        const terms = [...new Set(tokenize(phrase))];
        if (terms.length === 0) continue;
        for (const t of terms) all.add(t);
        const list = this.byTerm.get(terms[0]) ?? [];
        list.push({ terms, group: g });
        this.byTerm.set(terms[0], list);
      }
      this.groupTerms.push([...all]);
    }
  }

  get groupCount(): number {
    return this.groupTerms.length;
  }

  /** Terms related to `terms` (not in it), each with the number of matched groups that give it. */
  related(terms: ReadonlySet<string>): Map<string, number> {
    const out = new Map<string, number>();
    for (const { related } of this.matches(terms)) for (const t of related) out.set(t, (out.get(t) ?? 0) + 1);
    return out;
  }

  /** Each group `terms` contains a phrase of: the phrase's terms (the source) and the group's other terms. */
  matches(terms: ReadonlySet<string>): { source: string[]; related: string[] }[] {
    const out: { source: string[]; related: string[] }[] = [];
    const groups = new Set<number>();
    for (const t of terms) {
      for (const p of this.byTerm.get(t) ?? []) {
        if (groups.has(p.group) || !p.terms.every((x) => terms.has(x))) continue;
        groups.add(p.group);
        out.push({ source: p.terms, related: this.groupTerms[p.group].filter((x) => !terms.has(x)) });
      }
    }
    return out;
  }
}
