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
 *   the store; journal replay updates it like a live write. Loading uses the
 *   postings sections in place (views on the snapshot buffer, no copy).
 * - Query feedback (a first pass, then extra terms) can keep the first pass's
 *   accumulated scores (`keep`/`resume`): the second pass scores only the new terms.
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
  /** Last document number (continues from the base segment's last). */
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
 * Top-k: the blend is computed exactly only for the best BM25 candidates plus any
 * other candidate whose text score plus the largest possible non-text score could
 * still reach the k-th best blend (max-score pruning), so a broad query does not
 * pay for blending every match.
 */
export const BLEND = { text: 0.55, context: 0.2, reward: 0.15, recency: 0.1, halfLifeDays: 30 } as const;

const OUTCOMES: OutcomeType[] = ['success', 'partial_success', 'failure', 'abstained'];
const DAY_MS = 86_400_000;
const LN2 = Math.log(2);

function grow<T extends Uint8Array | Int8Array | Int32Array | Uint32Array | Float32Array | Float64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2, 1024));
  b.set(a);
  return b;
}

export class SearchIndex {
  // Documents (completed episodes), numbered in indexing order; columnar.
  private n = 0;
  private ids: string[] = [];
  private alive = new Uint8Array(1024);
  private lens = new Float32Array(1024);
  private dom = new Int32Array(1024);
  private tt = new Int8Array(1024);
  private out = new Int8Array(1024);
  private started = new Float64Array(1024);
  private reward = new Float32Array(1024);
  private lang = new Int32Array(1024);
  private fw = new Int32Array(1024);
  private sim = new Uint32Array(1024);
  private tags: (number[] | 0)[] = [];
  private strings: string[] = [];
  private stringIds = new Map<string, number>();
  private byId = new Map<string, number>();
  // Postings: a base segment loaded from the snapshot (sorted terms, one blob) + an overlay appended since.
  private baseTerms: string[] = [];
  private baseOff = new Uint32Array(1);
  private baseDf = new Uint32Array(0);
  private baseLast = new Uint32Array(0);
  private baseBlob = new Uint8Array(0);
  private overlay = new Map<string, Posting>();
  private pending = new Map<string, PendingDoc>();
  private totalLen = 0;
  private liveDocs = 0;
  private dead = 0;
  // Query scratch.
  private session?: { terms: QueryTerm[]; filter: RankFilter; nt: number; pendingScores: Map<string, { s: number; mask: number }> };
  private scores = new Float64Array(0);
  private masks = new Uint32Array(0);
  private touched = new Int32Array(0);

  /** Zeroes the accumulators of the first `nt` touched documents (a dropped session). */
  private dropScores(nt: number): void {
    for (let i = 0; i < nt; i++) {
      this.scores[this.touched[i]] = 0;
      this.masks[this.touched[i]] = 0;
    }
  }

  /** Any change to the documents invalidates a kept ranking session. */
  private endSession(): void {
    if (this.session) this.dropScores(this.session.nt);
    this.session = undefined;
  }

  get documentCount(): number {
    return this.liveDocs + this.pending.size;
  }

  get termCount(): number {
    let extra = 0;
    for (const t of this.overlay.keys()) if (this.baseIndex(t) < 0) extra++;
    return this.baseTerms.length + extra;
  }

  has(id: string): boolean {
    return this.byId.has(id) || this.pending.has(id);
  }

  clear(): void {
    this.endSession();
    this.n = 0;
    this.ids = [];
    this.tags = [];
    this.strings = [];
    this.stringIds.clear();
    this.byId.clear();
    this.baseTerms = [];
    this.baseOff = new Uint32Array(1);
    this.baseDf = new Uint32Array(0);
    this.baseLast = new Uint32Array(0);
    this.baseBlob = new Uint8Array(0);
    this.overlay.clear();
    this.pending.clear();
    this.totalLen = 0;
    this.liveDocs = 0;
    this.dead = 0;
  }

