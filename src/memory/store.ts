/**
 * The episodic memory store: sql.js database in memory, made durable by an
 * append-only journal of logical operations over the last snapshot.
 *
 * Write path (every mutating call): validate → build an operation carrying every
 * generated value and decision (ids, timestamps, reward, reflection, duplicate
 * and retention choices) → BEGIN → apply to the database → append the record
 * to the journal and fdatasync → COMMIT → update the search index → fire the
 * change event. A failed validation, apply or journal write rolls back: nothing
 * changes and nothing is journaled. A write is acknowledged (the promise
 * resolves) only after its record is on disk.
 *
 * Open: lock → read snapshot (database + search index + covered sequence) →
 * migrate → replay journal records after the covered sequence (dropping a torn
 * last record with a warning; all records in one transaction, index updates of
 * an episode coalesced) → ready. The database bytes read from the snapshot are
 * adopted by sql.js, not copied (see AdoptedBytes). Snapshots are taken in the background,
 * debounced, outside transactions; the journal is then cut to the records the
 * snapshot does not cover. `close()` writes a final snapshot.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { Database, SqlValue } from 'sql.js';
import type { Logger } from '../common/logger';
import { silentLogger } from '../common/logger';
import { Emitter } from '../common/disposable';
import type { Disposable } from '../common/disposable';
import type {
  AddStepInput,
  AnalyzeOptions,
  AnalyzeResult,
  CompleteEpisodeInput,
  CompleteEpisodeResult,
  CreateEpisodeInput,
  Episode,
  EpisodeSummary,
  ListOptions,
  MemoryExport,
  MemoryStoreApi,
  OpenOptions,
  Outcome,
  OutcomeType,
  Pattern,
  PatternKind,
  QueryHit,
  QueryOptions,
  QueryResult,
  Reflection,
  RetentionPolicy,
  Step,
  StoreChange,
  StoreStats,
  TaskContext,
  TaskType,
} from './types';
import { MemoryError } from './errors';
import {
  AddStepInputSchema,
  AnalyzeOptionsSchema,
  CompleteEpisodeInputSchema,
  CreateEpisodeInputSchema,
  EpisodeIdSchema,
  ListOptionsSchema,
  MemoryExportSchema,
  QueryOptionsSchema,
  RetentionPolicySchema,
  parseOrThrow,
} from './schemas';
import { configure, getMeta, loadSqlJs, migrate } from './db';
import { JournalWriter, readJournal, readSnapshot, writeSnapshot } from './files';
import type { JournalReadResult, SnapshotContents } from './files';
import { acquireLock } from './lock';
import type { Lock } from './lock';
import { SearchIndex } from './search';
import type { QueryTerm } from './search';
import { computeReward, dedupeKey, deriveReflection, extractPatterns, heuristicsFrom, isSuccess } from './learning';
import type { PatternOccurrence } from './learning';
import { queryTerms, tokenize } from './text';

const SNAPSHOT_FILE = 'snapshot.db';
const JOURNAL_FILE = 'journal.log';
const EVIDENCE_MAX = 20;
/** Journal size that triggers a snapshot sooner than the debounce. */
const JOURNAL_SNAPSHOT_BYTES = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Journal operations (each carries all generated values: replay is deterministic)
// ---------------------------------------------------------------------------

type NewEpisode = Pick<Episode, 'id' | 'task' | 'domain' | 'taskType' | 'context' | 'startedAt'>;

type OpBody =
  | { t: 'create'; ep: NewEpisode }
  | { t: 'step'; id: string; step: Step }
  | { t: 'complete'; id: string; endedAt: string; outcome: Outcome; reward: number; reflection: Reflection; dedupeKey: string; dupOf?: string }
  | { t: 'delete'; ids: string[]; reason?: 'retention' }
  | { t: 'clear' }
  | { t: 'import'; episodes: Episode[] }
  | { t: 'tools'; counts: Record<string, number> };
type Op = OpBody & { seq: number };

interface Applied {
  after: (() => void)[];
  changes: StoreChange[];
  episode?: Episode;
  patternKeys?: string[];
}

type Row = Record<string, SqlValue>;

/**
 * A view whose whole-range slice() is a view on the same memory. sql.js stores the bytes
 * given to `new Database(bytes)` in its in-memory file system with `bytes.slice()`, a copy
 * of the whole database (hundreds of MB at 100k episodes, slow to allocate and fault in),
 * and copies it again when a write first extends the file. With this view it adopts the
 * snapshot buffer, spare capacity included (the file's size stays the database's length;
 * the buffer is used by nothing else). Any other slice is a normal copy, so a different
 * sql.js still works (it copies).
 */
class AdoptedBytes extends Uint8Array<ArrayBufferLike> {
  capacity = 0;
  override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
    if ((start ?? 0) === 0 && (end ?? this.length) === this.length) {
      return new Uint8Array(this.buffer, this.byteOffset, Math.max(this.length, this.capacity)) as Uint8Array<ArrayBuffer>;
    }
    return super.slice(start, end);
  }
}

function adopt(bytes: Uint8Array, capacity: number): Uint8Array {
  const a = new AdoptedBytes(bytes.buffer, bytes.byteOffset, bytes.length);
  a.capacity = Math.min(capacity, bytes.buffer.byteLength - bytes.byteOffset);
  return a;
}

function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}

function clip(s: string, n: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

function gistOf(outcome: Outcome | undefined, reflection: Reflection | undefined): string | undefined {
  if (!outcome) return undefined;
  const base = outcome.type === 'success' || outcome.type === 'partial_success' ? outcome.verdict : outcome.reason;
  const insight = reflection?.insights.find((i) => !/^\d+ steps? in /.test(i) && !i.startsWith('Tool sequence'));
  return clip(insight && !base ? insight : base || insight || '', 200) || undefined;
}

function str(v: SqlValue | undefined): string {
  return v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v);
}
function optStr(v: SqlValue | undefined): string | undefined {
  return v === null || v === undefined ? undefined : str(v);
}
function num(v: SqlValue | undefined): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}
function parseJson<T>(v: SqlValue | undefined): T {
  return JSON.parse(jsonText(v)) as T;
}

/**
 * Large JSON columns (steps, reflection) are stored compressed: a BLOB holding a codec
 * byte (1 = raw deflate with JSON_DICT_V1 as preset dictionary) and the deflated UTF-8
 * JSON. Short values and databases written before this change hold plain JSON text;
 * both are read. The dictionary is part of the format: never edit it, add a codec.
 */
const JSON_DICT_V1 = Buffer.from(
  '[{"n":1,"timestamp":"2026-01-01T00:00:00.000Z","tool":"read_file","action":"Inspect ","parameters":{"path":"src/"},"result":{"status":"success","output":"ok"},"latencyMs":1},' +
    '{"n":2,"timestamp":"2025-","tool":"edit_file","action":"Change ","parameters":{"query":""},"result":{"status":"error","message":"TypeError: Cannot read properties of undefined"},"latencyMs":12,"tokensUsed":1}] ' +
    '{"successes":["Completed: ","run_tests succeeded 1×"],"improvements":["Step 2 (run_tests) failed: "],"insights":["Tool sequence: read_file → edit_file → run_tests","5 steps in 100 s, reward 0.75"]}',
  'utf8',
);
const COMPRESS_MIN = 160;

