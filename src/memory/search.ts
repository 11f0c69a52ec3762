/**
 * In-memory inverted index with BM25 ranking (an "equivalent index" to FTS4:
 * sql.js has no FTS5/bm25(), and BM25 over FTS4 matchinfo() measured 26–30 ms
 * p50 for broad OR queries at 100k episodes, too slow for a 10 ms target).
 *
 * - Completed episodes get a document number (increasing) when indexed, so each
 *   term's postings are appended in order and stored as varint deltas
 *   (doc delta, weighted term frequency in half units): ~2–3 bytes a posting.
 * - Field weights (BM25F-style, folded into the term frequency): see FIELD_WEIGHTS.
 * - Episodes still in progress live in a small "pending" table scanned at query
 *   time, so they are searchable too; on completion they move to the postings.
 * - Deleted documents are tombstoned; postings are compacted when the index is
 *   serialized into a snapshot.
 * - The index is serialized into each snapshot, so opening does not re-tokenize
 *   the store; journal replay updates it like a live write.
 */
import type { Episode, OutcomeType, TaskType } from './types';
import { TASK_TYPES } from './types';
import { hamming32, simhash, tokenize } from './text';

/** Weights per field (multiples of 0.5; stored as integer half units). */
export const FIELD_WEIGHTS = {
  task: 3,
  tags: 2,
  outcome: 2,
  reflection: 1.5,
  error: 1.5,
  action: 1,
  tool: 1,
  context: 1,
  parameters: 0.5,
  output: 0.5,
} as const;

/** Longest text taken from one step output / parameters (the rest is noise for retrieval). */
const MAX_FIELD_CHARS = 4000;

const K1 = 1.2;
const B = 0.75;

export interface DocMeta {
  id: string;
  domain: string;
  taskType: TaskType;
  outcome?: OutcomeType;
  startedMs: number;
  reward: number;
  language?: string;
  framework?: string;
  tags: string[];
  simhash: number;
}

export function metaOf(e: Episode): DocMeta {
  return {
    id: e.id,
    domain: e.domain,
    taskType: e.taskType,
    outcome: e.outcome?.type,
    startedMs: Date.parse(e.startedAt),
    reward: e.reward ?? 0,
    language: e.context.language?.toLowerCase(),
    framework: e.context.framework?.toLowerCase(),
    tags: e.context.tags.map((t) => t.toLowerCase()),
    simhash: simhash(e.task),
  };
}

/** Weighted term frequencies (half units) and weighted length of an episode. */
export function analyzeEpisode(e: Episode): { tf: Map<string, number>; len: number } {
  const tf = new Map<string, number>();
  let len = 0;
  const add = (text: string | undefined, weight: number): void => {
    if (!text) return;
    const units = weight * 2;
    const toks = tokenize(text.length > MAX_FIELD_CHARS ? text.slice(0, MAX_FIELD_CHARS) : text);
    for (const t of toks) tf.set(t, (tf.get(t) ?? 0) + units);
    len += toks.length * weight;
  };
  add(e.task, FIELD_WEIGHTS.task);
  add(e.context.tags.join(' '), FIELD_WEIGHTS.tags);
  add([e.context.language, e.context.framework].filter(Boolean).join(' '), FIELD_WEIGHTS.context);
  for (const s of e.steps) {
    add(s.tool, FIELD_WEIGHTS.tool);
    add(s.action, FIELD_WEIGHTS.action);
    if (s.parameters !== undefined && s.parameters !== null) {
      add(typeof s.parameters === 'string' ? s.parameters : JSON.stringify(s.parameters), FIELD_WEIGHTS.parameters);
    }
    if (s.result.status === 'success') add(s.result.output, FIELD_WEIGHTS.output);
    else add(s.result.message, FIELD_WEIGHTS.error);
  }
  const o = e.outcome;
  if (o) {
    if (o.type === 'success') add([o.verdict, ...(o.artifacts ?? [])].join('\n'), FIELD_WEIGHTS.outcome);
    else if (o.type === 'partial_success') add([o.verdict, ...o.completed, ...o.failed].join('\n'), FIELD_WEIGHTS.outcome);
    else if (o.type === 'failure') add(`${o.reason}\n${o.details ?? ''}`, FIELD_WEIGHTS.outcome);
    else add(o.reason, FIELD_WEIGHTS.outcome);
  }
  if (e.reflection) add([...e.reflection.successes, ...e.reflection.improvements, ...e.reflection.insights].join('\n'), FIELD_WEIGHTS.reflection);
  return { tf, len: Math.max(len, 1) };
}