  private intern(s: string | undefined): number {
    if (s === undefined) return -1;
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  /** A term's postings as segments [bytes, start, end, first doc]: the base blob's, then the overlay's. */
  private postingSegments(bi: number, ov: Posting | undefined): [Uint8Array, number, number, number][] {
    const segs: [Uint8Array, number, number, number][] = [];
    if (bi >= 0) segs.push([this.baseBlob, this.baseOff[bi], this.baseOff[bi + 1], 0]);
    if (ov) segs.push([ov.buf, 0, ov.n, bi >= 0 ? this.baseLast[bi] : 0]);
    return segs;
  }

  private baseIndex(term: string): number {
    const a = this.baseTerms;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid];
      if (v === term) return mid;
      if (v < term) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private docFreq(term: string): number {
    const bi = this.baseIndex(term);
    let df = (bi >= 0 ? this.baseDf[bi] : 0) + (this.overlay.get(term)?.df ?? 0);
    for (const p of this.pending.values()) if (p.tf.has(term)) df++;
    return df;
  }

  /** Adds or replaces an episode. Completed episodes go to the postings, others to the pending table. */
  upsert(e: Episode): void {
    this.endSession();
    this.remove(e.id);
    const { tf, len } = analyzeEpisode(e);
    const meta = metaOf(e);
    if (!e.outcome) {
      this.pending.set(e.id, { tf, len, meta });
      this.totalLen += len;
      return;
    }
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
    this.ids[d] = e.id;
    this.alive[d] = 1;
    this.lens[d] = len;
    this.dom[d] = this.intern(meta.domain);
    this.tt[d] = TASK_TYPES.indexOf(meta.taskType);
    this.out[d] = meta.outcome ? OUTCOMES.indexOf(meta.outcome) : -1;
    this.started[d] = meta.startedMs;
    this.reward[d] = meta.reward;
    this.lang[d] = this.intern(meta.language);
    this.fw[d] = this.intern(meta.framework);
    this.sim[d] = meta.simhash;
    this.tags[d] = meta.tags.length ? meta.tags.map((t) => this.intern(t)) : 0;
    this.byId.set(e.id, d);
    this.totalLen += len;
    this.liveDocs++;
    for (const [term, units] of tf) this.appendPosting(term, d, units);
  }

  remove(id: string): boolean {
    this.endSession();
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
    this.liveDocs--;
    this.dead++;
    return true;
  }

  private appendPosting(term: string, doc: number, units: number): void {
    let p = this.overlay.get(term);
    if (!p) {
      const bi = this.baseIndex(term);
      p = { buf: new Uint8Array(8), n: 0, last: bi >= 0 ? this.baseLast[bi] : 0, df: 0 };
      this.overlay.set(term, p);
    }
    if (p.n + 12 > p.buf.length) {
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
    const df = this.docFreq(term);
    if (df === 0) return 0;
    return Math.log(1 + (N - df + 0.5) / (df + 0.5));
  }

  /** The terms of a text with the highest tf·idf (used for feedback expansion). */
  keyTermsOfText(text: string, n = 10): string[] {
    const tf = new Map<string, number>();
    for (const t of tokenize(text.length > 8000 ? text.slice(0, 8000) : text)) tf.set(t, (tf.get(t) ?? 0) + 1);
    return this.topByTfIdf(tf, n);
  }

  /** The terms of an episode with the highest tf·idf. */
  keyTerms(e: Episode, n = 10): string[] {
    // Task, actions, errors, outcome and reflection (parameters and outputs are too noisy).
    const { tf } = analyzeEpisode({
      ...e,
      steps: e.steps.map((s) => ({ ...s, parameters: undefined, result: s.result.status === 'success' ? { status: 'success' as const } : s.result })),
    });
    return this.topByTfIdf(tf, n);
  }

  /** The n terms with the highest log-tf·idf, skipping short and numeric ones. */
  private topByTfIdf(tf: Map<string, number>, n: number): string[] {
    const scored: [string, number][] = [];
    for (const [t, u] of tf) {
      if (t.length < 3 || /^[0-9]+$/.test(t)) continue;
      scored.push([t, Math.log(1 + u) * this.idf(t)]);
    }
    scored.sort((a, b) => b[1] - a[1]);
    return scored.slice(0, n).map((s) => s[0]);
  }

  private metaOfDoc(d: number): DocMeta {
    const tags = this.tags[d];
    return {
      id: this.ids[d],
      domain: this.strings[this.dom[d]],
      taskType: TASK_TYPES[this.tt[d]],
      outcome: this.out[d] >= 0 ? OUTCOMES[this.out[d]] : undefined,
      startedMs: this.started[d],
      reward: this.reward[d],
      language: this.lang[d] >= 0 ? this.strings[this.lang[d]] : undefined,
      framework: this.fw[d] >= 0 ? this.strings[this.fw[d]] : undefined,
      tags: tags ? tags.map((t) => this.strings[t]) : [],
      simhash: this.sim[d],
    };
  }

  /** Ranks documents. Returns hits sorted by blended score (with diversity), and the total number of candidates. */
  rank(
    qterms: QueryTerm[],
    filter: RankFilter,
    ctx: RankContext,
    limit: number,
    offset: number,
    nowMs: number,
    opts: { keep?: boolean; resume?: boolean; accumulateFor?: { limit: number; offset: number } } = {},
  ): { hits: RankedHit[]; total: number } {
    // A kept session holds the accumulated BM25 scores of a previous call (same filter);
    // a resuming call whose terms extend that call's terms only scores the new terms.
    const prev = this.session;
    this.session = undefined;
    let start = 0;
    let nt = 0;
    let pendingScores = new Map<string, { s: number; mask: number }>();
    if (prev) {
      const same =
        opts.resume === true &&
        prev.filter === filter &&
        prev.terms.length <= Math.min(32, qterms.length) &&
        prev.terms.every((t, i) => t.term === qterms[i].term && t.weight === qterms[i].weight);
      if (same) {
        start = prev.terms.length;
        nt = prev.nt;
        pendingScores = prev.pendingScores;
      } else this.dropScores(prev.nt);
    }
    const nDocs = this.n;
    if (this.scores.length < nDocs) {
      const cap = Math.max(1024, nDocs * 2);
      this.scores = new Float64Array(cap);
      this.masks = new Uint32Array(cap);
      this.touched = new Int32Array(cap);
    }
    const { scores, masks, touched, alive, lens } = this;
    const N = Math.max(1, this.documentCount);
    const avgLen = this.documentCount > 0 ? Math.max(1, this.totalLen / this.documentCount) : 1;
    const terms = qterms.slice(0, 32);

    // Terms in increasing document frequency. A very common term (in more than 10% of
    // the episodes) only re-scores episodes already matched by rarer terms once those
    // gave enough candidates: its low idf cannot lift an episode matched by nothing
    // else into the top results, and skipping such episodes keeps broad queries fast.
    const order = terms
      .map((t, qi) => ({ qi, df: qi < start ? 0 : this.docFreq(t.term) }))
      .filter((x) => x.df > 0)
      .sort((a, b) => a.df - b.df || a.qi - b.qi);
    // Candidate window for the common-term rule (as for the final page when accumulating for a later call).
    const acc = opts.accumulateFor ?? { limit, offset };
    const window0 = acc.offset + acc.limit + Math.max(20, acc.limit * 2);
    for (const { qi, df } of order) {
      const { term, weight } = terms[qi];
      const updateOnly = df > 0.1 * N && nt >= window0;
      const idf = Math.log(1 + (N - df + 0.5) / (df + 0.5)) * weight;
      const bit = 1 << qi;
      const bi = this.baseIndex(term);
      const ov = this.overlay.get(term);
      const segs = this.postingSegments(bi, ov);
      for (const [b, start, end, startDoc] of segs) {
        let p = start;
        let doc = startDoc;
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
          if (alive[doc] !== 1) continue;
          if (masks[doc] === 0) {
            if (updateOnly) continue;
            touched[nt++] = doc;
          }
          const tf = u / 2;
          const s = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * lens[doc]) / avgLen));
          scores[doc] += s;
          masks[doc] |= bit;
        }
      }
      for (const [id, pd] of this.pending) {
        const u = pd.tf.get(term);
        if (!u || (updateOnly && !pendingScores.has(id))) continue;
        const tf = u / 2;
        const s = (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * pd.len) / avgLen));
        const cur = pendingScores.get(id) ?? { s: 0, mask: 0 };
        cur.s += s;
        cur.mask |= bit;
        pendingScores.set(id, cur);
      }
    }

    // Filters, as codes over the columns.
    const code = (s: string | undefined): number => (s === undefined ? -1 : (this.stringIds.get(s) ?? -2));
    const fDom = code(filter.domain);
    const fTt = filter.taskType === undefined ? -1 : TASK_TYPES.indexOf(filter.taskType);
    const fOut = filter.outcome === undefined ? -1 : OUTCOMES.indexOf(filter.outcome);
    const since = filter.sinceMs ?? -Infinity;
    const until = filter.untilMs ?? Infinity;
    const passDoc = (d: number): boolean =>
      (fDom === -1 || this.dom[d] === fDom) &&
      (fTt === -1 || this.tt[d] === fTt) &&
      (fOut === -1 || this.out[d] === fOut) &&
      this.started[d] >= since &&
      this.started[d] <= until;
    const passMeta = (m: DocMeta): boolean =>
      (filter.domain === undefined || m.domain === filter.domain) &&
      (filter.taskType === undefined || m.taskType === filter.taskType) &&
      (filter.outcome === undefined || m.outcome === filter.outcome) &&
      m.startedMs >= since &&
      m.startedMs <= until;

    let nc = 0;
    let maxBm = 0;
    if (terms.length > 0) {
      for (let i = 0; i < nt; i++) {
        const d = touched[i];
        if (passDoc(d)) {
          touched[nc++] = d;
          if (scores[d] > maxBm) maxBm = scores[d];
        } else {
          scores[d] = 0;
          masks[d] = 0;
        }
      }
    } else {
      for (let d = 0; d < nDocs; d++) if (alive[d] === 1 && passDoc(d)) touched[nc++] = d;
    }
    const pend: { meta: DocMeta; bm: number; mask: number }[] = [];
    if (terms.length > 0) {
      for (const [id, ps] of pendingScores) {
        const pd = this.pending.get(id)!;
        if (passMeta(pd.meta)) {
          pend.push({ meta: pd.meta, bm: ps.s, mask: ps.mask });
          if (ps.s > maxBm) maxBm = ps.s;
        }
      }
    } else {
      for (const pd of this.pending.values()) if (passMeta(pd.meta)) pend.push({ meta: pd.meta, bm: 0, mask: 0 });
    }
    const total = nc + pend.length;
    const reset = (): void => {
      for (let i = 0; i < nc; i++) {
        scores[touched[i]] = 0;
        masks[touched[i]] = 0;
      }
    };
    const keepSession = (): void => {
      if (opts.keep) this.session = { terms: terms.map((t) => ({ term: t.term, weight: t.weight })), filter, nt: nc, pendingScores };
      else reset();
    };
    if (total === 0) {
      keepSession();
      return { hits: [], total };
    }

    // Blend weights.
    const lang = ctx.language?.toLowerCase();
    const fw = ctx.framework?.toLowerCase();
    const tagList = ctx.tags && ctx.tags.length ? [...new Set(ctx.tags.map((t) => t.toLowerCase()))] : undefined;
    const ctxKeys = [ctx.domain, ctx.taskType, lang, fw, tagList].filter((v) => v !== undefined).length;
    let wText: number = BLEND.text;
    let wCtx: number = BLEND.context;
    let wRew: number = BLEND.reward;
    let wRec: number = BLEND.recency;
    if (ctxKeys === 0) {
      wText += wCtx;
      wCtx = 0;
    }
    if (terms.length === 0) {
      const rest = wCtx + wRew + wRec;
      const t = wText;
      wCtx += (t * wCtx) / rest;
      wRew += (t * wRew) / rest;
      wRec += (t * wRec) / rest;
      wText = 0;
    }
    const cDom = code(ctx.domain);
    const cTt = ctx.taskType === undefined ? -9 : TASK_TYPES.indexOf(ctx.taskType);
    const cLang = code(lang);
    const cFw = code(fw);
    const cTags = tagList ? tagList.map((t) => code(t)) : undefined;
    const ctxDoc = (d: number): number => {
      if (ctxKeys === 0) return 0;
      let s = 0;
      if (cDom !== -1 && this.dom[d] === cDom) s++;
      if (cTt !== -9 && this.tt[d] === cTt) s++;
      if (cLang !== -1 && this.lang[d] === cLang) s++;
      if (cFw !== -1 && this.fw[d] === cFw) s++;
      if (cTags) {
        const tg = this.tags[d];
        if (tg) {
          let k = 0;
          for (const t of cTags) if (tg.includes(t)) k++;
          s += k / cTags.length;
        }
      }
      return s / ctxKeys;
    };
    const ctxMeta = (m: DocMeta): number => {
      if (ctxKeys === 0) return 0;
      let s = 0;
      if (ctx.domain !== undefined && m.domain === ctx.domain) s++;
      if (ctx.taskType !== undefined && m.taskType === ctx.taskType) s++;
      if (lang !== undefined && m.language === lang) s++;
      if (fw !== undefined && m.framework === fw) s++;
      if (tagList) s += tagList.filter((t) => m.tags.includes(t)).length / tagList.length;
      return s / ctxKeys;
    };
    const recency = (startedMs: number): number => Math.exp((-Math.max(0, nowMs - startedMs) / DAY_MS / BLEND.halfLifeDays) * LN2);
    const blendDoc = (d: number): number =>
      wText * (maxBm > 0 ? scores[d] / maxBm : 0) + wCtx * ctxDoc(d) + wRew * this.reward[d] + wRec * recency(this.started[d]);

    // Max-score pruning: exact blend for the best BM25 candidates, then for any other
    // candidate whose BM25 could still lift it above the window's threshold.
    const window = Math.min(total, offset + limit + Math.max(20, limit * 2));
    interface Ev {
      score: number;
      d: number; // document number, or -1 for pending
      pm?: DocMeta;
      bm: number;
      mask: number;
    }
    const evals: Ev[] = [];
    const upper = wCtx + wRew + wRec;
    if (wText === 0 || nc <= window * 4) {
      for (let i = 0; i < nc; i++) {
        const d = touched[i];
        evals.push({ score: blendDoc(d), d, bm: scores[d], mask: masks[d] });
      }
    } else {
      const W = window * 4;
      const byBm = topKBy(touched, nc, scores, W);
      const inE = new Set<number>(byBm);
      let minE = Infinity;
      for (const d of byBm) {
        evals.push({ score: blendDoc(d), d, bm: scores[d], mask: masks[d] });
        if (scores[d] < minE) minE = scores[d];
      }
      const sorted = evals.map((e) => e.score).sort((a, b) => b - a);
      const tau = sorted[Math.min(sorted.length, window) - 1];
      if ((wText * minE) / maxBm + upper >= tau) {
        const need = ((tau - upper) * maxBm) / wText;
        for (let i = 0; i < nc; i++) {
          const d = touched[i];
          if (scores[d] >= need && !inE.has(d)) evals.push({ score: blendDoc(d), d, bm: scores[d], mask: masks[d] });
        }
      }
    }
    for (const p of pend) {
      const m = p.meta;
      evals.push({
        score: wText * (maxBm > 0 ? p.bm / maxBm : 0) + wCtx * ctxMeta(m) + wRew * m.reward + wRec * recency(m.startedMs),
        d: -1,
        pm: m,
        bm: p.bm,
        mask: p.mask,
      });
    }
    keepSession();
    evals.sort((a, b) => b.score - a.score || (a.d < 0 || b.d < 0 ? 0 : a.d - b.d));
    const top = evals.slice(0, window);
    const metaOfEv = (e: Ev): DocMeta => e.pm ?? this.metaOfDoc(e.d);
    const metas = top.map(metaOfEv);

    // Diversity.
    const chosen: number[] = [];
    const deferred: { i: number; of: number }[] = [];
    for (let i = 0; i < top.length; i++) {
      const m = metas[i];
      let dupOf = -1;
      for (const j of chosen) {
        const o = metas[j];
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
      const e = top[i];
      const m = metas[i];
      const matched: string[] = [];
      for (let qi = 0; qi < terms.length; qi++) if (e.mask & (1 << qi)) matched.push(terms[qi].expansion ? `~${terms[qi].term}` : terms[qi].term);
      const contextMatches: string[] = [];
      if (ctx.domain !== undefined && m.domain === ctx.domain) contextMatches.push(`domain=${m.domain}`);
      if (ctx.taskType !== undefined && m.taskType === ctx.taskType) contextMatches.push(`taskType=${m.taskType}`);
      if (lang !== undefined && m.language === lang) contextMatches.push(`language=${m.language}`);
      if (fw !== undefined && m.framework === fw) contextMatches.push(`framework=${m.framework}`);
      if (tagList) for (const t of m.tags) if (tagList.includes(t)) contextMatches.push(`tag=${t}`);
      return {
        id: m.id,
        score: round3(e.score),
        text: round3(maxBm > 0 ? e.bm / maxBm : 0),
        context: round3(ctxMeta(m)),
        reward: round3(m.reward),
        recency: round3(recency(m.startedMs)),
        matched,
        contextMatches,
        nearDuplicateOf: of >= 0 ? metas[of].id : undefined,
      };
    });
    return { hits, total };
  }

  // ---------------------------------------------------------------------------
  // Serialization (into the snapshot): JSON head + aligned binary columns.
  // ---------------------------------------------------------------------------

  serialize(): Uint8Array {
    // Document renumbering (compaction) when some were deleted.
    const remap = this.dead > 0 ? new Int32Array(this.n).fill(-1) : undefined;
    let nDocs = this.n;
    if (remap) {
      nDocs = 0;
      for (let d = 0; d < this.n; d++) if (this.alive[d] === 1) remap[d] = nDocs++;
    }
    const keep = (d: number): number => (remap ? remap[d] : d);
    const ids: string[] = new Array<string>(nDocs);
    const tags: (number[] | 0)[] = new Array<number[] | 0>(nDocs);
    const cols = {
      lens: new Float32Array(nDocs),
      dom: new Int32Array(nDocs),
      tt: new Int8Array(nDocs),
      out: new Int8Array(nDocs),
      started: new Float64Array(nDocs),
      reward: new Float32Array(nDocs),
      lang: new Int32Array(nDocs),
      fw: new Int32Array(nDocs),
      sim: new Uint32Array(nDocs),
    };
    for (let d = 0; d < this.n; d++) {
      if (this.alive[d] !== 1) continue;
      const k = keep(d);
      ids[k] = this.ids[d];
      tags[k] = this.tags[d];
      cols.lens[k] = this.lens[d];
      cols.dom[k] = this.dom[d];
      cols.tt[k] = this.tt[d];
      cols.out[k] = this.out[d];
      cols.started[k] = this.started[d];
      cols.reward[k] = this.reward[d];
      cols.lang[k] = this.lang[d];
      cols.fw[k] = this.fw[d];
      cols.sim[k] = this.sim[d];
    }
    // Terms: merge the sorted base with the overlay's new terms.
    const newTerms = [...this.overlay.keys()].filter((t) => this.baseIndex(t) < 0).sort();
    const terms: string[] = [];
    {
      let i = 0;
      let j = 0;
      const a = this.baseTerms;
      while (i < a.length || j < newTerms.length) {
        if (j >= newTerms.length || (i < a.length && a[i] < newTerms[j])) terms.push(a[i++]);
        else terms.push(newTerms[j++]);
      }
    }
    const off = new Uint32Array(terms.length + 1);
    const df = new Uint32Array(terms.length);
    const last = new Uint32Array(terms.length);
    const chunks: Uint8Array[] = [];
    let total = 0;
    let scratch = new Uint8Array(1 << 16);
    const kept: string[] = [];
    for (const term of terms) {
      const bi = this.baseIndex(term);
      const ov = this.overlay.get(term);
      let bytes: Uint8Array;
      let tdf: number;
      let tlast: number;
      if (!remap) {
        const base = bi >= 0 ? this.baseBlob.subarray(this.baseOff[bi], this.baseOff[bi + 1]) : undefined;
        if (base && ov) {
          bytes = new Uint8Array(base.length + ov.n);
          bytes.set(base);
          bytes.set(ov.buf.subarray(0, ov.n), base.length);
        } else bytes = base ?? ov!.buf.subarray(0, ov!.n);
        tdf = (bi >= 0 ? this.baseDf[bi] : 0) + (ov?.df ?? 0);
        tlast = ov ? ov.last : this.baseLast[bi];
      } else {
        const need = (bi >= 0 ? this.baseOff[bi + 1] - this.baseOff[bi] : 0) + (ov?.n ?? 0) + 16;
        if (scratch.length < need) scratch = new Uint8Array(need * 2);
        let w = 0;
        let prev = 0;
        tdf = 0;
        const segs = this.postingSegments(bi, ov);
        for (const [b, start, end, startDoc] of segs) {
          let p = start;
          let doc = startDoc;
          while (p < end) {
            const [dd, p2] = readVarint(b, p);
            const [u, p3] = readVarint(b, p2);
            p = p3;
            doc += dd;
            const nd = remap[doc];
            if (nd < 0) continue;
            w = writeVarint(scratch, w, nd - prev);
            w = writeVarint(scratch, w, u);
            prev = nd;
            tdf++;
          }
        }
        if (tdf === 0) continue;
        bytes = scratch.slice(0, w);
        tlast = prev;
      }
      const k = kept.length;
      kept.push(term);
      off[k] = total;
      df[k] = tdf;
      last[k] = tlast;
      chunks.push(bytes);
      total += bytes.length;
    }
    off[kept.length] = total;
    const blob = new Uint8Array(total);
    {
      let o = 0;
      for (const c of chunks) {
        blob.set(c, o);
        o += c.length;
      }
    }
    const pend = [...this.pending.entries()].map(([id, p]) => ({ id, len: p.len, meta: packMeta(p.meta), tf: [...p.tf.entries()] }));
    const sections: [string, ArrayBufferView][] = [
      ['off', off.subarray(0, kept.length + 1)],
      ['df', df.subarray(0, kept.length)],
      ['last', last.subarray(0, kept.length)],
      ...Object.entries(cols),
      ['blob', blob],
    ];
    const head = Buffer.from(
      JSON.stringify({ v: 2, terms: kept, ids, tags, strings: this.strings, pending: pend, sections: sections.map(([name, a]) => [name, a.byteLength]) }),
      'utf8',
    );
    let size = 8 + head.length;
    size += pad8(size);
    for (const [, a] of sections) size += a.byteLength + pad8(a.byteLength);
    const outBuf = new Uint8Array(size);
    const dv = new DataView(outBuf.buffer);
    dv.setUint32(0, head.length, true);
    dv.setUint32(4, 2, true);
    outBuf.set(head, 8);
    let o = 8 + head.length;
    o += pad8(o);
    for (const [, a] of sections) {
      outBuf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o);
      o += a.byteLength + pad8(a.byteLength);
    }
    // After compaction the in-memory index must use the new numbering.
    if (remap) this.loadFrom(outBuf);
    return outBuf;
  }

  /** Replaces the contents with a serialized index. Throws on malformed input. */
  loadFrom(data: Uint8Array): void {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const headLen = dv.getUint32(0, true);
    if (dv.getUint32(4, true) !== 2) throw new Error('unknown index format');
    const head = JSON.parse(Buffer.from(data.buffer, data.byteOffset + 8, headLen).toString('utf8')) as {
      v: number;
      terms: string[];
      ids: string[];
      tags: (number[] | 0)[];
      strings: string[];
      pending: { id: string; len: number; meta: PackedMeta; tf: [string, number][] }[];
      sections: [string, number][];
    };
    let o = 8 + headLen;
    o += pad8(o);
    // Sections are used in place (views on `data`, no copy) when aligned, else copied.
    const sec = new Map<string, [number, number]>();
    for (const [name, len] of head.sections) {
      if (o + len > data.byteLength) throw new Error('index truncated');
      sec.set(name, [data.byteOffset + o, len]);
      o += len + pad8(len);
    }
    const view = <T>(name: string, C: { new (b: ArrayBufferLike, off: number, n: number): T; BYTES_PER_ELEMENT: number }): T => {
      const s = sec.get(name);
      if (!s) throw new Error(`index section ${name} missing`);
      const [at, len] = s;
      const size = C.BYTES_PER_ELEMENT;
      if (len % size !== 0) throw new Error(`index section ${name} has a bad length`);
      if (at % size === 0) return new C(data.buffer, at, len / size);
      return new C(data.buffer.slice(at, at + len), 0, len / size);
    };
    const get = (name: string): ArrayBuffer => {
      const s = sec.get(name);
      if (!s) throw new Error(`index section ${name} missing`);
      return new Uint8Array(data.buffer, s[0], s[1]).slice().buffer;
    };
    const nDocs = head.ids.length;
    const nTerms = head.terms.length;
    const off = view('off', Uint32Array);
    const blob = view('blob', Uint8Array);
    if (off.length !== nTerms + 1 || off[nTerms] !== blob.byteLength) throw new Error('bad index postings');
    this.clear();
    this.baseTerms = head.terms;
    this.baseOff = off;
    this.baseDf = view('df', Uint32Array);
    this.baseLast = view('last', Uint32Array);
    this.baseBlob = blob;
    this.n = nDocs;
    this.ids = head.ids;
    this.tags = head.tags;
    this.strings = head.strings;
    head.strings.forEach((s, i) => this.stringIds.set(s, i));
    // Per-document columns are copied: they grow as episodes are added.
    this.lens = new Float32Array(get('lens'));
    this.dom = new Int32Array(get('dom'));
    this.tt = new Int8Array(get('tt'));
    this.out = new Int8Array(get('out'));
    this.started = new Float64Array(get('started'));
    this.reward = new Float32Array(get('reward'));
    this.lang = new Int32Array(get('lang'));
    this.fw = new Int32Array(get('fw'));
    this.sim = new Uint32Array(get('sim'));
    if (this.lens.length !== nDocs || this.sim.length !== nDocs) throw new Error('bad index columns');
    this.alive = new Uint8Array(nDocs).fill(1);
    for (let d = 0; d < nDocs; d++) {
      this.byId.set(head.ids[d], d);
      this.totalLen += this.lens[d];
    }
    this.liveDocs = nDocs;
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

/** The k entries of `idx[0..n)` with the largest `vals[idx[i]]` (unordered). */
function topKBy(idx: Int32Array, n: number, vals: Float64Array, k: number): number[] {
  if (k >= n) return Array.from(idx.subarray(0, n));
  // Threshold by sampling then a linear pass (fast for large n).
  const heap = new Int32Array(k);
  let size = 0;
  const lt = (a: number, b: number): boolean => vals[a] < vals[b];
  for (let i = 0; i < n; i++) {
    const d = idx[i];
    if (size < k) {
      let j = size++;
      heap[j] = d;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (lt(heap[j], heap[p])) {
          const t = heap[j];
          heap[j] = heap[p];
          heap[p] = t;
          j = p;
        } else break;
      }
    } else if (vals[d] > vals[heap[0]]) {
      heap[0] = d;
      let j = 0;
      for (;;) {
        const l = 2 * j + 1;
        const r = l + 1;
        let m = j;
        if (l < size && lt(heap[l], heap[m])) m = l;
        if (r < size && lt(heap[r], heap[m])) m = r;
        if (m === j) break;
        const t = heap[j];
        heap[j] = heap[m];
        heap[m] = t;
        j = m;
      }
    }
  }
  return Array.from(heap.subarray(0, size));
}

function pad8(n: number): number {
  return (8 - (n % 8)) % 8;
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


function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
