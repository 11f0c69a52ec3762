/**
 * On-disk formats: the append-only journal and the snapshot file.
 *
 * Journal (`journal.log`): 8-byte magic, then records
 *   [u32 LE payload length][u32 LE crc32(payload)][payload: UTF-8 JSON of one operation]
 * Each acknowledged write is one record, written with `writeSync` and made
 * durable with `fdatasyncSync` before the write is acknowledged. A record that
 * is cut short or fails its checksum at the end of the file is a torn write
 * (the process died while appending): it is dropped with a warning. A bad
 * record followed by a good one is corruption: opening fails with a clear error.
 *
 * Snapshot (`snapshot.db`): a 48-byte header
 *   magic "AGMSNAP1" | u32 format version | u32 crc32(header bytes 16..48)
 *   | f64 journal sequence covered | f64 database bytes | f64 index bytes
 *   | u32 crc32(database) | u32 crc32(index)
 * followed by the SQLite database (a copy of the live one, store/dbCopy.ts) and the
 * serialized search index. Written to a temp file in pieces (the header last), fsynced,
 * renamed over the old one, directory fsynced.
 * Read into one buffer in 4 MB chunks, each checksummed right after it is read; the
 * database and index are then used in place (sql.js and the index keep views on it).
 * Opening cost is proportional to the file size: keep the database compact (see db.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { MemoryError } from './errors';
import type { Logger } from '../common/logger';

const JOURNAL_MAGIC = Buffer.from('AGMJRNL1', 'latin1');
const SNAP_MAGIC = Buffer.from('AGMSNAP1', 'latin1');
const SNAP_VERSION = 1;
const SNAP_HEADER = 48;
const MAX_RECORD = 1024 * 1024 * 1024;
const READ_CHUNK = 4 * 1024 * 1024;
const DB_SLACK_MIN = 16 * 1024 * 1024;

export const crc32: (data: Uint8Array, value?: number) => number =
  typeof zlib.crc32 === 'function' ? (d, v) => zlib.crc32(d, v) : crc32Fallback;

let table: Uint32Array | undefined;
function crc32Fallback(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export interface JournalEntry {
  payload: unknown;
  /** Byte offset just after this record. */
  end: number;
}

export interface JournalReadResult {
  entries: JournalEntry[];
  /** Offset after the last good record (where appending must continue). */
  goodEnd: number;
  /** Bytes dropped from a torn tail. */
  tornBytes: number;
  size: number;
}

interface JournalRecord {
  ok: boolean;
  len: number;
  payload?: unknown;
}

/** The record at `at` in `buf`: ok with its payload, or not (cut short: len -1; bad checksum or JSON: its length). */
function recordIn(buf: Buffer, at: number): JournalRecord {
  if (at + 8 > buf.length) return { ok: false, len: -1 };
  const len = buf.readUInt32LE(at);
  const crc = buf.readUInt32LE(at + 4);
  if (len === 0 || len > MAX_RECORD || at + 8 + len > buf.length) return { ok: false, len: -1 };
  const body = buf.subarray(at + 8, at + 8 + len);
  if (crc32(body) !== crc) return { ok: false, len };
  try {
    return { ok: true, len, payload: JSON.parse(body.toString('utf8')) as unknown };
  } catch {
    return { ok: false, len };
  }
}

export interface JournalTail {
  entries: JournalEntry[];
  /** Offset after the last complete record read (where the next read starts). */
  end: number;
  /** The file read (a compaction replaces it: a new inode). */
  ino: number;
}

