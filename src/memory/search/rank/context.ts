/**
 * The requested context (domain, task type, language, framework, tags), normalized once
 * per query, and how well a document matches it: the fraction of requested attributes it
 * has (tags by overlap). Used by the blend (a score) and by explain (the matches).
 */
import { TASK_TYPES } from '../../types';
import type { DocMeta } from '../analyze';
import type { DocTable } from '../docs';
import type { RankContext } from './types';

export class ContextMatcher {
  readonly language?: string;
  readonly framework?: string;
  readonly tags?: string[];
  /** Attributes requested (0: no context, the blend gives its weight to text). */
  readonly keys: number;
  private readonly cDom: number;
  private readonly cTt: number;
  private readonly cLang: number;
  private readonly cFw: number;
  private readonly cTags?: number[];

  constructor(
    private readonly ctx: RankContext,
    private readonly docs: DocTable,
  ) {
    this.language = ctx.language?.toLowerCase();
    this.framework = ctx.framework?.toLowerCase();
    this.tags = ctx.tags && ctx.tags.length ? [...new Set(ctx.tags.map((t) => t.toLowerCase()))] : undefined;
    this.keys = [ctx.domain, ctx.taskType, this.language, this.framework, this.tags].filter((v) => v !== undefined).length;
    this.cDom = docs.code(ctx.domain);
    this.cTt = ctx.taskType === undefined ? -9 : TASK_TYPES.indexOf(ctx.taskType);
    this.cLang = docs.code(this.language);
    this.cFw = docs.code(this.framework);
    this.cTags = this.tags?.map((t) => docs.code(t));
  }

  /** Context score (0..1) of document `d`, from the columns. */
  ofDoc(d: number): number {
    if (this.keys === 0) return 0;
    const docs = this.docs;
    let s = 0;
    if (this.cDom !== -1 && docs.dom[d] === this.cDom) s++;
    if (this.cTt !== -9 && docs.tt[d] === this.cTt) s++;
    if (this.cLang !== -1 && docs.lang[d] === this.cLang) s++;
    if (this.cFw !== -1 && docs.fw[d] === this.cFw) s++;
    if (this.cTags) {
      const tg = docs.tags[d];
      if (tg) {
        let k = 0;
        for (const t of this.cTags) if (tg.includes(t)) k++;
        s += k / this.cTags.length;
      }
    }
    return s / this.keys;
  }

  /** Context score (0..1) of an episode's metadata (pending episodes, explain). */
  ofMeta(m: DocMeta): number {
    if (this.keys === 0) return 0;
    let s = 0;
    if (this.ctx.domain !== undefined && m.domain === this.ctx.domain) s++;
    if (this.ctx.taskType !== undefined && m.taskType === this.ctx.taskType) s++;
    if (this.language !== undefined && m.language === this.language) s++;
    if (this.framework !== undefined && m.framework === this.framework) s++;
    if (this.tags) s += this.tags.filter((t) => m.tags.includes(t)).length / this.tags.length;
    return s / this.keys;
  }

  /** The attributes an episode matches, as `key=value` lines. */
  matches(m: DocMeta): string[] {
    const out: string[] = [];
    if (this.ctx.domain !== undefined && m.domain === this.ctx.domain) out.push(`domain=${m.domain}`);
    if (this.ctx.taskType !== undefined && m.taskType === this.ctx.taskType) out.push(`taskType=${m.taskType}`);
    if (this.language !== undefined && m.language === this.language) out.push(`language=${m.language}`);
    if (this.framework !== undefined && m.framework === this.framework) out.push(`framework=${m.framework}`);
    if (this.tags) for (const t of m.tags) if (this.tags.includes(t)) out.push(`tag=${t}`);
    return out;
  }
}