interface Posting {
  buf: Uint8Array;
  n: number;
  last: number;
  df: number;
}

interface PendingDoc {
  tf: Map<string, number>;
  len: number;
  meta: DocMeta;
}

export interface QueryTerm {
  term: string;
  weight: number;
  /** True for terms added by expansion (reported separately in `why`). */
  expansion?: boolean;
}

export interface RankFilter {
  domain?: string;
  taskType?: TaskType;
  outcome?: OutcomeType;
  sinceMs?: number;
  untilMs?: number;
}

export interface RankContext {
  domain?: string;
  taskType?: TaskType;
  language?: string;
  framework?: string;
  tags?: string[];
}

export interface RankedHit {
  id: string;
  score: number;
  text: number;
  context: number;
  reward: number;
  recency: number;
  matched: string[];
  contextMatches: string[];
  nearDuplicateOf?: string;
}

/**
 * The ranking blend (all components in 0..1):
 *   score = W_TEXT·text + W_CONTEXT·context + W_REWARD·reward + W_RECENCY·recency
 * - text: BM25 (k1 = 1.2, b = 0.75, field-weighted tf) divided by the best BM25 among candidates;
 * - context: fraction of the requested context attributes the episode matches
 *   (domain, taskType, language, framework; tags by overlap); when no context is
 *   requested its weight goes to text;
 * - reward: the episode's reward (0 while in progress);
 * - recency: 0.5^(age in days / 30).
 * With an empty query the text weight is spread over the other components.
 * Diversity: walking down the ranking, an episode whose task SimHash is within
 * 3 bits of an already chosen one with the same outcome and task type is moved
 * below the distinct ones (MMR-like, without pairwise text comparisons).
 */
export const BLEND = { text: 0.55, context: 0.2, reward: 0.15, recency: 0.1, halfLifeDays: 30 } as const;

const OUTCOMES: OutcomeType[] = ['success', 'partial_success', 'failure', 'abstained'];

export class SearchIndex {
  private terms = new Map<string, Posting>();
  private ids: string[] = [];
  private alive: number[] = [];
  private lens: number[] = [];
  private metas: (DocMeta | undefined)[] = [];
  private byId = new Map<string, number>();
  private pending = new Map<string, PendingDoc>();
  private totalLen = 0;
  private liveDocs = 0;
  private dead = 0;
  private scores = new Float64Array(0);
  private masks = new Uint32Array(0);

  get documentCount(): number {
    return this.liveDocs + this.pending.size;
  }

  get termCount(): number {
    return this.terms.size;
  }

  has(id: string): boolean {
    return this.byId.has(id) || this.pending.has(id);
  }

  clear(): void {
    this.terms.clear();
    this.ids = [];
    this.alive = [];
    this.lens = [];
    this.metas = [];
    this.byId.clear();
    this.pending.clear();
    this.totalLen = 0;
    this.liveDocs = 0;
    this.dead = 0;
  }

  /** Adds or replaces an episode. Completed episodes go to the postings, others to the pending table. */
  upsert(e: Episode): void {
    this.remove(e.id);
    const { tf, len } = analyzeEpisode(e);
    const meta = metaOf(e);
    if (!e.outcome) {
      this.pending.set(e.id, { tf, len, meta });
      this.totalLen += len;
      return;
    }
    const doc = this.ids.length;
    this.ids.push(e.id);
    this.alive.push(1);
    this.lens.push(len);
    this.metas.push(meta);
    this.byId.set(e.id, doc);
    this.totalLen += len;
    this.liveDocs++;
    for (const [term, units] of tf) this.appendPosting(term, doc, units);
  }

  /** Updates ranking metadata only (e.g. reward) without re-indexing text. */
  updateMeta(id: string, patch: Partial<DocMeta>): void {
    const d = this.byId.get(id);
    if (d !== undefined && this.metas[d]) Object.assign(this.metas[d], patch);
    const p = this.pending.get(id);
    if (p) Object.assign(p.meta, patch);
  }