/** Opens a file for reading; undefined when it does not exist. */
function openIfExists(file: string): number | undefined {
  try {
    return fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The complete records of a journal from byte `offset` (0: from its start), for a reader
 * following another process's writes: a record still being appended (or torn) ends the
 * read without a warning; the next read starts there again. Undefined when there is no journal.
 */
export function readJournalFrom(file: string, offset: number): JournalTail | undefined {
  const fd = openIfExists(file);
  if (fd === undefined) return undefined;
  try {
    const st = fs.fstatSync(fd);
    const from = Math.max(offset, JOURNAL_MAGIC.length);
    const buf = Buffer.allocUnsafe(Math.max(0, st.size - from));
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, from + got);
      if (n <= 0) break;
      got += n;
    }
    const bytes = buf.subarray(0, got);
    const entries: JournalEntry[] = [];
    let p = 0;
    for (let r = recordIn(bytes, p); r.ok; r = recordIn(bytes, p)) {
      p += 8 + r.len;
      entries.push({ payload: r.payload, end: from + p });
    }
    return { entries, end: from + p, ino: st.ino };
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads and verifies a journal file. Missing file = empty journal. */
export function readJournal(file: string, logger: Logger): JournalReadResult {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], goodEnd: 0, tornBytes: 0, size: 0 };
    throw e;
  }
  if (buf.length < JOURNAL_MAGIC.length) {
    if (buf.length > 0) logger.warn(`memory: journal ${file} is shorter than its header (${buf.length} bytes); treating it as empty`);
    return { entries: [], goodEnd: 0, tornBytes: buf.length, size: buf.length };
  }
  if (!buf.subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC)) {
    throw new MemoryError('corrupt', `The journal ${file} does not start with the journal header: it is not a memory journal or it is corrupt.`);
  }
  const entries: JournalEntry[] = [];
  let p = JOURNAL_MAGIC.length;
  const recordAt = (at: number): JournalRecord => recordIn(buf, at);
  while (p < buf.length) {
    const r = recordAt(p);
    if (r.ok) {
      p += 8 + r.len;
      entries.push({ payload: r.payload, end: p });
      continue;
    }
    // A bad record. If a good record follows it, this is corruption in the middle.
    if (r.len > 0 && p + 8 + r.len < buf.length && recordAt(p + 8 + r.len).ok) {
      throw new MemoryError(
        'corrupt',
        `The journal ${file} is corrupt at byte ${p} (checksum mismatch followed by valid records); it was left untouched. ` +
          `Restore it from a backup or move it aside to open the store at its last snapshot.`,
      );
    }
    break;
  }
  const tornBytes = buf.length - p;
  if (tornBytes > 0) logger.warn(`memory: dropped a torn record at the end of the journal (${tornBytes} bytes at offset ${p})`);
  return { entries, goodEnd: p, tornBytes, size: buf.length };
}

/** Append handle on the journal. */
export class JournalWriter {
  private fd: number;
  private _size: number;

  constructor(
    readonly file: string,
    truncateTo: number,
  ) {
    this.fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w+');
    if (truncateTo < JOURNAL_MAGIC.length) {
      fs.ftruncateSync(this.fd, 0);
      fs.writeSync(this.fd, JOURNAL_MAGIC, 0, JOURNAL_MAGIC.length, 0);
      this._size = JOURNAL_MAGIC.length;
    } else {
      const st = fs.fstatSync(this.fd);
      if (st.size !== truncateTo) fs.ftruncateSync(this.fd, truncateTo);
      this._size = truncateTo;
    }
    fs.fdatasyncSync(this.fd);
  }

  get size(): number {
    return this._size;
  }

  /** Appends one record and makes it durable. Returns the offset after it. */
  append(payload: unknown): number {
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    const rec = Buffer.allocUnsafe(8 + body.length);
    rec.writeUInt32LE(body.length, 0);
    rec.writeUInt32LE(crc32(body), 4);
    body.copy(rec, 8);
    let off = 0;
    try {
      while (off < rec.length) off += fs.writeSync(this.fd, rec, off, rec.length - off, this._size + off);
      fs.fdatasyncSync(this.fd);
    } catch (e) {
      // Undo a partial append so the next record does not follow garbage.
      try {
        fs.ftruncateSync(this.fd, this._size);
      } catch {
        /* the torn tail will be dropped on the next open */
      }
      throw e;
    }
    this._size += rec.length;
    return this._size;
  }

