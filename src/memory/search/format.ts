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
import { Postings } from './postings';
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

/** Serializes the index. Returns the bytes and, when documents were renumbered, true (the caller reloads from the bytes). */
export function serializeIndex({ docs, postings, pending }: IndexParts): { bytes: Uint8Array; renumbered: boolean } {
  const remap = docs.dead > 0 ? new Int32Array(docs.n).fill(-1) : undefined;
  let nDocs = docs.n;
  if (remap) {
    nDocs = 0;
    for (let d = 0; d < docs.n; d++) if (docs.alive[d] === 1) remap[d] = nDocs++;
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
  const keys = new Int32Array(nDocs * KEY_TERMS);
  for (let d = 0; d < docs.n; d++) {
    if (docs.alive[d] !== 1) continue;
    const k = keep(d);
    ids[k] = docs.ids[d];
    tags[k] = docs.tags[d];
    for (const c of DOC_COLUMNS) cols[c][k] = docs[c][d];
    keys.set(docs.keys.subarray(d * KEY_TERMS, (d + 1) * KEY_TERMS), k * KEY_TERMS);
  }
  const base = postings.base;
  // Terms: merge the sorted base with the overlay's new terms.
  const newTerms = [...postings.overlay.keys()].filter((t) => postings.baseIndex(t) < 0).sort();
  const terms: string[] = [];
  {
    let i = 0;
    let j = 0;
    const a = base.terms;
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
    const bi = postings.baseIndex(term);
    const ov = postings.overlay.get(term);
    let bytes: Uint8Array;
    let tdf: number;
    let tlast: number;
    if (!remap) {
      const baseBytes = bi >= 0 ? base.blob.subarray(base.off[bi], base.off[bi + 1]) : undefined;
      if (baseBytes && ov) {
        bytes = new Uint8Array(baseBytes.length + ov.n);
        bytes.set(baseBytes);
        bytes.set(ov.buf.subarray(0, ov.n), baseBytes.length);
      } else bytes = baseBytes ?? ov!.buf.subarray(0, ov!.n);
      tdf = (bi >= 0 ? base.df[bi] : 0) + (ov?.df ?? 0);
      tlast = ov ? ov.last : base.last[bi];
    } else {
      const need = (bi >= 0 ? base.off[bi + 1] - base.off[bi] : 0) + (ov?.n ?? 0) + 16;
      if (scratch.length < need) scratch = new Uint8Array(need * 2);
      let w = 0;
      let prev = 0;
      tdf = 0;
      for (const [b, start, end, startDoc] of postings.segmentsAt(bi, ov)) {
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
  const pend = [...pending.entries()].map(([id, p]) => ({ id, len: p.len, meta: packMeta(p.meta), tf: [...p.tf.entries()] }));
  const sections: [string, ArrayBufferView][] = [
    ['off', off.subarray(0, kept.length + 1)],
    ['df', df.subarray(0, kept.length)],
    ['last', last.subarray(0, kept.length)],
    ...Object.entries(cols),
    ['keys', keys],
    ['blob', blob],
  ];
  const head = Buffer.from(
    JSON.stringify({ v: FORMAT_VERSION, terms: kept, ids, tags, strings: docs.strings, pending: pend, sections: sections.map(([name, a]) => [name, a.byteLength]) } satisfies Head),
    'utf8',
  );
  let size = 8 + head.length;
  size += pad8(size);
  for (const [, a] of sections) size += a.byteLength + pad8(a.byteLength);
  const outBuf = new Uint8Array(size);
  const dv = new DataView(outBuf.buffer);
  dv.setUint32(0, head.length, true);
  dv.setUint32(4, FORMAT_VERSION, true);
  outBuf.set(head, 8);
  let o = 8 + head.length;
  o += pad8(o);
  for (const [, a] of sections) {
    outBuf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o);
    o += a.byteLength + pad8(a.byteLength);
  }
  return { bytes: outBuf, renumbered: remap !== undefined };
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
