/**
 * The episodic memory store: sql.js database in memory, made durable by an
 * append-only journal of logical operations over the last snapshot.
 *
 * Write path (every mutating call): validate → build an operation carrying every
 * generated value and decision (operations.ts) → BEGIN → apply to the database →
 * append the record to the journal and fdatasync → COMMIT → update the search
 * index → fire the change event. A failed validation, apply or journal write rolls
 * back: nothing changes and nothing is journaled. A write is acknowledged (the
 * promise resolves) only after its record is on disk.
 *
 * Open (open.ts): lock → read snapshot (database + search index + covered sequence)
 * → migrate → replay journal records after the covered sequence (dropping a torn
 * last record with a warning; all records in one transaction, index updates of an
 * episode coalesced) → ready. Snapshots are taken in the background, debounced,
 * outside transactions; the journal is then cut to the records the snapshot does
 * not cover. `close()` writes a final snapshot.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Database } from 'sql.js';
import type { Logger } from '../../common/logger';
import { silentLogger } from '../../common/logger';
import { Emitter } from '../../common/disposable';
import type { Disposable } from '../../common/disposable';
import type {
  AddStepInput,
  AnalyzeOptions,
  AnalyzeResult,
  CompleteEpisodeInput,
  CompleteEpisodeResult,
  CreateEpisodeInput,
  Episode,
  EpisodeGroups,
  EpisodePage,
  EpisodeSummary,
  ExportPage,
  ExportPageOptions,
  ImportOptions,
  InsightsOptions,
  ListOptions,
  MemoryExport,
  MemoryInsights,
  MemoryStoreApi,
  OpenOptions,
  Pattern,
  PatternKind,
  QueryOptions,
  QueryResult,
  RetentionPolicy,
  Step,
  StepPage,
  StoreChange,
  StoreStats,
} from '../types';
import { MemoryError } from '../errors';
import {
  AddStepInputSchema,
  AnalyzeOptionsSchema,
  CompleteEpisodeInputSchema,
  CreateEpisodeInputSchema,
  EpisodeIdListSchema,
  EpisodeIdSchema,
  ExportPageOptionsSchema,
  InsightsOptionsSchema,
  ListOptionsSchema,
  MemoryExportSchema,
  QueryOptionsSchema,
  RetentionPolicySchema,
  StepPageSchema,
  parseOrThrow,
} from '../schemas';
import { JournalWriter, writeSnapshot } from '../files';
import { lockForOpen, releaseLock } from '../lock';
import type { Lock } from '../lock';
import type { SearchIndex } from '../search';
import { computeReward, deriveReflection } from '../learning';
import { allEpisodes, episodePage, freshImports } from './exchange';
import { JOURNAL_FILE, SNAPSHOT_FILE, openDatabase, openIndex, opsAfter, readConsistent, removeStaleTemps } from './open';
import { applyOp, loadEpisode, loadEpisodePage, requireEpisode } from './operations';
import { LIMITS } from '../limits';
import { mergePhrasings } from '../phrasings';
import type { Applied, NewEpisode, Op, OpBody } from './operations';
import { episodeGroups, insights } from './aggregates';
import { listPatternRows, patternById, patternsByKeys, patternsOfEpisode, strongestPatterns } from './patterns';
import { retentionVictims } from './retention';
import { runQuery } from './retrieval';
import { FOLLOW_INTERVAL_MS, JournalFollower } from './follow';
import type { FollowStep } from './follow';
import { rowToSummary, SUMMARY_COLS } from './rows';
import { configure, getMeta, loadSqlJs } from './schema';
import { all, num, one, str } from './sql';
import type { SqlValue } from 'sql.js';

/** Journal size that triggers a snapshot sooner than the debounce. */
const JOURNAL_SNAPSHOT_BYTES = 64 * 1024 * 1024;

