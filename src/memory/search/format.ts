/**
 * The index as stored in a snapshot: a JSON head (terms, ids, tags, strings, pending
 * episodes, section sizes) and 8-byte-aligned binary sections (postings offsets, df, last
 * document, the document columns, the postings blob). Serializing compacts: tombstoned
 * documents are dropped and the rest renumbered. Loading uses the postings sections in
 * place (views on the snapshot buffer, no copy); the document columns are copied since
 * they grow.
 */
import { OUTCOME_TYPES, TASK_TYPES } from '../types';
import type { DocMeta } from './analyze';
import { DOC_COLUMNS, DocTable, KEY_TERMS } from './docs';
import type { FrozenDocs } from './docs';
import { Postings, baseIndexOf, segmentsOf } from './postings';
import type { FrozenPostings } from './postings';
import type { PendingDoc } from './rank/types';
import { readVarint, writeVarint } from './varint';

/**
 * 3: the documents' key terms (section `keys`); 4: the terms of issue 14's analysis (stem
 * exceptions, document expansion by phrase). An older index is rebuilt from the database on open.
 */
const FORMAT_VERSION = 4;

export interface IndexParts {
  docs: DocTable;
  postings: Postings;
  pending: Map<string, PendingDoc>;
}

/** The index as it was when a snapshot began (SearchIndex.freeze): what a snapshot writes. */
export interface FrozenIndex {
  docs: FrozenDocs;
  postings: FrozenPostings;
  /** Episodes in progress, copied at the freeze (their term counts change in place). */
  pending: [string, PendingDoc][];
}

/** A serialized index as chunks in file order (never joined into one buffer). */
export interface SerializedIndex {
  chunks: Uint8Array[];
  bytes: number;
  /** Documents were renumbered (tombstones dropped): the bytes no longer match the live numbering. */
  renumbered: boolean;
}

type PackedMeta = [string, number, number, number, number, string | 0, string | 0, string[], number];

interface Head {
  v: number;
  terms: string[];
  ids: string[];
  tags: (number[] | 0)[];
  strings: string[];
  pending: { id: string; len: number; meta: PackedMeta; tf: [string, number][] }[];
  sections: [string, number][];
}

/** Work between two yields of serializeIndexSteps: terms, documents, array items. */
const TERMS_PER_STEP = 256;
const ITEMS_PER_STEP = 4096;
/** Small pieces (a term's postings) are gathered into blocks of this size. */
const BLOCK = 1 << 20;

/** Byte chunks in order: small pieces copied into blocks, large ones kept as they are. */
class ChunkList {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  private block?: Uint8Array;
  private used = 0;

  push(b: Uint8Array): void {
    this.length += b.length;
    if (b.length >= BLOCK / 4) {
      this.flush();
      this.chunks.push(b);
      return;
    }
    if (!this.block || this.used + b.length > this.block.length) {
      this.flush();
      this.block = new Uint8Array(BLOCK);
    }
    this.block.set(b, this.used);
    this.used += b.length;
  }

  flush(): void {
    if (this.block && this.used > 0) this.chunks.push(this.block.subarray(0, this.used));
    this.block = undefined;
    this.used = 0;
  }
}

/** Sorts strings as Array.prototype.sort does, in steps (chunks sorted, then merged bottom-up). */
function* sortInSteps(a: string[]): Generator<void, string[]> {
  const n = a.length;
  const run = ITEMS_PER_STEP / 2;
  let src = a;
  for (let lo = 0; lo < n; lo += run) {
    const part = src.slice(lo, lo + run).sort();
    for (let i = 0; i < part.length; i++) src[lo + i] = part[i];
    yield;
  }
  let dst = new Array<string>(n);
  for (let width = run; width < n; width *= 2) {
    let moved = 0;
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      for (let k = lo; k < hi; k++) {
        dst[k] = j >= hi || (i < mid && src[i] <= src[j]) ? src[i++] : src[j++];
        if (++moved % ITEMS_PER_STEP === 0) yield;
      }
    }
    [src, dst] = [dst, src];
  }
  return src;
}

/** An array as JSON, encoded a slice at a time. */
function* jsonArray(out: ChunkList, items: readonly unknown[]): Generator<void> {
  out.push(Buffer.from('['));
  for (let i = 0; i < items.length; i += ITEMS_PER_STEP) {
    const json = JSON.stringify(items.slice(i, i + ITEMS_PER_STEP));
    out.push(Buffer.from((i > 0 ? ',' : '') + json.slice(1, -1), 'utf8'));
    yield;
  }
  out.push(Buffer.from(']'));
}