  /**
   * Drops the records before `offset` (they are covered by a snapshot): copies
   * the tail to a temp file, fsyncs, renames it over the journal.
   */
  compact(offset: number): void {
    const tailLen = this._size - offset;
    const tmp = this.file + '.tmp';
    const tail = Buffer.allocUnsafe(Math.max(0, tailLen));
    if (tailLen > 0) fs.readSync(this.fd, tail, 0, tailLen, offset);
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JOURNAL_MAGIC);
      if (tailLen > 0) fs.writeSync(fd, tail);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    fsyncDir(path.dirname(this.file));
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file, 'r+');
    this._size = JOURNAL_MAGIC.length + Math.max(0, tailLen);
  }

  close(): void {
    try {
      fs.fdatasyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
    }
  }
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Not supported on every platform (Windows); the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface SnapshotContents {
  seq: number;
  db: Uint8Array;
  /** Bytes usable from db.byteOffset in db.buffer (db plus spare room; nothing else lives there). */
  dbCapacity: number;
  /** Serialized search index, undefined when absent or damaged (then rebuilt). */
  index?: Uint8Array;
  bytes: number;
}

/** The journal sequence a snapshot covers, from its header alone (undefined: no snapshot or a damaged header). */
export function readSnapshotSeq(file: string): number | undefined {
  const fd = openIfExists(file);
  if (fd === undefined) return undefined;
  try {
    const head = Buffer.alloc(SNAP_HEADER);
    if (fs.readSync(fd, head, 0, SNAP_HEADER, 0) < SNAP_HEADER || !head.subarray(0, 8).equals(SNAP_MAGIC)) return undefined;
    return crc32(head.subarray(16, SNAP_HEADER)) === head.readUInt32LE(12) ? head.readDoubleLE(16) : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads and verifies a snapshot. Returns undefined when there is none. */
export function readSnapshot(file: string, logger: Logger): SnapshotContents | undefined {
  const fd = openIfExists(file);
  if (fd === undefined) return undefined;
  try {
    const bad = (why: string): never => {
      throw new MemoryError('corrupt', `The snapshot ${file} is corrupt (${why}).`);
    };
    const size = fs.fstatSync(fd).size;
    // Read in chunks, each checksummed while it is still in the cache. The database gets its
    // own buffer with room to grow (sql.js adopts it as its in-memory file, see store.ts: without
    // spare capacity the first write that extends the file copies the whole database).
    const readRange = (into: Uint8Array, from: number, to: number, crc?: number): number => {
      let c = crc ?? 0;
      let o = from;
      while (o < to) {
        const n = fs.readSync(fd, into, o - from, Math.min(READ_CHUNK, to - o), o);
        if (n <= 0) bad('the file shrank while it was read');
        if (crc !== undefined) c = crc32(into.subarray(o - from, o - from + n), c);
        o += n;
      }
      return c;
    };
    const head = Buffer.alloc(SNAP_HEADER);
    if (size >= SNAP_HEADER) readRange(head, 0, SNAP_HEADER);
    if (size < SNAP_HEADER || !head.subarray(0, 8).equals(SNAP_MAGIC)) bad('missing or damaged header');
    const version = head.readUInt32LE(8);
    if (crc32(head.subarray(16, SNAP_HEADER)) !== head.readUInt32LE(12)) bad('header checksum mismatch');
    if (version > SNAP_VERSION) {
      throw new MemoryError('corrupt', `The snapshot ${file} was written by a newer version (format ${version}); update the extension.`);
    }
    const seq = head.readDoubleLE(16);
    const dbLen = head.readDoubleLE(24);
    const idxLen = head.readDoubleLE(32);
    if (!Number.isSafeInteger(dbLen) || !Number.isSafeInteger(idxLen) || dbLen < 0 || idxLen < 0 || SNAP_HEADER + dbLen + idxLen !== size) {
      bad(`length mismatch: header says ${SNAP_HEADER + dbLen + idxLen} bytes, file has ${size}`);
    }
    const dbCapacity = dbLen + Math.max(DB_SLACK_MIN, Math.ceil(dbLen / 8));
    const dbBuf = new Uint8Array(new ArrayBuffer(dbCapacity)); // untouched spare pages cost nothing
    if (readRange(dbBuf, SNAP_HEADER, SNAP_HEADER + dbLen, 0) !== head.readUInt32LE(40)) bad('database checksum mismatch');
    const db = dbBuf.subarray(0, dbLen);
    let index: Uint8Array | undefined;
    if (idxLen > 0) {
      index = new Uint8Array(new ArrayBuffer(idxLen));
      if (readRange(index, SNAP_HEADER + dbLen, size, 0) !== head.readUInt32LE(44)) {
        logger.warn('memory: the search index in the snapshot is damaged; it will be rebuilt from the database');
        index = undefined;
      }
    }
    return { seq, db, dbCapacity, index, bytes: size };
  } finally {
    fs.closeSync(fd);
  }
}

/** The largest piece written (and checksummed) at once: a few milliseconds of work. */
const WRITE_CHUNK = 4 * 1024 * 1024;

/** A failed snapshot write as the user should read it (a full disk named as such). */
function snapshotWriteError(file: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new MemoryError(
      'unavailable',
      `The snapshot ${file} could not be written: the disk is full (${code}). Nothing was lost: every acknowledged write is in the journal and the previous snapshot is untouched. Free some disk space; the next snapshot will be taken then.`,
      { cause: e },
    );
  }
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Writes a snapshot durably (temp + fsync + rename + dir fsync). The database and the index
 * come as chunks in order; each is written and checksummed in pieces of at most WRITE_CHUNK
 * (the writes are asynchronous, so the thread serves other work in between), and the header
 * with the lengths and checksums goes last. On failure the temp file is removed (a full disk
 * gets its space back) and the previous snapshot stays.
 */
export async function writeSnapshot(file: string, seq: number, db: Uint8Array | readonly Uint8Array[], index: Uint8Array | readonly Uint8Array[]): Promise<number> {
  const tmp = `${file}.${process.pid}.tmp`;
  let written = false;
  let total: number;
  try {
    const fh = await fs.promises.open(tmp, 'w');
    try {
      let pos = SNAP_HEADER;
      const put = async (chunks: Uint8Array | readonly Uint8Array[]): Promise<{ crc: number; length: number }> => {
        let crc = 0;
        let length = 0;
        for (const c of chunks instanceof Uint8Array ? [chunks] : chunks) {
          for (let o = 0; o < c.length; o += WRITE_CHUNK) {
            const piece = c.subarray(o, Math.min(c.length, o + WRITE_CHUNK));
            crc = crc32(piece, crc);
            await writeAt(fh, piece, pos);
            pos += piece.length;
            length += piece.length;
          }
        }
        return { crc, length };
      };
      const d = await put(db);
      const x = await put(index);
      const header = Buffer.alloc(SNAP_HEADER);
      SNAP_MAGIC.copy(header, 0);
      header.writeUInt32LE(SNAP_VERSION, 8);
      header.writeDoubleLE(seq, 16);
      header.writeDoubleLE(d.length, 24);
      header.writeDoubleLE(x.length, 32);
      header.writeUInt32LE(d.crc, 40);
      header.writeUInt32LE(x.crc, 44);
      header.writeUInt32LE(crc32(header.subarray(16, SNAP_HEADER)), 12);
      await writeAt(fh, header, 0);
      await fh.datasync();
      total = pos;
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
    written = true;
  } catch (e) {
    throw snapshotWriteError(file, e);
  } finally {
    if (!written) await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
  }
  fsyncDir(path.dirname(file));
  return total;
}

async function writeAt(fh: fs.promises.FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.length - off, position + off);
    off += bytesWritten;
  }
}