function packJson(value: unknown): string | Uint8Array {
  const json = JSON.stringify(value);
  if (json.length < COMPRESS_MIN) return json;
  const z = zlib.deflateRawSync(Buffer.from(json, 'utf8'), { dictionary: JSON_DICT_V1 });
  const out = new Uint8Array(z.length + 1);
  out[0] = 1;
  out.set(z, 1);
  return out;
}

function jsonText(v: SqlValue | undefined): string {
  if (v instanceof Uint8Array) {
    if (v[0] !== 1) throw new MemoryError('corrupt', `Unknown compressed column codec ${v[0]} in the memory database`);
    return zlib.inflateRawSync(v.subarray(1), { dictionary: JSON_DICT_V1 }).toString('utf8');
  }
  return str(v);
}

export class MemoryStore implements MemoryStoreApi {
  private readonly emitter = new Emitter<StoreChange>();
  readonly onDidChange: (listener: (change: StoreChange) => void) => Disposable = this.emitter.event;

  private seq = 0;
  private snapshotSeq = 0;
  private snapshotBytes = 0;
  private lastSnapshotAt?: string;
  private closed = false;
  private closing?: Promise<void>;
  private compromised?: Error;
  private snapTimer?: NodeJS.Timeout;
  private dirtySince?: number;
  private snapshotChain: Promise<void> = Promise.resolve();
  private toolPending = new Map<string, number>();
  private toolTimer?: NodeJS.Timeout;
  private retention: RetentionPolicy;
  private readonly debounceMs: number;
  private readonly dedupe: boolean;
  private readonly toolFlushMs: number;

  private constructor(
    readonly dir: string,
    private db: Database,
    private readonly index: SearchIndex,
    private journal: JournalWriter | undefined,
    private lock: Lock | undefined,
    readonly readOnly: boolean,
    private readonly logger: Logger,
    options: OpenOptions,
  ) {
    this.retention = options.retention ?? {};
    this.debounceMs = options.snapshotDebounceMs ?? 5000;
    this.dedupe = options.dedupe ?? true;
    this.toolFlushMs = options.toolUsageFlushMs ?? 2000;
  }

  // -------------------------------------------------------------------------
  // Open
  // -------------------------------------------------------------------------