/** Serializes the index in one go. */
export function serializeIndex(parts: IndexParts): { bytes: Uint8Array; renumbered: boolean } {
  const view = { docs: parts.docs.freeze(), postings: parts.postings.freeze(), pending: [...parts.pending.entries()] };
  try {
    const steps = serializeIndexSteps(view);
    let r = steps.next();
    while (!r.done) r = steps.next();
    return { bytes: joinChunks(r.value.chunks, r.value.bytes), renumbered: r.value.renumbered };
  } finally {
    parts.postings.thaw();
  }
}

export function joinChunks(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Serializes a frozen index in steps: a generator that yields after each bounded piece of
 * work (TERMS_PER_STEP terms, ITEMS_PER_STEP documents or array items), so its driver can
 * answer other calls in between while writes go on (they do not change the frozen view).
 * The bytes are those of one `serializeIndex` call at the freeze.
 */
export function* serializeIndexSteps({ docs, postings, pending }: FrozenIndex): Generator<void, SerializedIndex> {
  let dead = 0;
  for (let d = 0; d < docs.n; d++) if (docs.alive[d] !== 1) dead++;
  const remap = dead > 0 ? new Int32Array(docs.n).fill(-1) : undefined;
  let nDocs = docs.n;
  if (remap) {
    nDocs = 0;
    for (let d = 0; d < docs.n; d++) if (docs.alive[d] === 1) remap[d] = nDocs++;
  }
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
  const keys = new Int32Array(nDocs * KEY_TERMS);
  for (let d = 0; d < docs.n; d++) {
    if (d % ITEMS_PER_STEP === ITEMS_PER_STEP - 1) yield;
    if (docs.alive[d] !== 1) continue;
    const k = remap ? remap[d] : d;
    ids[k] = docs.ids[d];
    tags[k] = docs.tags[d];
    for (const c of DOC_COLUMNS) cols[c][k] = docs.cols[c][d];
    keys.set(docs.keys.subarray(d * KEY_TERMS, (d + 1) * KEY_TERMS), k * KEY_TERMS);
  }
  const base = postings.base;
  // Terms: the sorted base merged with the overlay's new terms (sorted), each with where its postings are.
  const fresh: string[] = [];
  let seen = 0;
  for (const t of postings.overlayTerms()) {
    if (baseIndexOf(base.terms, t) < 0) fresh.push(t);
    if (++seen % ITEMS_PER_STEP === 0) yield;
  }
  const newTerms = yield* sortInSteps(fresh);
  const blob = new ChunkList();
  const kept: string[] = [];
  const off: number[] = [];
  const df: number[] = [];
  const last: number[] = [];
  let scratch = new Uint8Array(1 << 16);
  let i = 0;
  let j = 0;
  for (let step = 0; i < base.terms.length || j < newTerms.length; step++) {
    if (step % TERMS_PER_STEP === TERMS_PER_STEP - 1) yield;
    const fromBase = j >= newTerms.length || (i < base.terms.length && base.terms[i] < newTerms[j]);
    const term = fromBase ? base.terms[i] : newTerms[j];
    const bi = fromBase ? i++ : -1;
    if (!fromBase) j++;
    const ov = postings.overlayOf(term);
    const at = blob.length;
    let bytes: Uint8Array;
    let tdf: number;
    let tlast: number;
    if (!remap) {
      const baseBytes = bi >= 0 ? base.blob.subarray(base.off[bi], base.off[bi + 1]) : undefined;
      if (baseBytes && ov) {
        blob.push(baseBytes);
        bytes = ov.buf.subarray(0, ov.n);
      } else bytes = baseBytes ?? ov!.buf.subarray(0, ov!.n);
      tdf = (bi >= 0 ? base.df[bi] : 0) + (ov?.df ?? 0);
      tlast = ov ? ov.last : base.last[bi];
    } else {
      const need = (bi >= 0 ? base.off[bi + 1] - base.off[bi] : 0) + (ov?.n ?? 0) + 16;
      if (scratch.length < need) scratch = new Uint8Array(need * 2);
      let w = 0;
      let prev = 0;
      tdf = 0;
      for (const [b, start, end, startDoc] of segmentsOf(base, bi, ov)) {
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
    off.push(at);
    kept.push(term);
    df.push(tdf);
    last.push(tlast);
    blob.push(bytes);
  }
  off.push(blob.length);
  blob.flush();
  const head = new ChunkList();
  head.push(Buffer.from(`{"v":${FORMAT_VERSION},"terms":`));
  yield* jsonArray(head, kept);
  head.push(Buffer.from(',"ids":'));
  yield* jsonArray(head, ids);
  head.push(Buffer.from(',"tags":'));
  yield* jsonArray(head, tags);
  head.push(Buffer.from(',"strings":'));
  yield* jsonArray(head, docs.strings);
  head.push(Buffer.from(',"pending":['));
  pending.forEach(([id, p], n) => {
    head.push(Buffer.from((n > 0 ? ',' : '') + JSON.stringify({ id, len: p.len, meta: packMeta(p.meta), tf: [...p.tf.entries()] }), 'utf8'));
  });
  yield;
  const sections: [string, ArrayBufferView][] = [
    ['off', Uint32Array.from(off)],
    ['df', Uint32Array.from(df)],
    ['last', Uint32Array.from(last)],
    ...Object.entries(cols),
    ['keys', keys],
  ];
  const sizes: [string, number][] = [...sections.map(([name, a]): [string, number] => [name, a.byteLength]), ['blob', blob.length]];
  head.push(Buffer.from(`],"sections":${JSON.stringify(sizes)}}`));
  head.flush();
  const out = new ChunkList();
  const prefix = new Uint8Array(8);
  const dv = new DataView(prefix.buffer);
  dv.setUint32(0, head.length, true);
  dv.setUint32(4, FORMAT_VERSION, true);
  out.push(prefix);
  for (const c of head.chunks) out.push(c);
  const padTo8 = (): void => out.push(new Uint8Array(pad8(out.length)));
  padTo8();
  for (const [, a] of sections) {
    out.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    padTo8();
  }
  for (const c of blob.chunks) out.push(c);
  padTo8();
  out.flush();
  return { chunks: out.chunks, bytes: out.length, renumbered: remap !== undefined };
}

/** Reads a serialized index into fresh parts. Throws on malformed input. */
export function loadIndex(data: Uint8Array): IndexParts & { totalLen: number } {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const headLen = dv.getUint32(0, true);
  if (dv.getUint32(4, true) !== FORMAT_VERSION) throw new Error('unknown index format');
  const head = JSON.parse(Buffer.from(data.buffer, data.byteOffset + 8, headLen).toString('utf8')) as Head;
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
  const copy = (name: string): ArrayBuffer => {
    const s = sec.get(name);
    if (!s) throw new Error(`index section ${name} missing`);
    return new Uint8Array(data.buffer, s[0], s[1]).slice().buffer;
  };
  const nDocs = head.ids.length;
  const nTerms = head.terms.length;
  const off = view('off', Uint32Array);
  const blob = view('blob', Uint8Array);
  if (off.length !== nTerms + 1 || off[nTerms] !== blob.byteLength) throw new Error('bad index postings');
  const postings = new Postings();
  postings.base = { terms: head.terms, off, df: view('df', Uint32Array), last: view('last', Uint32Array), blob };
  const docs = new DocTable();
  docs.n = nDocs;
  docs.ids = head.ids;
  docs.tags = head.tags;
  docs.strings = head.strings;
  head.strings.forEach((s, i) => docs.stringIds.set(s, i));
  docs.lens = new Float32Array(copy('lens'));
  docs.dom = new Int32Array(copy('dom'));
  docs.tt = new Int8Array(copy('tt'));
  docs.out = new Int8Array(copy('out'));
  docs.started = new Float64Array(copy('started'));
  docs.reward = new Float32Array(copy('reward'));
  docs.lang = new Int32Array(copy('lang'));
  docs.fw = new Int32Array(copy('fw'));
  docs.sim = new Uint32Array(copy('sim'));
  docs.keys = new Int32Array(copy('keys'));
  if (docs.lens.length !== nDocs || docs.sim.length !== nDocs || docs.keys.length !== nDocs * KEY_TERMS) throw new Error('bad index columns');
  docs.alive = new Uint8Array(nDocs).fill(1);
  let totalLen = 0;
  for (let d = 0; d < nDocs; d++) {
    docs.byId.set(head.ids[d], d);
    totalLen += docs.lens[d];
  }
  docs.live = nDocs;
  const pending = new Map<string, PendingDoc>();
  for (const p of head.pending) {
    pending.set(p.id, { len: p.len, tf: new Map(p.tf), meta: unpackMeta(p.id, p.meta) });
    totalLen += p.len;
  }
  return { docs, postings, pending, totalLen };
}

function pad8(n: number): number {
  return (8 - (n % 8)) % 8;
}

function packMeta(m: DocMeta): PackedMeta {
  return [
    m.domain,
    TASK_TYPES.indexOf(m.taskType),
    m.outcome ? OUTCOME_TYPES.indexOf(m.outcome) : -1,
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
    outcome: p[2] >= 0 ? OUTCOME_TYPES[p[2]] : undefined,
    startedMs: p[3],
    reward: p[4],
    language: p[5] === 0 ? undefined : p[5],
    framework: p[6] === 0 ? undefined : p[6],
    tags: p[7],
    simhash: p[8],
  };
}