function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
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
  private retentionTimer?: NodeJS.Timeout;
  private retention: RetentionPolicy;
  private readonly debounceMs: number;
  private readonly toolFlushMs: number;
  private follower?: { journal: JournalFollower; timer: NodeJS.Timeout; busy: boolean };

  private constructor(
    readonly dir: string,
    private db: Database,
    private index: SearchIndex,
    private journal: JournalWriter | undefined,
    private lock: Lock | undefined,
    readonly readOnly: boolean,
    private readonly logger: Logger,
    private readonly options: OpenOptions,
  ) {
    this.retention = options.retention ?? {};
    this.debounceMs = options.snapshotDebounceMs ?? 5000;
    this.toolFlushMs = options.toolUsageFlushMs ?? 2000;
  }

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

    let store: MemoryStore | undefined;
    const { lock, readOnly } = await lockForOpen(dir, options, logger, (err) => store?.markLockLost(err));

    try {
      const started = Date.now();
      if (!readOnly) removeStaleTemps(dir, logger);
      const { snap, journal: jr } = await readConsistent(dir, readOnly, logger);
      const db = openDatabase(SQL, snap, dir, logger);
      const index = openIndex(db, snap, logger, options.retrieval);
      const journal = readOnly ? undefined : new JournalWriter(path.join(dir, JOURNAL_FILE), jr.goodEnd);
      store = new MemoryStore(dir, db, index, journal, lock, readOnly, logger, options);
      store.seq = snap?.seq ?? 0;
      store.snapshotSeq = store.seq;
      store.snapshotBytes = snap?.bytes ?? 0;
      if (snap) store.lastSnapshotAt = fs.statSync(path.join(dir, SNAPSHOT_FILE)).mtime.toISOString();
      const toReplay = opsAfter(jr, store.seq, dir);
      store.replayAll(toReplay);
      logger.info(
        `memory: opened ${dir}${readOnly ? ' (read-only)' : ''}: ${index.documentCount} episodes, snapshot ${snap ? `${snap.bytes} bytes` : 'none'}, ${toReplay.length} journal records replayed in ${Date.now() - started} ms`,
      );
      if (!readOnly) {
        if (toReplay.length > 0 || jr.tornBytes > 0) store.scheduleSnapshot();
        store.runRetention();
      } else store.followWriter();
      return store;
    } catch (e) {
      if (lock) await lock.release().catch(() => undefined);
      throw e;
    }
  }

  /** The lock held by the caller (`access: 'held'`) was lost: stop accepting writes. */
  markLockLost(err: Error): void {
    this.compromised ??= err;
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
      res = applyOp(this.db, this.index, op);
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
   * per-record commits bought nothing). Index updates are incremental (a step record adds
   * that step's terms only), so they run record by record.
   */
  private replayAll(ops: Op[]): StoreChange[] {
    const changes: StoreChange[] = [];
    if (ops.length === 0) return changes;
    let current: Op | undefined;
    this.db.exec('BEGIN');
    try {
      for (const op of ops) {
        current = op;
        const res = applyOp(this.db, this.index, op);
        this.seq = op.seq;
        for (const f of res.after) f();
        changes.push(...res.changes);
      }
      this.db.exec('COMMIT');
      return changes;
    } catch (e) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        /* ignore */
      }
      const at = current ? `${current.seq} (${current.t})` : '?';
      throw new MemoryError('corrupt', `Journal record ${at} could not be replayed: ${(e as Error).message}`, { cause: e });
    }
  }

  // -------------------------------------------------------------------------
  // Read-only: following the writer (follow.ts)
  // -------------------------------------------------------------------------

  private followWriter(): void {
    const f = { journal: new JournalFollower(this.dir), timer: setInterval(() => this.catchUp(), FOLLOW_INTERVAL_MS), busy: false };
    f.timer.unref();
    this.follower = f;
  }

  /** Applies the writer's new records (firing their change events), or reloads when they are past the journal. */
  private catchUp(): void {
    const f = this.follower;
    if (!f || f.busy || this.closed) return;
    let step: FollowStep;
    try {
      step = f.journal.poll(this.seq);
      if (step.kind === 'ops') {
        for (const c of this.replayAll(step.ops)) this.emitter.fire(c);
        return;
      }
    } catch (e) {
      this.logger.warn(`memory: following the writer's journal failed (${(e as Error).message}); reloading from the snapshot`);
      step = { kind: 'reload' };
    }
    if (step.kind !== 'reload') return;
    f.busy = true;
    this.reload()
      .then(() => this.emitter.fire({ type: 'imported' }))
      .catch((e: unknown) => this.logger.error(`memory: reloading ${this.dir} failed (the view keeps what it had): ${(e as Error).message}`))
      .finally(() => (f.busy = false));
  }

  /** Replaces the database and index with the files' current state (a read-only store). */
  private async reload(): Promise<void> {
    const SQL = await loadSqlJs(this.options.wasmPath);
    const { snap, journal } = await readConsistent(this.dir, true, this.logger);
    if (this.closed) return;
    const db = openDatabase(SQL, snap, this.dir, this.logger);
    const index = openIndex(db, snap, this.logger, this.options.retrieval);
    const old = this.db;
    this.db = db;
    this.index = index;
    this.seq = snap?.seq ?? 0;
    this.snapshotSeq = this.seq;
    this.snapshotBytes = snap?.bytes ?? 0;
    this.replayAll(opsAfter(journal, this.seq, this.dir));
    old.close();
    this.follower?.journal.reset();
    this.logger.info(`memory: reloaded ${this.dir} (read-only) at write ${this.seq}: ${index.documentCount} episodes`);
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
      const row = one(this.db, 'SELECT step_count, outcome_type FROM episodes WHERE id = ?', [id]);
      if (!row) throw new MemoryError('not_found', `No episode with id "${id}"`);
      if (row.outcome_type !== null) throw new MemoryError('invalid', `Episode ${id} is already completed; steps cannot be added`);
      if (num(row.step_count) >= LIMITS.steps) {
        throw new MemoryError('invalid', `Episode ${id} already has ${LIMITS.steps} steps, the most one episode holds; complete it and record the rest in a new episode`);
      }
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
      const ep = requireEpisode(this.db, id);
      if (ep.outcome) throw new MemoryError('invalid', `Episode ${id} is already completed`);
      const endedAt = new Date(Math.max(Date.now(), Date.parse(ep.startedAt))).toISOString();
      const reward = computeReward(v.outcome, ep.steps, ep.startedAt, endedAt);
      const reflection = v.reflection ?? deriveReflection(ep, v.outcome, endedAt, reward);
      // Every completion stays, repeats included: they are the evidence patterns and success rates count.
      const res = this.commit({ t: 'complete', id, endedAt, outcome: v.outcome, reward, reflection });
      this.runRetention();
      return { episode: res.episode!, reward, reflection, patterns: patternsByKeys(this.db, res.patternKeys ?? []) };
    });
  }

  getEpisode(id: string): Promise<Episode | undefined> {
    return this.guard(() => {
      this.ensureOpen();
      if (typeof id !== 'string') throw new MemoryError('invalid', 'Episode id must be a string');
      return loadEpisode(this.db, id);
    });
  }

  getEpisodePage(id: string, page: StepPage = {}): Promise<EpisodePage | undefined> {
    return this.guard(() => {
      this.ensureOpen();
      if (typeof id !== 'string') throw new MemoryError('invalid', 'Episode id must be a string');
      const p = parseOrThrow(StepPageSchema, page, 'step page');
      return loadEpisodePage(this.db, id, p.offset, p.limit);
    });
  }

  deleteEpisode(id: string): Promise<boolean> {
    return this.guard(() => {
      this.ensureWritable();
      const v = parseOrThrow(EpisodeIdSchema, id, 'episode id');
      if (!one(this.db, 'SELECT 1 AS x FROM episodes WHERE id = ?', [v])) return false;
      this.commit({ t: 'delete', ids: [v] });
      return true;
    });
  }

  deleteEpisodes(ids: string[]): Promise<number> {
    return this.guard(() => {
      this.ensureWritable();
      const v = parseOrThrow(EpisodeIdListSchema, ids, 'episode ids');
      const present = v.filter((id) => one(this.db, 'SELECT 1 AS x FROM episodes WHERE id = ?', [id]));
      if (present.length) this.commit({ t: 'delete', ids: present });
      return present.length;
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
      const total = num(one(this.db, `SELECT COUNT(*) AS n FROM episodes ${w}`, params)?.n);
      const rows = all(this.db, `SELECT ${SUMMARY_COLS} FROM episodes ${w} ORDER BY started_at DESC, id LIMIT ? OFFSET ?`, [...params, o.limit, o.offset]);
      return { episodes: rows.map(rowToSummary), total };
    });
  }

  // -------------------------------------------------------------------------
  // Retrieval and learning
  // -------------------------------------------------------------------------

  query(options: QueryOptions): Promise<QueryResult> {
    return this.guard(() => {
      this.ensureOpen();
      return runQuery(this.db, this.index, parseOrThrow(QueryOptionsSchema, options, 'query'));
    });
  }

  analyzePatterns(options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    return this.guard(() => {
      this.ensureOpen();
      return strongestPatterns(this.db, parseOrThrow(AnalyzeOptionsSchema, options, 'analyze options'));
    });
  }

  listPatterns(options: { kind?: PatternKind; limit?: number } = {}): Promise<Pattern[]> {
    return this.guard(() => {
      this.ensureOpen();
      return listPatternRows(this.db, options);
    });
  }

  patternsOfEpisode(episodeId: string): Promise<Pattern[]> {
    return this.guard(() => {
      this.ensureOpen();
      return patternsOfEpisode(this.db, loadEpisode(this.db, parseOrThrow(EpisodeIdSchema, episodeId, 'episode id')));
    });
  }

  getPattern(id: string): Promise<Pattern | undefined> {
    return this.guard(() => {
      this.ensureOpen();
      if (typeof id !== 'string' || !id) throw new MemoryError('invalid', 'Pattern id must be a non-empty string');
      return patternById(this.db, id);
    });
  }

  // -------------------------------------------------------------------------
  // Housekeeping
  // -------------------------------------------------------------------------

  exportAll(): Promise<MemoryExport> {
    return this.guard(() => {
      this.ensureOpen();
      return { format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes: allEpisodes(this.db) };
    });
  }

  exportPage(options: ExportPageOptions = {}): Promise<ExportPage> {
    return this.guard(() => {
      this.ensureOpen();
      return episodePage(this.db, parseOrThrow(ExportPageOptionsSchema, options, 'export page'));
    });
  }

  importAll(data: unknown, options: ImportOptions = {}): Promise<{ imported: number; skipped: number; ids: string[] }> {
    return this.guard(() => {
      this.ensureWritable();
      const v = parseOrThrow(MemoryExportSchema, data, 'memory export');
      const { fresh, skipped } = freshImports(this.db, this.index, v.episodes);
      if (fresh.length) this.commit({ t: 'import', episodes: fresh });
      if (options?.deferRetention !== true) this.runRetention();
      return { imported: fresh.length, skipped, ids: fresh.map((e) => e.id) };
    });
  }

  stats(): Promise<StoreStats> {
    return this.guard(() => {
      this.ensureOpen();
      const c = one(this.db, 'SELECT COUNT(*) AS n, COUNT(outcome_type) AS done, COALESCE(SUM(step_count), 0) AS steps, (SELECT COUNT(*) FROM patterns) AS patterns FROM episodes')!;
      const byDomain: Record<string, number> = {};
      for (const r of all(this.db, 'SELECT domain, COUNT(*) AS n FROM episodes GROUP BY domain')) byDomain[str(r.domain)] = num(r.n);
      const byOutcome: Record<string, number> = {};
      for (const r of all(this.db, "SELECT COALESCE(outcome_type, 'in_progress') AS o, COUNT(*) AS n FROM episodes GROUP BY o")) byOutcome[str(r.o)] = num(r.n);
      const pageCount = num(this.db.exec('PRAGMA page_count')[0]?.values[0][0]);
      const pageSize = num(this.db.exec('PRAGMA page_size')[0]?.values[0][0]);
      const journalBytes = this.journalBytes();
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

  private journalBytes(): number {
    if (this.journal) return this.journal.size;
    try {
      return fs.statSync(path.join(this.dir, JOURNAL_FILE)).size;
    } catch {
      return 0;
    }
  }

  episodeGroups(): Promise<EpisodeGroups> {
    return this.guard(() => {
      this.ensureOpen();
      return episodeGroups(this.db);
    });
  }

  insights(options: InsightsOptions = {}): Promise<MemoryInsights> {
    return this.guard(() => {
      this.ensureOpen();
      const result = insights(this.db, parseOrThrow(InsightsOptionsSchema, options, 'insights options'));
      result.size = { ...result.size, journalBytes: this.journalBytes(), snapshotBytes: this.snapshotBytes };
      return result;
    });
  }

  setRetention(policy: RetentionPolicy): void {
    this.retention = parseOrThrow(RetentionPolicySchema, policy, 'retention policy');
    if (!this.readOnly && !this.closed) this.runRetention();
  }

  private runRetentionSoon(): void {
    if (this.retention.maxEpisodes === undefined || this.index.documentCount <= this.retention.maxEpisodes || this.retentionTimer) return;
    this.retentionTimer = setTimeout(() => {
      this.retentionTimer = undefined;
      if (!this.closed) this.runRetention();
    }, 0);
    this.retentionTimer.unref();
  }

  /** Applies the retention policy (retention.ts); the chosen ids are journaled. */
  private runRetention(): void {
    if (this.retention.maxEpisodes === undefined && this.retention.maxAgeDays === undefined) return;
    if (this.readOnly || this.closed || this.compromised) return;
    try {
      const victims = retentionVictims(this.db, this.retention, this.index.documentCount, Date.now());
      if (victims.length) {
        this.commit({ t: 'delete', ids: victims, reason: 'retention' });
        this.logger.info(`memory: retention removed ${victims.length} episodes`);
      }
    } catch (e) {
      this.logger.error(`memory: retention failed: ${(e as Error).message}`);
    }
  }

  // -------------------------------------------------------------------------
  // Tool usage counters
  // -------------------------------------------------------------------------

  addPhrasings(episodeId: string, phrasings: string[]): Promise<boolean> {
    return this.guard(() => {
      this.ensureWritable();
      const id = parseOrThrow(EpisodeIdSchema, episodeId, 'episode id');
      if (!Array.isArray(phrasings) || phrasings.some((p) => typeof p !== 'string')) throw new MemoryError('invalid', 'phrasings must be an array of strings');
      const ep = loadEpisode(this.db, id);
      if (!ep?.outcome) return false;
      const kept = mergePhrasings(ep.task, ep.context.phrasings ?? [], phrasings);
      if (kept.length === (ep.context.phrasings?.length ?? 0)) return true;
      this.commit({ t: 'phrase', id, phrasings: kept });
      return true;
    });
  }

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
      for (const r of all(this.db, 'SELECT tool, count FROM tool_usage')) out[str(r.tool)] = num(r.count);
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
    if (this.follower) clearInterval(this.follower.timer);
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
      await releaseLock(this.lock, this.logger);
      this.lock = undefined;
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

/** Internal: read the meta table (tests). */
export function _schemaVersion(store: MemoryStore): string | undefined {
  return getMeta((store as unknown as { db: Database }).db, 'schema_version');
}