  remove(id: string): boolean {
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      this.totalLen -= p.len;
      return true;
    }
    const d = this.byId.get(id);
    if (d === undefined) return false;
    this.byId.delete(id);
    this.alive[d] = 0;
    this.totalLen -= this.lens[d];
    this.metas[d] = undefined;
    this.liveDocs--;
    this.dead++;
    return true;
  }

  private appendPosting(term: string, doc: number, units: number): void {
    let p = this.terms.get(term);
    if (!p) {
      p = { buf: new Uint8Array(8), n: 0, last: 0, df: 0 };
      this.terms.set(term, p);
    }
    if (p.n + 10 > p.buf.length) {
      const nb = new Uint8Array(Math.max(16, p.buf.length * 2));
      nb.set(p.buf.subarray(0, p.n));
      p.buf = nb;
    }
    p.n = writeVarint(p.buf, p.n, doc - p.last);
    p.n = writeVarint(p.buf, p.n, Math.max(1, Math.round(units)));
    p.last = doc;
    p.df++;
  }

  /** Inverse document frequency of a term (0 for unknown terms). */
  idf(term: string): number {
    const N = Math.max(1, this.documentCount);
    let df = this.terms.get(term)?.df ?? 0;
    for (const p of this.pending.values()) if (p.tf.has(term)) df++;
    if (df === 0) return 0;
    return Math.log(1 + (N - df + 0.5) / (df + 0.5));
  }

  /** The terms of an episode with the highest tf·idf (used for feedback expansion). */
  keyTerms(e: Episode, n = 10): string[] {
    const { tf } = analyzeEpisode(e);
    const scored: [string, number][] = [];
    for (const [t, u] of tf) {
      if (t.length < 3 || /^[0-9]+$/.test(t)) continue;
      scored.push([t, Math.log(1 + u) * this.idf(t)]);
    }
    scored.sort((a, b) => b[1] - a[1]);
    return scored.slice(0, n).map((s) => s[0]);
  }

  /** Ranks documents. Returns hits sorted by blended score (with diversity), and the total number of candidates. */
  rank(
    qterms: QueryTerm[],
    filter: RankFilter,
    ctx: RankContext,
    limit: number,
    offset: number,
    nowMs: number,
  ): { hits: RankedHit[]; total: number } {
    const nDocs = this.ids.length;
    if (this.scores.length < nDocs) {
      const cap = Math.max(1024, nDocs * 2);
      this.scores = new Float64Array(cap);
      this.masks = new Uint32Array(cap);
    }
    const scores = this.scores;
    const masks = this.masks;
    const N = Math.max(1, this.documentCount);
    const avgLen = this.documentCount > 0 ? Math.max(1, this.totalLen / this.documentCount) : 1;
    const touched: number[] = [];
    const pendingScores = new Map<string, { s: number; mask: number }>();
    const terms = qterms.slice(0, 32);

    const passes = (m: DocMeta): boolean =>
      (filter.domain === undefined || m.domain === filter.domain) &&
      (filter.taskType === undefined || m.taskType === filter.taskType) &&
      (filter.outcome === undefined || m.outcome === filter.outcome) &&
      (filter.sinceMs === undefined || m.startedMs >= filter.sinceMs) &&
      (filter.untilMs === undefined || m.startedMs <= filter.untilMs);

    if (terms.length > 0) {
      for (let qi = 0; qi < terms.length; qi++) {
        const { term, weight } = terms[qi];
        const post = this.terms.get(term);
        let df = post?.df ?? 0;
        for (const p of this.pending.values()) if (p.tf.has(term)) df++;
        if (df === 0) continue;
        const idf = Math.log(1 + (N - df + 0.5) / (df + 0.5)) * weight;
        const bit = 1 << qi;
        if (post) {
          const b = post.buf;
          const end = post.n;
          let p = 0;
          let doc = 0;
          while (p < end) {
            let x = b[p++];
            let d = x & 0x7f;
            let shift = 7;
            while (x & 0x80) {
              x = b[p++];
              d += (x & 0x7f) * 2 ** shift;
              shift += 7;
            }
            doc += d;
            x = b[p++];
            let u = x & 0x7f;
            shift = 7;
            while (x & 0x80) {
              x = b[p++];
              u += (x & 0x7f) * 2 ** shift;
              shift += 7;
            }
            if (this.alive[doc] !== 1) continue;
            const tf = u / 2;
            const s = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * this.lens[doc]) / avgLen));
            if (masks[doc] === 0) touched.push(doc);
            scores[doc] += s;
            masks[doc] |= bit;
          }
        }
        for (const [id, pd] of this.pending) {
          const u = pd.tf.get(term);
          if (!u) continue;
          const tf = u / 2;
          const s = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * pd.len) / avgLen));
          const cur = pendingScores.get(id) ?? { s: 0, mask: 0 };
          cur.s += s;
          cur.mask |= bit;
          pendingScores.set(id, cur);
        }
      }
    }

    // Candidates passing the filters.
    interface Cand {
      meta: DocMeta;
      bm25: number;
      mask: number;
    }
    const cands: Cand[] = [];
    if (terms.length > 0) {
      for (const doc of touched) {
        const m = this.metas[doc];
        if (m && passes(m)) cands.push({ meta: m, bm25: scores[doc], mask: masks[doc] });
        scores[doc] = 0;
        masks[doc] = 0;
      }
      for (const [id, ps] of pendingScores) {
        const pd = this.pending.get(id)!;
        if (passes(pd.meta)) cands.push({ meta: pd.meta, bm25: ps.s, mask: ps.mask });
      }
    } else {
      for (let d = 0; d < nDocs; d++) {
        const m = this.metas[d];
        if (m && passes(m)) cands.push({ meta: m, bm25: 0, mask: 0 });
      }
      for (const pd of this.pending.values()) if (passes(pd.meta)) cands.push({ meta: pd.meta, bm25: 0, mask: 0 });
    }
    const total = cands.length;
    if (total === 0) return { hits: [], total };

    // Blend weights.
    const ctxKeys: (keyof RankContext)[] = (['domain', 'taskType', 'language', 'framework', 'tags'] as const).filter((k) => {
      const v = ctx[k];
      return Array.isArray(v) ? v.length > 0 : v !== undefined;
    });
    let wText: number = BLEND.text;
    let wCtx: number = BLEND.context;
    let wRew: number = BLEND.reward;
    let wRec: number = BLEND.recency;
    if (ctxKeys.length === 0) {
      wText += wCtx;
      wCtx = 0;
    }
    if (terms.length === 0) {
      const rest = wCtx + wRew + wRec;
      wCtx += (wText * wCtx) / rest;
      wRew += (wText * BLEND.reward) / rest;
      wRec += (wText * BLEND.recency) / rest;
      wText = 0;
    }
    let maxBm = 0;
    for (const c of cands) if (c.bm25 > maxBm) maxBm = c.bm25;
    const lang = ctx.language?.toLowerCase();
    const fw = ctx.framework?.toLowerCase();
    const tagSet = ctx.tags && ctx.tags.length ? new Set(ctx.tags.map((t) => t.toLowerCase())) : undefined;
    const dayMs = 86_400_000;
    const contextScore = (m: DocMeta): number => {
      if (ctxKeys.length === 0) return 0;
      let s = 0;
      if (ctx.domain !== undefined && m.domain === ctx.domain) s++;
      if (ctx.taskType !== undefined && m.taskType === ctx.taskType) s++;
      if (lang !== undefined && m.language === lang) s++;
      if (fw !== undefined && m.framework === fw) s++;
      if (tagSet) {
        let k = 0;
        for (const t of m.tags) if (tagSet.has(t)) k++;
        s += k / tagSet.size;
      }
      return s / ctxKeys.length;
    };
    const blended = new Float64Array(total);
    for (let i = 0; i < total; i++) {
      const c = cands[i];
      const m = c.meta;
      const ageDays = Math.max(0, (nowMs - m.startedMs) / dayMs);
      const rec = Math.pow(0.5, ageDays / BLEND.halfLifeDays);
      blended[i] = wText * (maxBm > 0 ? c.bm25 / maxBm : 0) + wCtx * contextScore(m) + wRew * m.reward + wRec * rec;
    }

    // Top window by blended score (partial selection), then diversity re-ordering.
    const window = Math.min(total, offset + limit + Math.max(20, limit * 2));
    const order = topK(blended, window);
    const chosen: number[] = [];
    const deferred: { i: number; of: number }[] = [];
    for (const i of order) {
      const m = cands[i].meta;
      let dupOf = -1;
      for (const j of chosen) {
        const o = cands[j].meta;
        if (o.outcome === m.outcome && o.taskType === m.taskType && hamming32(o.simhash, m.simhash) <= 3) {
          dupOf = j;
          break;
        }
      }
      if (dupOf >= 0) deferred.push({ i, of: dupOf });
      else chosen.push(i);
    }
    const final = [...chosen.map((i) => ({ i, of: -1 })), ...deferred];
    const page = final.slice(offset, offset + limit);
    const hits = page.map(({ i, of }): RankedHit => {
      const c = cands[i];
      const m = c.meta;
      const matched: string[] = [];
      for (let qi = 0; qi < terms.length; qi++) if (c.mask & (1 << qi)) matched.push(terms[qi].expansion ? `~${terms[qi].term}` : terms[qi].term);
      const contextMatches: string[] = [];
      if (ctx.domain !== undefined && m.domain === ctx.domain) contextMatches.push(`domain=${m.domain}`);
      if (ctx.taskType !== undefined && m.taskType === ctx.taskType) contextMatches.push(`taskType=${m.taskType}`);
      if (lang !== undefined && m.language === lang) contextMatches.push(`language=${m.language}`);
      if (fw !== undefined && m.framework === fw) contextMatches.push(`framework=${m.framework}`);
      if (tagSet) for (const t of m.tags) if (tagSet.has(t)) contextMatches.push(`tag=${t}`);
      const ageDays = Math.max(0, (nowMs - m.startedMs) / dayMs);
      return {
        id: m.id,
        score: round3(blended[i]),
        text: round3(maxBm > 0 ? c.bm25 / maxBm : 0),
        context: round3(contextScore(m)),
        reward: round3(m.reward),
        recency: round3(Math.pow(0.5, ageDays / BLEND.halfLifeDays)),
        matched,
        contextMatches,
        nearDuplicateOf: of >= 0 ? cands[of].meta.id : undefined,
      };
    });
    return { hits, total };
  }

  // ---------------------------------------------------------------------------
  // Serialization (into the snapshot)
  // ---------------------------------------------------------------------------

  serialize(): Uint8Array {
    // Compact: renumber live documents densely and drop postings of deleted ones.
    const remap = new Int32Array(this.ids.length).fill(-1);
    const ids: string[] = [];
    const lens: number[] = [];
    const metas: DocMeta[] = [];
    for (let d = 0; d < this.ids.length; d++) {
      const m = this.metas[d];
      if (this.alive[d] === 1 && m) {
        remap[d] = ids.length;
        ids.push(this.ids[d]);
        lens.push(this.lens[d]);
        metas.push(m);
      }
    }
    const termNames: string[] = [];
    const chunks: Uint8Array[] = [];
    const meta: number[] = []; // per term: byte length, df, last
    let scratch = new Uint8Array(1 << 16);
    for (const [term, p] of this.terms) {
      let buf: Uint8Array;
      let df = p.df;
      let last = p.last;
      if (this.dead === 0) buf = p.buf.subarray(0, p.n);
      else {
        if (scratch.length < p.n + 16) scratch = new Uint8Array(p.n * 2 + 16);
        let w = 0;
        let prev = 0;
        df = 0;
        let i = 0;
        let doc = 0;
        while (i < p.n) {
          const [d, i2] = readVarint(p.buf, i);
          const [u, i3] = readVarint(p.buf, i2);
          i = i3;
          doc += d;
          const nd = remap[doc];
          if (nd < 0) continue;
          w = writeVarint(scratch, w, nd - prev);
          w = writeVarint(scratch, w, u);
          prev = nd;
          df++;
        }
        if (df === 0) continue;
        buf = scratch.slice(0, w);
        last = prev;
      }
      termNames.push(term);
      chunks.push(buf);
      meta.push(buf.length, df, last);
    }
    const pend = [...this.pending.entries()].map(([id, p]) => ({ id, len: p.len, meta: p.meta, tf: [...p.tf.entries()] }));
    const head = Buffer.from(
      JSON.stringify({
        v: 1,
        terms: termNames,
        ids,
        lens,
        metas: metas.map(packMeta),
        pending: pend.map((p) => ({ ...p, meta: packMeta(p.meta) })),
      }),
      'utf8',
    );
    const metaArr = new Uint32Array(meta);
    let postLen = 0;
    for (const c of chunks) postLen += c.length;
    const total = 8 + head.length + pad4(head.length) + metaArr.byteLength + postLen;
    const out = new Uint8Array(total);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, head.length, true);
    dv.setUint32(4, termNames.length, true);
    out.set(head, 8);
    let o = 8 + head.length + pad4(head.length);
    out.set(new Uint8Array(metaArr.buffer), o);
    o += metaArr.byteLength;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    // The in-memory index now matches the compacted form.
    if (this.dead > 0) this.loadFrom(out);
    return out;
  }

  /** Replaces the contents with a serialized index. Throws on malformed input. */
  loadFrom(data: Uint8Array): void {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const headLen = dv.getUint32(0, true);
    const nTerms = dv.getUint32(4, true);
    const head = JSON.parse(Buffer.from(data.buffer, data.byteOffset + 8, headLen).toString('utf8')) as {
      v: number;
      terms: string[];
      ids: string[];
      lens: number[];
      metas: PackedMeta[];
      pending: { id: string; len: number; meta: PackedMeta; tf: [string, number][] }[];
    };
    if (head.v !== 1 || head.terms.length !== nTerms || head.ids.length !== head.metas.length) throw new Error('bad index header');
    this.clear();
    const metaOff = 8 + headLen + pad4(headLen);
    const metaArr = new Uint32Array(data.buffer.slice(data.byteOffset + metaOff, data.byteOffset + metaOff + nTerms * 12));
    // One private copy of the postings; each term gets a view (copied on first append).
    const postStart = metaOff + nTerms * 12;
    const post = data.slice(postStart);
    let o = 0;
    for (let t = 0; t < nTerms; t++) {
      const len = metaArr[t * 3];
      this.terms.set(head.terms[t], { buf: post.subarray(o, o + len), n: len, last: metaArr[t * 3 + 2], df: metaArr[t * 3 + 1] });
      o += len;
    }
    if (o !== post.length) throw new Error('bad index postings length');
    this.ids = head.ids;
    this.lens = head.lens;
    this.metas = head.metas.map((m, i) => unpackMeta(head.ids[i], m));
    this.alive = new Array<number>(head.ids.length).fill(1);
    for (let d = 0; d < head.ids.length; d++) {
      this.byId.set(head.ids[d], d);
      this.totalLen += head.lens[d];
    }
    this.liveDocs = head.ids.length;
    for (const p of head.pending) {
      this.pending.set(p.id, { len: p.len, tf: new Map(p.tf), meta: unpackMeta(p.id, p.meta) });
      this.totalLen += p.len;
    }
  }

  /** Ids of indexed episodes (for consistency checks). */
  allIds(): string[] {
    return [...this.byId.keys(), ...this.pending.keys()];
  }
}