  /**
   * Opens (creating if needed) the store in `options.dir`.
   * Throws MemoryError 'locked' when another process holds it (unless
   * `onLocked: 'readonly'`), 'corrupt' for a damaged snapshot or journal.
   */
  static async open(options: OpenOptions): Promise<MemoryStore> {
    if (!options || typeof options.dir !== 'string' || !options.dir) throw new MemoryError('invalid', 'OpenOptions.dir is required');
    if (options.retention) parseOrThrow(RetentionPolicySchema, options.retention, 'retention policy');
    const logger = options.logger ?? silentLogger;
    const dir = path.resolve(options.dir);
    fs.mkdirSync(dir, { recursive: true });
    const SQL = await loadSqlJs(options.wasmPath);

    let lock: Lock | undefined;
    let readOnly = false;
    let store: MemoryStore | undefined;
    const onCompromised = (err: Error): void => {
      logger.error(`memory: the lock on ${dir} was compromised: ${err.message}; the store stops accepting writes`);
      if (store) store.compromised = err;
    };
    try {
      lock = await acquireLock(dir, options.holderDescription ?? `memory store (${process.title} ${process.pid})`, logger, onCompromised, options.lockStaleMs);
    } catch (e) {
      if (e instanceof MemoryError && e.code === 'locked' && options.onLocked === 'readonly') {
        logger.info(`memory: ${e.message} Opening a read-only view.`);
        readOnly = true;
      } else throw e;
    }

    try {
      const started = Date.now();
      if (!readOnly) MemoryStore.removeStaleTemps(dir, logger);
      const snapFile = path.join(dir, SNAPSHOT_FILE);
      const journalFile = path.join(dir, JOURNAL_FILE);
      // A read-only viewer may race with the writer's snapshot + journal cut: retry until consistent.
      let snap: SnapshotContents | undefined;
      let jr: JournalReadResult;
      for (let attempt = 0; ; attempt++) {
        snap = MemoryStore.readSnapshotOrKeepAside(snapFile, logger);
        jr = readJournal(journalFile, logger);
        const first = jr.entries.find((e) => (e.payload as Op).seq > (snap?.seq ?? 0));
        const firstSeq = first ? (first.payload as Op).seq : undefined;
        if (firstSeq === undefined || firstSeq === (snap?.seq ?? 0) + 1) break;
        if (!readOnly || attempt >= 5) {
          throw new MemoryError(
            'corrupt',
            `The journal ${journalFile} does not continue the snapshot (snapshot covers up to write ${snap?.seq ?? 0}, journal resumes at ${firstSeq}): records are missing. Nothing was changed.`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }

      let db: Database;
      try {
        db = snap ? new SQL.Database(adopt(snap.db, snap.dbCapacity)) : new SQL.Database();
        configure(db);
        migrate(db);
      } catch (e) {
        if (e instanceof MemoryError) throw e;
        if (snap) MemoryStore.keepAside(snapFile, logger);
        throw new MemoryError('corrupt', `The snapshot ${snapFile} is not a readable database (${(e as Error).message}). A copy was kept aside; nothing was changed.`, { cause: e });
      }
      const index = new SearchIndex();
      let indexOk = false;
      if (snap?.index) {
        try {
          index.loadFrom(snap.index);
          indexOk = true;
        } catch (e) {
          logger.warn(`memory: could not load the search index from the snapshot (${(e as Error).message}); rebuilding`);
        }
      }
      const count = num(db.exec('SELECT COUNT(*) FROM episodes')[0]?.values[0][0]);
      if (!indexOk || index.documentCount !== count) {
        if (snap && indexOk) logger.warn('memory: search index does not match the database; rebuilding');
        index.clear();
        MemoryStore.rebuildIndex(db, index);
      }

      const journal = readOnly ? undefined : new JournalWriter(journalFile, jr.goodEnd);
      store = new MemoryStore(dir, db, index, journal, lock, readOnly, logger, options);
      store.seq = snap?.seq ?? 0;
      store.snapshotSeq = store.seq;
      store.snapshotBytes = snap?.bytes ?? 0;
      if (snap) store.lastSnapshotAt = fs.statSync(snapFile).mtime.toISOString();
      const toReplay: Op[] = [];
      let expect = store.seq;
      for (const entry of jr.entries) {
        const op = entry.payload as Op;
        if (typeof op !== 'object' || op === null || typeof op.seq !== 'number') {
          throw new MemoryError('corrupt', `The journal ${journalFile} holds a record that is not an operation; nothing was changed.`);
        }
        if (op.seq <= expect) continue;
        if (op.seq !== expect + 1) throw new MemoryError('corrupt', `The journal ${journalFile} skips from write ${expect} to ${op.seq}.`);
        toReplay.push(op);
        expect = op.seq;
      }
      store.replayAll(toReplay);
      const replayed = toReplay.length;
      logger.info(
        `memory: opened ${dir}${readOnly ? ' (read-only)' : ''}: ${index.documentCount} episodes, snapshot ${snap ? `${snap.bytes} bytes` : 'none'}, ${replayed} journal records replayed in ${Date.now() - started} ms`,
      );
      if (!readOnly) {
        if (replayed > 0 || jr.tornBytes > 0) store.scheduleSnapshot();
        store.runRetention();
      }
      return store;
    } catch (e) {
      if (lock) await lock.release().catch(() => undefined);
      throw e;
    }
  }

  /** Temp files left by a writer that died mid-snapshot or mid-journal-cut (we hold the lock). */
  private static removeStaleTemps(dir: string, logger: Logger): void {
    for (const f of fs.readdirSync(dir)) {
      if ((f.startsWith(`${SNAPSHOT_FILE}.`) && f.endsWith('.tmp')) || f === `${JOURNAL_FILE}.tmp`) {
        try {
          fs.rmSync(path.join(dir, f), { force: true });
          logger.debug(`memory: removed stale temp file ${f}`);
        } catch {
          /* ignore */
        }
      }
    }
  }

  private static readSnapshotOrKeepAside(file: string, logger: Logger): SnapshotContents | undefined {
    try {
      return readSnapshot(file, logger);
    } catch (e) {
      if (e instanceof MemoryError && e.code === 'corrupt') {
        const kept = MemoryStore.keepAside(file, logger);
        throw new MemoryError(
          'corrupt',
          `${e.message} A copy was kept at ${kept}; the snapshot was left in place and the store was not opened. ` +
            `Restore a backup, or delete ${file} to start from the journal alone.`,
        );
      }
      throw e;
    }
  }

  private static keepAside(file: string, logger: Logger): string {
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      fs.copyFileSync(file, aside);
      logger.error(`memory: corrupt snapshot copied to ${aside}`);
    } catch (e) {
      logger.error(`memory: could not copy the corrupt snapshot aside: ${(e as Error).message}`);
    }
    return aside;
  }

  private static rebuildIndex(db: Database, index: SearchIndex): void {
    const stmt = db.prepare('SELECT * FROM episodes ORDER BY started_at');
    try {
      while (stmt.step()) index.upsert(rowToEpisode(stmt.getAsObject()));
    } finally {
      stmt.free();
    }
  }

  // -------------------------------------------------------------------------
  // SQL helpers
  // -------------------------------------------------------------------------

  private all(sql: string, params: SqlValue[] = []): Row[] {
    const stmt = this.db.prepare(sql);
    try {
      stmt.bind(params);
      const rows: Row[] = [];
      while (stmt.step()) rows.push(stmt.getAsObject());
      return rows;
    } finally {
      stmt.free();
    }
  }

  private one(sql: string, params: SqlValue[] = []): Row | undefined {
    return this.all(sql, params)[0];
  }

  private run(sql: string, params: SqlValue[] = []): void {
    this.db.run(sql, params);
  }

  private loadEpisode(id: string): Episode | undefined {
    const row = this.one('SELECT * FROM episodes WHERE id = ?', [id]);
    return row ? rowToEpisode(row) : undefined;
  }

  private requireEpisode(id: string): Episode {
    const e = this.loadEpisode(id);
    if (!e) throw new MemoryError('not_found', `No episode with id "${id}"`);
    return e;
  }

  // -------------------------------------------------------------------------
  // Write path
  // -------------------------------------------------------------------------

  private ensureOpen(): void {
    if (this.closed) throw new MemoryError('closed', 'The memory store is closed');
  }

  private ensureWritable(): void {
    this.ensureOpen();
    if (this.readOnly) throw new MemoryError('read_only', `The memory store at ${this.dir} is open read-only (another process holds it)`);
    if (this.compromised) throw new MemoryError('conflict', `The lock on ${this.dir} was lost (${this.compromised.message}); reopen the store`);
  }

  private commit(body: OpBody): Applied {
    this.ensureWritable();
    const op = { ...body, seq: this.seq + 1 };
    this.db.exec('BEGIN');
    let res: Applied;
    try {
      res = this.apply(op);
      this.journal!.append(op);
      this.db.exec('COMMIT');
    } catch (e) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        /* already rolled back */
      }
      throw e;
    }
    this.seq = op.seq;
    for (const f of res.after) f();
    for (const c of res.changes) this.emitter.fire(c);
    this.scheduleSnapshot();
    return res;
  }

  /**
   * Replays journal records in one transaction (a record that fails fails the open, so
   * per-record commits bought nothing). Search index updates of the same episode are
   * coalesced: an episode created, given steps and completed in the journal is indexed
   * once, in its final state, in the order of its last write.
   */
  private replayAll(ops: Op[]): void {
    if (ops.length === 0) return;
    const upserts = new Map<string, Episode>();
    const flush = (): void => {
      for (const ep of upserts.values()) this.index.upsert(ep);
      upserts.clear();
    };
    let current: Op | undefined;
    // The latest state of these episodes is also what the database holds: later records
    // of the same episode start from it instead of reading and decoding the row again.
    this.replayed = upserts;
    this.db.exec('BEGIN');
    try {
      for (const op of ops) {
        current = op;
        const res = this.apply(op);
        this.seq = op.seq;
        if ((op.t === 'create' || op.t === 'step' || (op.t === 'complete' && !op.dupOf)) && res.episode) {
          upserts.delete(res.episode.id);
          upserts.set(res.episode.id, res.episode);
        } else {
          flush();
          for (const f of res.after) f();
        }
      }
      flush();
      this.db.exec('COMMIT');
    } catch (e) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        /* ignore */
      }
      const at = current ? `${current.seq} (${current.t})` : '?';
      throw new MemoryError('corrupt', `Journal record ${at} could not be replayed: ${(e as Error).message}`, { cause: e });
    } finally {
      this.replayed = undefined;
    }
  }

  /** Episodes replayed and not yet indexed (only during replayAll). */
  private replayed?: Map<string, Episode>;

  /** Applies an operation to the database (inside a transaction). Index updates are returned as `after`. */
  private apply(op: Op): Applied {
    switch (op.t) {
      case 'create': {
        const ep: Episode = { ...op.ep, steps: [] };
        if (this.one('SELECT 1 AS x FROM episodes WHERE id = ?', [ep.id])) throw new MemoryError('conflict', `Episode ${ep.id} already exists`);
        this.insertEpisode(ep, null);
        return { after: [() => this.index.upsert(ep)], changes: [{ type: 'episode_created', episodeId: ep.id }], episode: ep };
      }
      case 'step': {
        const ep = this.replayed?.get(op.id) ?? this.requireEpisode(op.id);
        if (ep.outcome) throw new MemoryError('invalid', `Episode ${op.id} is already completed; steps cannot be added`);
        ep.steps.push(op.step);
        this.run('UPDATE episodes SET steps = ?, step_count = ?, tools = ? WHERE id = ?', [
          packJson(ep.steps),
          ep.steps.length,
          JSON.stringify(toolsOf(ep.steps)),
          op.id,
        ]);
        return { after: [() => this.index.upsert(ep)], changes: [{ type: 'episode_updated', episodeId: op.id }], episode: ep };
      }
      case 'complete': {
        const ep = this.replayed?.get(op.id) ?? this.requireEpisode(op.id);
        if (ep.outcome) throw new MemoryError('invalid', `Episode ${op.id} is already completed`);
        if (op.dupOf) {
          const survivor = this.requireEpisode(op.dupOf);
          this.run('UPDATE episodes SET dup_count = dup_count + 1 WHERE id = ?', [op.dupOf]);
          this.run('DELETE FROM episodes WHERE id = ?', [op.id]);
          return {
            after: [() => this.index.remove(op.id)],
            changes: [
              { type: 'episode_deleted', episodeId: op.id },
              { type: 'episode_updated', episodeId: op.dupOf },
            ],
            episode: survivor,
          };
        }
        ep.endedAt = op.endedAt;
        ep.outcome = op.outcome;
        ep.reward = op.reward;
        ep.reflection = op.reflection;
        this.run('UPDATE episodes SET ended_at = ?, outcome = ?, outcome_type = ?, reward = ?, reflection = ?, gist = ?, dedupe_key = ? WHERE id = ?', [
          op.endedAt,
          JSON.stringify(op.outcome),
          op.outcome.type,
          op.reward,
          packJson(op.reflection),
          gistOf(op.outcome, op.reflection) ?? null,
          op.dedupeKey,
          op.id,
        ]);
        const keys = this.addPatterns([ep]);
        return { after: [() => this.index.upsert(ep)], changes: [{ type: 'episode_completed', episodeId: op.id }], episode: ep, patternKeys: keys };
      }
      case 'delete': {
        const removed: string[] = [];
        for (const id of op.ids) {
          const ep = this.loadEpisode(id);
          if (!ep) continue;
          if (ep.outcome) this.removePatterns(ep);
          this.run('DELETE FROM episodes WHERE id = ?', [id]);
          removed.push(id);
        }
        return {
          after: [() => removed.forEach((id) => this.index.remove(id))],
          changes: op.reason === 'retention' ? [{ type: 'retention' }] : removed.map((id) => ({ type: 'episode_deleted' as const, episodeId: id })),
        };
      }
      case 'clear':
        this.run('DELETE FROM episodes');
        this.run('DELETE FROM patterns');
        return { after: [() => this.index.clear()], changes: [{ type: 'cleared' }] };
      case 'import': {
        const exists = this.db.prepare('SELECT 1 FROM episodes WHERE id = ?');
        try {
          for (const ep of op.episodes) {
            exists.bind([ep.id]);
            const found = exists.step();
            exists.reset();
            if (found) throw new MemoryError('conflict', `Episode ${ep.id} already exists`);
            this.insertEpisode(ep, ep.outcome ? dedupeKey(ep, ep.outcome) : null);
          }
        } finally {
          exists.free();
        }
        // Same result as adding each episode's patterns in turn, with one statement per distinct key.
        this.addPatterns(op.episodes.filter((ep) => ep.outcome));
        return { after: [() => op.episodes.forEach((ep) => this.index.upsert(ep))], changes: [{ type: 'imported' }] };
      }
      case 'tools': {
        for (const [tool, n] of Object.entries(op.counts)) {
          this.run('INSERT INTO tool_usage(tool, count) VALUES (?, ?) ON CONFLICT(tool) DO UPDATE SET count = count + excluded.count', [tool, n]);
        }
        return { after: [], changes: [] };
      }
      default:
        throw new MemoryError('corrupt', `Unknown journal operation ${(op as { t: string }).t}`);
    }
  }

  private insertEpisode(ep: Episode, dKey: string | null): void {
    this.run(
      `INSERT INTO episodes(id, task, domain, task_type, context, started_at, ended_at, steps, step_count, tools, outcome, outcome_type, reward, reflection, gist, dedupe_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        ep.id,
        ep.task,
        ep.domain,
        ep.taskType,
        JSON.stringify(ep.context),
        ep.startedAt,
        ep.endedAt ?? null,
        packJson(ep.steps),
        ep.steps.length,
        JSON.stringify(toolsOf(ep.steps)),
        ep.outcome ? JSON.stringify(ep.outcome) : null,
        ep.outcome?.type ?? null,
        ep.reward ?? null,
        ep.reflection ? packJson(ep.reflection) : null,
        gistOf(ep.outcome, ep.reflection) ?? null,
        dKey,
      ],
    );
  }

  /**
   * Adds the patterns of completed episodes (in order), as if one after another:
   * occurrences, successes and latencies are summed per key, and the evidence is the
   * newest episodes first (bounded), but each key is read and written once. Returns
   * the keys touched, in the order first seen.
   */
  private addPatterns(eps: Episode[]): string[] {
    if (eps.length === 0) return [];
    interface Agg {
      first: PatternOccurrence;
      taskType: TaskType;
      domain: string;
      n: number;
      successes: number;
      lat: number;
      latN: number;
      ids: string[]; // oldest first
    }
    const byKey = new Map<string, Agg>();
    for (const ep of eps) {
      const success = isSuccess(ep.outcome) ? 1 : 0;
      for (const o of extractPatterns(ep)) {
        let a = byKey.get(o.key);
        if (!a) {
          a = { first: o, taskType: ep.taskType, domain: ep.domain, n: 0, successes: 0, lat: 0, latN: 0, ids: [] };
          byKey.set(o.key, a);
        }
        a.n++;
        a.successes += success;
        if (o.latencyMs !== undefined) {
          a.lat += o.latencyMs;
          a.latN++;
        }
        a.ids.push(ep.id);
      }
    }
    const sel = this.db.prepare('SELECT evidence FROM patterns WHERE key = ?');
    const ins = this.db.prepare(
      'INSERT INTO patterns(key, kind, description, task_type, domain, occurrences, successes, latency_sum, latency_n, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const upd = this.db.prepare(
      'UPDATE patterns SET occurrences = occurrences + ?, successes = successes + ?, latency_sum = latency_sum + ?, latency_n = latency_n + ?, evidence = ? WHERE key = ?',
    );
    try {
      for (const [key, a] of byKey) {
        sel.bind([key]);
        const found = sel.step() ? str(sel.get()[0]) : undefined;
        sel.reset();
        const newest: string[] = [];
        const seen = new Set<string>();
        for (let i = a.ids.length - 1; i >= 0 && newest.length < EVIDENCE_MAX; i--) {
          if (seen.has(a.ids[i])) continue;
          seen.add(a.ids[i]);
          newest.push(a.ids[i]);
        }
        if (found === undefined) {
          ins.run([key, a.first.kind, a.first.description, a.taskType, a.domain, a.n, a.successes, a.lat, a.latN, newest.join(' ')]);
        } else {
          const ev = [...newest, ...found.split(' ').filter((x) => x && !seen.has(x))].slice(0, EVIDENCE_MAX).join(' ');
          upd.run([a.n, a.successes, a.lat, a.latN, ev, key]);
        }
      }
    } finally {
      sel.free();
      ins.free();
      upd.free();
    }
    return [...byKey.keys()];
  }

  private removePatterns(ep: Episode): void {
    const success = isSuccess(ep.outcome) ? 1 : 0;
    for (const o of extractPatterns(ep)) {
      const row = this.one('SELECT occurrences, evidence FROM patterns WHERE key = ?', [o.key]);
      if (!row) continue;
      if (num(row.occurrences) <= 1) {
        this.run('DELETE FROM patterns WHERE key = ?', [o.key]);
        continue;
      }
      const ev = str(row.evidence)
        .split(' ')
        .filter((x) => x && x !== ep.id)
        .join(' ');
      this.run(
        'UPDATE patterns SET occurrences = occurrences - 1, successes = MAX(0, successes - ?), latency_sum = latency_sum - ?, latency_n = MAX(0, latency_n - ?), evidence = ? WHERE key = ?',
        [success, o.latencyMs ?? 0, o.latencyMs === undefined ? 0 : 1, ev, o.key],
      );
    }
  }

  // -------------------------------------------------------------------------
  // Snapshots
  // -------------------------------------------------------------------------

  private scheduleSnapshot(): void {
    if (this.readOnly || this.closed) return;
    const now = Date.now();
    this.dirtySince ??= now;
    if (this.snapTimer) clearTimeout(this.snapTimer);
    const bigJournal = (this.journal?.size ?? 0) > JOURNAL_SNAPSHOT_BYTES;
    // Debounced, but never postponed beyond 10 debounce periods after the first unsaved write.
    const delay = bigJournal ? 0 : Math.max(0, Math.min(this.debounceMs, this.dirtySince + this.debounceMs * 10 - now));
    this.snapTimer = setTimeout(() => {
      this.snapTimer = undefined;
      this.snapshot().catch((e: unknown) => this.logger.error(`memory: background snapshot failed: ${(e as Error).message}`));
    }, delay);
    this.snapTimer.unref();
  }

  /** Writes a snapshot now (if anything changed since the last one) and cuts the journal. */
  snapshot(): Promise<void> {
    const next = this.snapshotChain.then(() => this.snapshotNow());
    this.snapshotChain = next.catch(() => undefined);
    return next;
  }

  private async snapshotNow(): Promise<void> {
    if (this.readOnly || !this.journal || this.seq === this.snapshotSeq) return;
    const started = Date.now();
    this.dirtySince = undefined;
    const seq = this.seq;
    const journalOffset = this.journal.size;
    // Synchronous and outside any transaction (all transactions are synchronous too).
    const dbBytes = this.db.export();
    configure(this.db); // export() reopens the connection and loses pragmas
    const indexBytes = this.index.serialize();
    const exportMs = Date.now() - started;
    const bytes = await writeSnapshot(path.join(this.dir, SNAPSHOT_FILE), seq, dbBytes, indexBytes);
    if (!this.journal) return; // closed meanwhile (close awaits the chain, so only on failure paths)
    this.journal.compact(journalOffset);
    this.snapshotSeq = seq;
    this.snapshotBytes = bytes;
    this.lastSnapshotAt = new Date().toISOString();
    this.logger.debug(`memory: snapshot at write ${seq}: ${bytes} bytes, export+serialize ${exportMs} ms, total ${Date.now() - started} ms`);
  }

  // -------------------------------------------------------------------------
  // Public API: episodes
  // -------------------------------------------------------------------------

  createEpisode(input: CreateEpisodeInput): Promise<Episode> {
    return this.guard(() => {
      this.ensureWritable();
      const v = parseOrThrow(CreateEpisodeInputSchema, input, 'episode');
      const ep: NewEpisode = {
        id: newId('ep'),
        task: v.task,
        domain: v.domain,
        taskType: v.taskType,
        context: { ...v.context, tags: v.context?.tags ?? [] },
        startedAt: new Date().toISOString(),
      };
      this.commit({ t: 'create', ep });
      this.runRetentionSoon();
      return { ...ep, steps: [] };
    });
  }

  addStep(episodeId: string, step: AddStepInput): Promise<Step> {
    return this.guard(() => {
      this.ensureWritable();
      const id = parseOrThrow(EpisodeIdSchema, episodeId, 'episode id');
      const v = parseOrThrow(AddStepInputSchema, step, 'step');
      const row = this.one('SELECT step_count, outcome_type FROM episodes WHERE id = ?', [id]);
      if (!row) throw new MemoryError('not_found', `No episode with id "${id}"`);
      if (row.outcome_type !== null) throw new MemoryError('invalid', `Episode ${id} is already completed; steps cannot be added`);
      const s: Step = {
        n: num(row.step_count) + 1,
        timestamp: new Date().toISOString(),
        tool: v.tool,
        action: v.action,
        parameters: v.parameters ?? {},
        result: v.result,
        ...(v.latencyMs !== undefined ? { latencyMs: v.latencyMs } : {}),
        ...(v.tokensUsed !== undefined ? { tokensUsed: v.tokensUsed } : {}),
      };
      this.commit({ t: 'step', id, step: s });
      return s;
    });
  }

  completeEpisode(episodeId: string, input: CompleteEpisodeInput): Promise<CompleteEpisodeResult> {
    return this.guard(() => {
      this.ensureWritable();
      const id = parseOrThrow(EpisodeIdSchema, episodeId, 'episode id');
      const v = parseOrThrow(CompleteEpisodeInputSchema, input, 'completion');
      const ep = this.requireEpisode(id);
      if (ep.outcome) throw new MemoryError('invalid', `Episode ${id} is already completed`);
      const endedAt = new Date(Math.max(Date.now(), Date.parse(ep.startedAt))).toISOString();
      const reward = computeReward(v.outcome, ep.steps, ep.startedAt, endedAt);
      const reflection = v.reflection ?? deriveReflection(ep, v.outcome, endedAt, reward);
      const dKey = dedupeKey(ep, v.outcome);
      const dup = this.dedupe
        ? this.one('SELECT id FROM episodes WHERE dedupe_key = ? AND id <> ? AND outcome_type IS NOT NULL ORDER BY started_at LIMIT 1', [dKey, id])
        : undefined;
      const res = this.commit({ t: 'complete', id, endedAt, outcome: v.outcome, reward, reflection, dedupeKey: dKey, ...(dup ? { dupOf: str(dup.id) } : {}) });
      this.runRetention();
      if (dup) return { episode: res.episode!, reward, reflection, patterns: [], duplicateOf: str(dup.id) };
      const patterns = (res.patternKeys ?? []).map((k) => this.one('SELECT * FROM patterns WHERE key = ?', [k])).filter((r): r is Row => !!r).map(rowToPattern);
      return { episode: res.episode!, reward, reflection, patterns };
    });
  }

  getEpisode(id: string): Promise<Episode | undefined> {
    return this.guard(() => {
      this.ensureOpen();
      if (typeof id !== 'string') throw new MemoryError('invalid', 'Episode id must be a string');
      return this.loadEpisode(id);
    });
  }

  deleteEpisode(id: string): Promise<boolean> {
    return this.guard(() => {
      this.ensureWritable();
      const v = parseOrThrow(EpisodeIdSchema, id, 'episode id');
      if (!this.one('SELECT 1 AS x FROM episodes WHERE id = ?', [v])) return false;
      this.commit({ t: 'delete', ids: [v] });
      return true;
    });
  }

  clear(): Promise<void> {
    return this.guard(() => {
      this.ensureWritable();
      this.commit({ t: 'clear' });
    });
  }

  listEpisodes(options: ListOptions = {}): Promise<{ episodes: EpisodeSummary[]; total: number }> {
    return this.guard(() => {
      this.ensureOpen();
      const o = parseOrThrow(ListOptionsSchema, options, 'list options');
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (o.domain !== undefined) {
        where.push('domain = ?');
        params.push(o.domain);
      }
      if (o.taskType !== undefined) {
        where.push('task_type = ?');
        params.push(o.taskType);
      }
      if (o.outcome !== undefined) {
        where.push('outcome_type = ?');
        params.push(o.outcome);
      }
      const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const total = num(this.one(`SELECT COUNT(*) AS n FROM episodes ${w}`, params)?.n);
      const rows = this.all(`SELECT ${SUMMARY_COLS} FROM episodes ${w} ORDER BY started_at DESC, id LIMIT ? OFFSET ?`, [...params, o.limit, o.offset]);
      return { episodes: rows.map(rowToSummary), total };
    });
  }

  // -------------------------------------------------------------------------
  // Retrieval
  // -------------------------------------------------------------------------

  query(options: QueryOptions): Promise<QueryResult> {
    return this.guard(() => {
      this.ensureOpen();
      const o = parseOrThrow(QueryOptionsSchema, options, 'query');
      const now = Date.now();
      const filter = {
        domain: o.domain,
        taskType: o.taskType,
        outcome: o.outcome,
        sinceMs: o.since ? Date.parse(o.since) : undefined,
        untilMs: o.until ? Date.parse(o.until) : undefined,
      };
      const ctx = { ...o.context };
      const base = queryTerms(o.query);
      const terms: QueryTerm[] = base.map((t) => ({ term: t, weight: 1 }));
      const seen = new Set(base);
      for (const x of o.expansions ?? []) {
        for (const t of queryTerms(x)) {
          if (seen.has(t)) continue;
          seen.add(t);
          terms.push({ term: t, weight: 0.6, expansion: true });
        }
      }
      // Pseudo-relevance feedback: the strongest key terms shared by the top episodes
      // of a first pass are added with a low weight (closes vocabulary gaps using
      // associations the store has learned from its own episodes).
      if (base.length > 0 && this.index.documentCount > 3) {
        // The first pass keeps its accumulated scores: the final ranking only adds the feedback terms.
        const first = this.index.rank(terms, filter, ctx, 3, 0, now, { keep: true, accumulateFor: { limit: o.limit, offset: o.offset } });
        const top = first.hits.filter((h) => h.text > 0.3).slice(0, 3);
        if (top.length > 0) {
          const counts = new Map<string, number>();
          // Key terms from the task, outcome and reflection (which quotes the errors): cheap, no step parsing.
          const rows = this.all(`SELECT id, task, outcome, reflection FROM episodes WHERE id IN (${top.map(() => '?').join(',')})`, top.map((h) => h.id));
          for (const r of rows) {
            const text = `${str(r.task)}\n${str(r.outcome)}\n${jsonText(r.reflection)}`;
            for (const t of this.index.keyTermsOfText(text, 12)) if (!seen.has(t)) counts.set(t, (counts.get(t) ?? 0) + 1);
          }
          const need = top.length >= 2 ? 2 : 1;
          const extra = [...counts.entries()]
            .filter(([, n]) => n >= need)
            .sort((a, b) => b[1] - a[1] || this.index.idf(b[0]) - this.index.idf(a[0]))
            .slice(0, 5);
          for (const [t] of extra) {
            seen.add(t);
            terms.push({ term: t, weight: 0.3, expansion: true });
          }
        }
      }
      const { hits, total } = this.index.rank(terms, filter, ctx, o.limit, o.offset, now, { resume: true });
      const rows = hits.length ? this.all(`SELECT ${SUMMARY_COLS} FROM episodes WHERE id IN (${hits.map(() => '?').join(',')})`, hits.map((h) => h.id)) : [];
      const byId = new Map(rows.map((r) => [str(r.id), rowToSummary(r)]));
      const out: QueryHit[] = [];
      for (const h of hits) {
        const summary = byId.get(h.id);
        if (!summary) continue;
        const why: string[] = [];
        const direct = h.matched.filter((m) => !m.startsWith('~'));
        const via = h.matched.filter((m) => m.startsWith('~')).map((m) => m.slice(1));
        if (direct.length) {
          const taskTerms = new Set(tokenize(summary.task));
          const inTask = direct.filter((t) => taskTerms.has(t));
          const elsewhere = direct.filter((t) => !taskTerms.has(t));
          const parts: string[] = [];
          if (inTask.length) parts.push(`${inTask.join(', ')} in the task`);
          if (elsewhere.length) parts.push(`${elsewhere.join(', ')} in steps/outcome/reflection`);
          why.push(`matched ${parts.join('; ')} (text ${h.text})`);
        }
        if (via.length) why.push(`related terms: ${via.join(', ')}`);
        if (h.contextMatches.length) why.push(`context: ${h.contextMatches.join(', ')}`);
        if (summary.outcome) why.push(`${summary.outcome}, reward ${(summary.reward ?? 0).toFixed(2)}`);
        else why.push('in progress');
        const days = (now - Date.parse(summary.startedAt)) / 86_400_000;
        why.push(days < 1 ? 'recent (today)' : `${Math.round(days)} days ago`);
        if (h.nearDuplicateOf) why.push(`near-duplicate of ${h.nearDuplicateOf} (ranked lower)`);
        out.push({ episode: summary, score: h.score, why });
      }
      const expanded = terms.filter((t) => t.expansion).map((t) => t.term);
      return { hits: out, total, expandedTerms: [...base, ...expanded] };
    });
  }

  // -------------------------------------------------------------------------
  // Learning
  // -------------------------------------------------------------------------

  analyzePatterns(options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    return this.guard(() => {
      this.ensureOpen();
      const o = parseOrThrow(AnalyzeOptionsSchema, options, 'analyze options');
      const where = ['CAST(successes AS REAL) / occurrences >= ? - 1e-9'];
      const params: SqlValue[] = [o.minSuccessRate];
      if (o.taskType !== undefined) {
        where.push('task_type = ?');
        params.push(o.taskType);
      }
      if (o.domain !== undefined) {
        where.push('domain = ?');
        params.push(o.domain);
      }
      // Walk the occurrences index from the top and stop once `limit` rows are collected and
      // the next row has less evidence (no full sort of a large pattern table); ties are
      // then ordered by success rate and key.
      const rows: Row[] = [];
      const stmt = this.db.prepare(`SELECT * FROM patterns INDEXED BY patterns_occ WHERE ${where.join(' AND ')} ORDER BY occurrences DESC`);
      try {
        stmt.bind(params);
        while (stmt.step()) {
          const r = stmt.getAsObject();
          if (rows.length >= o.limit && num(r.occurrences) < num(rows[rows.length - 1].occurrences)) break;
          rows.push(r);
        }
      } finally {
        stmt.free();
      }
      const rate = (r: Row): number => num(r.successes) / Math.max(1, num(r.occurrences));
      rows.sort((a, b) => num(b.occurrences) - num(a.occurrences) || rate(b) - rate(a) || (str(a.key) < str(b.key) ? -1 : 1));
      rows.length = Math.min(rows.length, o.limit);
      const patterns = rows.map(rowToPattern);
      return { patterns, heuristics: heuristicsFrom(patterns) };
    });
  }

  listPatterns(options: { kind?: PatternKind; limit?: number } = {}): Promise<Pattern[]> {
    return this.guard(() => {
      this.ensureOpen();
      const kinds: PatternKind[] = ['tool_sequence', 'error_recovery', 'decision_point', 'context_pattern'];
      if (options.kind !== undefined && !kinds.includes(options.kind)) throw new MemoryError('invalid', `Unknown pattern kind "${String(options.kind)}"`);
      const limit = options.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new MemoryError('invalid', 'limit must be an integer from 1 to 1000');
      const rows = options.kind
        ? this.all('SELECT * FROM patterns WHERE kind = ? ORDER BY occurrences DESC, key LIMIT ?', [options.kind, limit])
        : this.all('SELECT * FROM patterns ORDER BY occurrences DESC, key LIMIT ?', [limit]);
      return rows.map(rowToPattern);
    });
  }

  // -------------------------------------------------------------------------
  // Housekeeping
  // -------------------------------------------------------------------------

  exportAll(): Promise<MemoryExport> {
    return this.guard(() => {
      this.ensureOpen();
      const episodes: Episode[] = [];
      const stmt = this.db.prepare('SELECT * FROM episodes ORDER BY started_at, id');
      try {
        while (stmt.step()) episodes.push(rowToEpisode(stmt.getAsObject()));
      } finally {
        stmt.free();
      }
      return { format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes };
    });
  }

  importAll(data: unknown): Promise<{ imported: number; skipped: number }> {
    return this.guard(() => {
      this.ensureWritable();
      const v = parseOrThrow(MemoryExportSchema, data, 'memory export');
      const fresh: Episode[] = [];
      const ids = new Set<string>();
      let skipped = 0;
      const exists = this.db.prepare('SELECT 1 FROM episodes WHERE id = ?');
      const inDb = (id: string): boolean => {
        exists.bind([id]);
        const r = exists.step();
        exists.reset();
        return r;
      };
      try {
        for (const e of v.episodes) {
          if (ids.has(e.id) || this.index.has(e.id) || inDb(e.id)) {
            skipped++;
            continue;
          }
          ids.add(e.id);
          const ep: Episode = {
            ...e,
            startedAt: new Date(e.startedAt).toISOString(),
            ...(e.endedAt ? { endedAt: new Date(e.endedAt).toISOString() } : {}),
            steps: e.steps.map((s, i) => ({ ...s, n: i + 1 })),
          };
          if (ep.outcome) {
            ep.endedAt ??= ep.startedAt;
            ep.reward ??= computeReward(ep.outcome, ep.steps, ep.startedAt, ep.endedAt);
            ep.reflection ??= deriveReflection(ep, ep.outcome, ep.endedAt, ep.reward);
          }
          fresh.push(ep);
        }
      } finally {
        exists.free();
      }
      if (fresh.length) this.commit({ t: 'import', episodes: fresh });
      this.runRetention();
      return { imported: fresh.length, skipped };
    });
  }

  stats(): Promise<StoreStats> {
    return this.guard(() => {
      this.ensureOpen();
      const c = this.one(
        "SELECT COUNT(*) AS n, COUNT(outcome_type) AS done, COALESCE(SUM(step_count), 0) AS steps, (SELECT COUNT(*) FROM patterns) AS patterns FROM episodes",
      )!;
      const byDomain: Record<string, number> = {};
      for (const r of this.all('SELECT domain, COUNT(*) AS n FROM episodes GROUP BY domain')) byDomain[str(r.domain)] = num(r.n);
      const byOutcome: Record<string, number> = {};
      for (const r of this.all("SELECT COALESCE(outcome_type, 'in_progress') AS o, COUNT(*) AS n FROM episodes GROUP BY o")) byOutcome[str(r.o)] = num(r.n);
      const pageCount = num(this.db.exec('PRAGMA page_count')[0]?.values[0][0]);
      const pageSize = num(this.db.exec('PRAGMA page_size')[0]?.values[0][0]);
      let journalBytes = this.journal?.size ?? 0;
      if (!this.journal) {
        try {
          journalBytes = fs.statSync(path.join(this.dir, JOURNAL_FILE)).size;
        } catch {
          journalBytes = 0;
        }
      }
      return {
        episodes: num(c.n),
        completedEpisodes: num(c.done),
        steps: num(c.steps),
        patterns: num(c.patterns),
        byDomain,
        byOutcome,
        databaseBytes: pageCount * pageSize,
        journalBytes,
        lastSnapshotAt: this.lastSnapshotAt,
        readOnly: this.readOnly,
        snapshotBytes: this.snapshotBytes,
        indexTerms: this.index.termCount,
        sequence: this.seq,
      };
    });
  }

  setRetention(policy: RetentionPolicy): void {
    this.retention = parseOrThrow(RetentionPolicySchema, policy, 'retention policy');
    if (!this.readOnly && !this.closed) this.runRetention();
  }

  private retentionTimer?: NodeJS.Timeout;
  private runRetentionSoon(): void {
    if (this.retention.maxEpisodes === undefined || this.index.documentCount <= this.retention.maxEpisodes || this.retentionTimer) return;
    this.retentionTimer = setTimeout(() => {
      this.retentionTimer = undefined;
      if (!this.closed) this.runRetention();
    }, 0);
    this.retentionTimer.unref();
  }

  /**
   * Retention: episodes older than maxAgeDays go; then, above maxEpisodes, the
   * least useful go first, usefulness = 0.6 × reward + 0.4 × 0.5^(age days / 30)
   * (in-progress episodes count reward 0; ones started in the last day are kept).
   * The chosen ids are journaled, so replay does not depend on the clock.
   */
  private runRetention(): void {
    const { maxEpisodes, maxAgeDays } = this.retention;
    if (maxEpisodes === undefined && maxAgeDays === undefined) return;
    if (this.readOnly || this.closed || this.compromised) return;
    try {
      const now = Date.now();
      const victims = new Set<string>();
      if (maxAgeDays !== undefined) {
        const cutoff = new Date(now - maxAgeDays * 86_400_000).toISOString();
        for (const r of this.all('SELECT id FROM episodes WHERE started_at < ?', [cutoff])) victims.add(str(r.id));
      }
      if (maxEpisodes !== undefined) {
        const excess = this.index.documentCount - victims.size - maxEpisodes;
        if (excess > 0) {
          const recent = new Date(now - 86_400_000).toISOString();
          const nowJd = now / 86_400_000 + 2440587.5;
          const rows = this.all(
            `SELECT id FROM episodes WHERE NOT (outcome_type IS NULL AND started_at >= ?)
             ORDER BY (0.6 * COALESCE(reward, 0) + 0.4 * pow(0.5, (? - julianday(started_at)) / 30.0)) ASC, started_at ASC, id
             LIMIT ?`,
            [recent, nowJd, excess + victims.size],
          );
          let n = 0;
          for (const r of rows) {
            if (n >= excess) break;
            const id = str(r.id);
            if (victims.has(id)) continue;
            victims.add(id);
            n++;
          }
        }
      }
      if (victims.size) {
        this.commit({ t: 'delete', ids: [...victims], reason: 'retention' });
        this.logger.info(`memory: retention removed ${victims.size} episodes`);
      }
    } catch (e) {
      this.logger.error(`memory: retention failed: ${(e as Error).message}`);
    }
  }

  // -------------------------------------------------------------------------
  // Tool usage counters
  // -------------------------------------------------------------------------

  /**
   * Counts a tool call. Counters are frequent and less critical than episodes,
   * so they are batched: kept in memory and journaled as one record every
   * `toolUsageFlushMs` (and on close). A crash loses at most that window of
   * counts. In a read-only view they are counted in memory only.
   */
  recordToolCall(tool: string): Promise<void> {
    return this.guard(() => {
      this.ensureOpen();
      if (typeof tool !== 'string' || !tool.trim() || tool.length > 200) throw new MemoryError('invalid', 'tool must be a non-empty string of at most 200 characters');
      this.toolPending.set(tool, (this.toolPending.get(tool) ?? 0) + 1);
      if (!this.readOnly && !this.toolTimer) {
        this.toolTimer = setTimeout(() => {
          this.toolTimer = undefined;
          this.flushTools();
        }, this.toolFlushMs);
        this.toolTimer.unref();
      }
    });
  }

  private flushTools(): void {
    if (this.readOnly || this.closed || this.toolPending.size === 0 || this.compromised) return;
    const counts = Object.fromEntries(this.toolPending);
    try {
      this.commit({ t: 'tools', counts });
      this.toolPending.clear();
    } catch (e) {
      this.logger.warn(`memory: could not save tool usage counters: ${(e as Error).message}`);
    }
  }

  toolUsage(): Promise<Record<string, number>> {
    return this.guard(() => {
      this.ensureOpen();
      const out: Record<string, number> = {};
      for (const r of this.all('SELECT tool, count FROM tool_usage')) out[str(r.tool)] = num(r.count);
      for (const [t, n] of this.toolPending) out[t] = (out[t] ?? 0) + n;
      return out;
    });
  }

  // -------------------------------------------------------------------------
  // Lifecycle
  // -------------------------------------------------------------------------

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.closed) return;
    if (this.snapTimer) clearTimeout(this.snapTimer);
    if (this.toolTimer) clearTimeout(this.toolTimer);
    if (this.retentionTimer) clearTimeout(this.retentionTimer);
    this.snapTimer = this.toolTimer = this.retentionTimer = undefined;
    try {
      if (!this.readOnly && !this.compromised) {
        this.flushTools();
        await this.snapshot().catch((e: unknown) => this.logger.error(`memory: final snapshot failed (the journal keeps every write): ${(e as Error).message}`));
      }
    } finally {
      this.closed = true;
      try {
        this.journal?.close();
      } catch (e) {
        this.logger.warn(`memory: closing the journal: ${(e as Error).message}`);
      }
      this.journal = undefined;
      this.db.close();
      this.emitter.dispose();
      if (this.lock) {
        await this.lock.release().catch((e: unknown) => this.logger.warn(`memory: releasing the lock: ${(e as Error).message}`));
        this.lock = undefined;
      }
    }
  }

  dispose(): void {
    this.close().catch((e: unknown) => this.logger.error(`memory: close failed: ${(e as Error).message}`));
  }

  /** Runs synchronous work as a promise (errors become rejections, never sync throws). */
  private guard<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }
}

// ---------------------------------------------------------------------------
// Row mapping
// ---------------------------------------------------------------------------

const SUMMARY_COLS = 'id, task, domain, task_type, outcome_type, reward, step_count, tools, started_at, ended_at, gist';

function toolsOf(steps: Step[]): string[] {
  return [...new Set(steps.map((s) => s.tool))];
}

function rowToEpisode(r: Row): Episode {
  const ep: Episode = {
    id: str(r.id),
    task: str(r.task),
    domain: str(r.domain),
    taskType: str(r.task_type) as TaskType,
    context: parseJson<TaskContext>(r.context),
    startedAt: str(r.started_at),
    steps: parseJson<Step[]>(r.steps),
  };
  if (r.ended_at !== null && r.ended_at !== undefined) ep.endedAt = str(r.ended_at);
  if (r.outcome !== null && r.outcome !== undefined) ep.outcome = parseJson<Outcome>(r.outcome);
  if (r.reward !== null && r.reward !== undefined) ep.reward = num(r.reward);
  if (r.reflection !== null && r.reflection !== undefined) ep.reflection = parseJson<Reflection>(r.reflection);
  return ep;
}

function rowToSummary(r: Row): EpisodeSummary {
  const s: EpisodeSummary = {
    id: str(r.id),
    task: clip(str(r.task), 300),
    domain: str(r.domain),
    taskType: str(r.task_type) as TaskType,
    stepCount: num(r.step_count),
    tools: parseJson<string[]>(r.tools),
    startedAt: str(r.started_at),
  };
  const o = optStr(r.outcome_type);
  if (o) s.outcome = o as OutcomeType;
  if (r.reward !== null && r.reward !== undefined) s.reward = num(r.reward);
  const e = optStr(r.ended_at);
  if (e) s.endedAt = e;
  const g = optStr(r.gist);
  if (g) s.gist = g;
  return s;
}

function rowToPattern(r: Row): Pattern {
  const occ = num(r.occurrences);
  const p: Pattern = {
    id: str(r.key),
    kind: str(r.kind) as PatternKind,
    description: str(r.description),
    taskType: str(r.task_type) as TaskType,
    domain: str(r.domain),
    successRate: occ ? Math.round((num(r.successes) / occ) * 1e4) / 1e4 : 0,
    occurrences: occ,
    evidence: str(r.evidence).split(' ').filter(Boolean),
  };
  const ln = num(r.latency_n);
  if (ln > 0) p.avgLatencyMs = Math.round((num(r.latency_sum) / ln) * 10) / 10;
  return p;
}

/** Internal: read the meta table (tests). */
export function _schemaVersion(store: MemoryStore): string | undefined {
  return getMeta((store as unknown as { db: Database }).db, 'schema_version');
}
