/**
 * The indexed documents (completed episodes), numbered in indexing order and stored as
 * columns (typed arrays) so the ranking filters and blends without building objects.
 * Strings (domain, language, framework, tags) are interned. Deleted documents stay as
 * tombstones (alive = 0) until the next compaction (see format.ts).
 */
import { OUTCOME_TYPES, TASK_TYPES } from '../types';
import type { DocMeta } from './analyze';

export function grow<T extends Uint8Array | Int8Array | Int32Array | Uint32Array | Float32Array | Float64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2, 1024));
  b.set(a);
  return b;
}

/** The columns serialized into a snapshot, in this order. */
export const DOC_COLUMNS = ['lens', 'dom', 'tt', 'out', 'started', 'reward', 'lang', 'fw', 'sim'] as const;
export type DocColumn = (typeof DOC_COLUMNS)[number];

/** Key terms kept per document (for the term associations, expand/associations.ts); unused slots hold -1. */
export const KEY_TERMS = 8;

/** The documents at a snapshot's start (see DocTable.freeze). */
export interface FrozenDocs {
  n: number;
  ids: readonly string[];
  tags: readonly (number[] | 0)[];
  strings: string[];
  alive: Uint8Array;
  keys: Int32Array;
  cols: Record<DocColumn, DocTable[DocColumn]>;
}

export class DocTable {
  /** Documents numbered so far (alive or not). */
  n = 0;
  ids: string[] = [];
  alive = new Uint8Array(1024);
  lens = new Float32Array(1024);
  dom = new Int32Array(1024);
  tt = new Int8Array(1024);
  out = new Int8Array(1024);
  started = new Float64Array(1024);
  reward = new Float32Array(1024);
  lang = new Int32Array(1024);
  fw = new Int32Array(1024);
  sim = new Uint32Array(1024);
  tags: (number[] | 0)[] = [];
  /** Each document's key terms as interned strings, KEY_TERMS slots a document. */
  keys = new Int32Array(1024 * KEY_TERMS).fill(-1);
  strings: string[] = [];
  stringIds = new Map<string, number>();
  byId = new Map<string, number>();
  /** Live documents and tombstones. */
  live = 0;
  dead = 0;

  clear(): void {
    // New columns, not reused ones: a frozen view (freeze) keeps reading the old ones.
    const fresh = new DocTable();
    for (const c of DOC_COLUMNS) (this as Record<DocColumn, unknown>)[c] = fresh[c];
    this.alive = fresh.alive;
    this.keys = fresh.keys;
    this.n = 0;
    this.ids = [];
    this.tags = [];
    this.strings = [];
    this.stringIds.clear();
    this.byId.clear();
    this.live = 0;
    this.dead = 0;
  }

  intern(s: string | undefined): number {
    if (s === undefined) return -1;
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  /** The interned code of a string: -1 for undefined, -2 for a string no document has. */
  code(s: string | undefined): number {
    return s === undefined ? -1 : (this.stringIds.get(s) ?? -2);
  }

  /**
   * The documents as they are now, unchanged by later writes: adding writes past `n` (or
   * into a grown copy), clearing starts new columns, and only `alive` changes in place
   * (copied here, n bytes).
   */
  freeze(): FrozenDocs {
    return { n: this.n, ids: this.ids, tags: this.tags, strings: this.strings.slice(), alive: this.alive.slice(0, this.n), keys: this.keys, cols: this.columns() };
  }

  private columns(): Record<DocColumn, DocTable[DocColumn]> {
    return { lens: this.lens, dom: this.dom, tt: this.tt, out: this.out, started: this.started, reward: this.reward, lang: this.lang, fw: this.fw, sim: this.sim };
  }

  /** Adds a document with its key terms (at most KEY_TERMS are kept); returns its number. */
  add(meta: DocMeta, len: number, keyTerms: readonly string[] = []): number {
    const d = this.n++;
    const need = this.n;
    this.alive = grow(this.alive, need);
    this.lens = grow(this.lens, need);
    this.dom = grow(this.dom, need);
    this.tt = grow(this.tt, need);
    this.out = grow(this.out, need);
    this.started = grow(this.started, need);
    this.reward = grow(this.reward, need);
    this.lang = grow(this.lang, need);
    this.fw = grow(this.fw, need);
    this.sim = grow(this.sim, need);
    if (this.keys.length < need * KEY_TERMS) {
      const k = new Int32Array(Math.max(need, 1024, (this.keys.length / KEY_TERMS) * 2) * KEY_TERMS).fill(-1);
      k.set(this.keys);
      this.keys = k;
    }
    for (let i = 0; i < KEY_TERMS; i++) this.keys[d * KEY_TERMS + i] = i < keyTerms.length ? this.intern(keyTerms[i]) : -1;
    this.ids[d] = meta.id;
    this.alive[d] = 1;
    this.lens[d] = len;
    this.dom[d] = this.intern(meta.domain);
    this.tt[d] = TASK_TYPES.indexOf(meta.taskType);
    this.out[d] = meta.outcome ? OUTCOME_TYPES.indexOf(meta.outcome) : -1;
    this.started[d] = meta.startedMs;
    this.reward[d] = meta.reward;
    this.lang[d] = this.intern(meta.language);
    this.fw[d] = this.intern(meta.framework);
    this.sim[d] = meta.simhash;
    this.tags[d] = meta.tags.length ? meta.tags.map((t) => this.intern(t)) : 0;
    this.byId.set(meta.id, d);
    this.live++;
    return d;
  }

  /** Tombstones a document; returns its number, or undefined when unknown. */
  remove(id: string): number | undefined {
    const d = this.byId.get(id);
    if (d === undefined) return undefined;
    this.byId.delete(id);
    this.alive[d] = 0;
    this.live--;
    this.dead++;
    return d;
  }

  meta(d: number): DocMeta {
    const tags = this.tags[d];
    return {
      id: this.ids[d],
      domain: this.strings[this.dom[d]],
      taskType: TASK_TYPES[this.tt[d]],
      outcome: this.out[d] >= 0 ? OUTCOME_TYPES[this.out[d]] : undefined,
      startedMs: this.started[d],
      reward: this.reward[d],
      language: this.lang[d] >= 0 ? this.strings[this.lang[d]] : undefined,
      framework: this.fw[d] >= 0 ? this.strings[this.fw[d]] : undefined,
      tags: tags ? tags.map((t) => this.strings[t]) : [],
      simhash: this.sim[d],
    };
  }
}