type PackedMeta = [string, number, number, number, number, string | 0, string | 0, string[], number];

function packMeta(m: DocMeta): PackedMeta {
  return [
    m.domain,
    TASK_TYPES.indexOf(m.taskType),
    m.outcome ? OUTCOMES.indexOf(m.outcome) : -1,
    m.startedMs,
    Math.round(m.reward * 1e6) / 1e6,
    m.language ?? 0,
    m.framework ?? 0,
    m.tags,
    m.simhash,
  ];
}

function unpackMeta(id: string, p: PackedMeta): DocMeta {
  return {
    id,
    domain: p[0],
    taskType: TASK_TYPES[p[1]],
    outcome: p[2] >= 0 ? OUTCOMES[p[2]] : undefined,
    startedMs: p[3],
    reward: p[4],
    language: p[5] === 0 ? undefined : p[5],
    framework: p[6] === 0 ? undefined : p[6],
    tags: p[7],
    simhash: p[8],
  };
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let x = buf[pos++];
  let v = x & 0x7f;
  let shift = 7;
  while (x & 0x80) {
    x = buf[pos++];
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
  }
  return [v, pos];
}

/** Indices of the k largest values, best first (ties: lower index first). */
function topK(values: Float64Array, k: number): number[] {
  const n = values.length;
  if (k >= n) return [...Array(n).keys()].sort((a, b) => values[b] - values[a] || a - b);
  // Min-heap of size k.
  const heap: number[] = [];
  const less = (a: number, b: number): boolean => values[a] < values[b] || (values[a] === values[b] && a > b);
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < n; i++) {
    if (heap.length < k) {
      heap.push(i);
      let j = heap.length - 1;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (less(heap[j], heap[p])) {
          [heap[j], heap[p]] = [heap[p], heap[j]];
          j = p;
        } else break;
      }
    } else if (less(heap[0], i)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => values[b] - values[a] || a - b);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
