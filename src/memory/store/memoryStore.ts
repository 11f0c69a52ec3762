/**
 * The episodic memory store: sql.js database in memory, made durable by an
 * append-only journal of logical operations over the last snapshot. This class is the
 * API's front: it checks the store can serve a call and hands the work to one module
 * per concern:
 *
 * - writes.ts builds a write's journal operation (operations.ts applies it) and
 *   state.ts commits it: BEGIN → apply → journal append + fdatasync → COMMIT → index
 *   update, then the change event fires. A failed validation, apply or journal write
 *   rolls back: nothing changes and nothing is journaled. A write is acknowledged (the
 *   promise resolves) only after its record is on disk.
 * - open.ts reads the files at open: lock → snapshot (database + search index +
 *   covered sequence) → migrate → replay of the journal records after it (a torn last
 *   record dropped with a warning).
 * - snapshots.ts writes snapshots in the background, debounced, and cuts the journal;
 *   `close()` writes a final one.
 * - liveView.ts keeps a read-only store up to date with the writer's journal.
 * - fileImport.ts imports an export file all or nothing (one transaction, saved by a
 *   snapshot); while it holds the transaction the other writes wait at importGate.ts.
 *   fileExport.ts writes the export file a page at a time.
 * - reads.ts, retrieval.ts, patterns.ts, aggregates.ts, exchange.ts answer the reads;
 *   retention.ts and toolCounters.ts the housekeeping.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
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
  ExchangeProgressOptions,
  ExportLines,
  ExportLinesOptions,
  ImportFileOptions,
  ImportOptions,
  ImportReport,
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
  AnalyzeOptionsSchema,
  EpisodeIdListSchema,
  EpisodeIdSchema,
  ExportLinesOptionsSchema,
  InsightsOptionsSchema,
  ListOptionsSchema,
  MemoryExportSchema,
  QueryOptionsSchema,
  RetentionPolicySchema,
  StepPageSchema,
  parseOrThrow,
} from '../schemas';
import { JournalWriter } from '../files';
import { lockForOpen, releaseLock } from '../lock';
import type { Lock } from '../lock';
import { allEpisodes, freshImports, linesPage } from './exchange';
import { exportToFile } from './fileExport';
import { ImportGate } from './importGate';
import { JOURNAL_FILE, SNAPSHOT_FILE, openDatabase, openIndex, opsAfter, readConsistent, removeStaleTemps } from './open';
import { loadEpisode, loadEpisodePage } from './operations';
import type { Applied, OpBody } from './operations';
import { episodeGroups, insights } from './aggregates';
import { listPatternRows, patternById, patternsByKeys, patternsOfEpisode, strongestPatterns } from './patterns';
import { databaseCounts, listSummaries } from './reads';
import { retentionVictims } from './retention';
import { runQuery } from './retrieval';
import { LiveView } from './liveView';
import { getMeta, loadSqlJs } from './schema';
import { Snapshots } from './snapshots';
import { StoreState } from './state';
import { one } from './sql';
import { ToolCounters } from './toolCounters';
import { completeOp, createOp, phraseOp, stepOp } from './writes';

export class MemoryStore implements MemoryStoreApi {
  private readonly emitter = new Emitter<StoreChange>();
  readonly onDidChange: (listener: (change: StoreChange) => void) => Disposable = this.emitter.event;

  private closed = false;
  private closing?: Promise<void>;
  private compromised?: Error;
  private retentionTimer?: NodeJS.Timeout;
  private retention: RetentionPolicy;
  private readonly snapshots: Snapshots;
  private readonly tools: ToolCounters;
  private liveView?: LiveView;
  /** File imports; while one holds the database's transaction, other writes (and snapshots) wait at its gate. */
  private readonly imports: ImportGate;

  private constructor(
    SQL: SqlJsStatic,
    readonly dir: string,
    private readonly state: StoreState,
    private lock: Lock | undefined,
    readonly readOnly: boolean,
    private readonly logger: Logger,
    options: OpenOptions,
  ) {
    this.retention = options.retention ?? {};
    this.snapshots = new Snapshots(SQL, dir, state, logger, options.snapshotDebounceMs ?? 5000);
    this.imports = new ImportGate({
      dir,
      state,
      snapshots: this.snapshots,
      logger,
      reopen: { wasmPath: options.wasmPath, retrieval: options.retrieval },
      ensureWritable: () => this.ensureWritable(),
      isClosing: () => this.closing !== undefined,
      importWhole: (data) => this.importAll(data),
      fire: (change) => this.emitter.fire(change),
      scheduleSnapshot: () => this.scheduleSnapshot(),
      runRetention: () => this.runRetention(),
    });
    this.tools = new ToolCounters(options.toolUsageFlushMs ?? 2000, readOnly ? undefined : (counts) => this.saveToolCounts(counts), logger);
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
      const state = new StoreState(db, index, readOnly ? undefined : new JournalWriter(path.join(dir, JOURNAL_FILE), jr.goodEnd));
      store = new MemoryStore(SQL, dir, state, lock, readOnly, logger, options);
      state.seq = snap?.seq ?? 0;
      if (snap) store.snapshots.adopt(state.seq, snap.bytes, fs.statSync(path.join(dir, SNAPSHOT_FILE)).mtime.toISOString());
      const toReplay = opsAfter(jr, state.seq, dir);
      state.replay(toReplay);
      logger.info(
        `memory: opened ${dir}${readOnly ? ' (read-only)' : ''}: ${index.documentCount} episodes, snapshot ${snap ? `${snap.bytes} bytes` : 'none'}, ${toReplay.length} journal records replayed in ${Date.now() - started} ms`,
      );
      if (!readOnly) {
        if (toReplay.length > 0 || jr.tornBytes > 0) store.scheduleSnapshot();
        store.runRetention();
      } else store.followWriter(options);
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

  /** The current database (a read-only view replaces it on reload). */
  private get db(): Database {
    return this.state.db;
  }
  private get journal(): JournalWriter | undefined {
    return this.state.journal;
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
    const res = this.state.commit(body);
    for (const c of res.changes) this.emitter.fire(c);
    this.scheduleSnapshot();
    return res;
  }

  private followWriter(options: OpenOptions): void {
    this.liveView = new LiveView(
      this.dir,
      this.state,
      options,
      this.logger,
      (c) => this.emitter.fire(c),
      (seq, bytes) => this.snapshots.adopt(seq, bytes, this.snapshots.lastAt),
    );
  }

  // -------------------------------------------------------------------------
  // Snapshots (snapshots.ts)
  // -------------------------------------------------------------------------

  private scheduleSnapshot(): void {
    if (this.readOnly || this.closed) return;
    this.snapshots.schedule();
  }

  /** Writes a snapshot now (if anything changed since the last one) and cuts the journal. */
  async snapshot(): Promise<void> {
    await this.imports.free();
    return this.snapshots.take();
  }

  // -------------------------------------------------------------------------
  // Public API: episodes
  // -------------------------------------------------------------------------

  createEpisode(input: CreateEpisodeInput): Promise<Episode> {
    return this.writeGuard(() => {
      this.ensureWritable();
      const op = createOp(input);
      this.commit(op);
      this.runRetentionSoon();
      return { ...op.ep, steps: [] };
    });
  }

  addStep(episodeId: string, step: AddStepInput): Promise<Step> {
    return this.writeGuard(() => {
      this.ensureWritable();
      const op = stepOp(this.db, episodeId, step);
      this.commit(op);
      return op.step;
    });
  }

  completeEpisode(episodeId: string, input: CompleteEpisodeInput): Promise<CompleteEpisodeResult> {
    return this.writeGuard(() => {
      this.ensureWritable();
      const op = completeOp(this.db, episodeId, input);
      // Every completion stays, repeats included: they are the evidence patterns and success rates count.
      const res = this.commit(op);
      this.runRetention();
      return { episode: res.episode!, reward: op.reward, reflection: op.reflection, patterns: patternsByKeys(this.db, res.patternKeys ?? []) };
    });
  }

  addPhrasings(episodeId: string, phrasings: string[]): Promise<boolean> {
    return this.writeGuard(() => {
      this.ensureWritable();
      const op = phraseOp(this.db, episodeId, phrasings);
      if (op === false) return false;
      if (op) this.commit(op);
      return true;
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
    return this.writeGuard(() => {
      this.ensureWritable();
      const v = parseOrThrow(EpisodeIdSchema, id, 'episode id');
      if (!one(this.db, 'SELECT 1 AS x FROM episodes WHERE id = ?', [v])) return false;
      this.commit({ t: 'delete', ids: [v] });
      return true;
    });
  }

  deleteEpisodes(ids: string[]): Promise<number> {
    return this.writeGuard(() => {
      this.ensureWritable();
      const v = parseOrThrow(EpisodeIdListSchema, ids, 'episode ids');
      const present = v.filter((id) => one(this.db, 'SELECT 1 AS x FROM episodes WHERE id = ?', [id]));
      if (present.length) this.commit({ t: 'delete', ids: present });
      return present.length;
    });
  }

  clear(): Promise<void> {
    return this.writeGuard(() => {
      this.ensureWritable();
      this.commit({ t: 'clear' });
    });
  }

  listEpisodes(options: ListOptions = {}): Promise<{ episodes: EpisodeSummary[]; total: number }> {
    return this.guard(() => {
      this.ensureOpen();
      return listSummaries(this.db, parseOrThrow(ListOptionsSchema, options, 'list options'));
    });
  }

  // -------------------------------------------------------------------------
  // Retrieval and learning
  // -------------------------------------------------------------------------

  query(options: QueryOptions): Promise<QueryResult> {
    return this.guard(() => {
      this.ensureOpen();
      return runQuery(this.db, this.state.index, parseOrThrow(QueryOptionsSchema, options, 'query'));
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
  // Export and import (exchange.ts)
  // -------------------------------------------------------------------------

  exportAll(): Promise<MemoryExport> {
    return this.guard(() => {
      this.ensureOpen();
      return { format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes: allEpisodes(this.db) };
    });
  }

  exportLines(options: ExportLinesOptions = {}): Promise<ExportLines> {
    return this.guard(() => {
      this.ensureOpen();
      return linesPage(this.db, parseOrThrow(ExportLinesOptionsSchema, options, 'export page'));
    });
  }

  importAll(data: unknown, options: ImportOptions = {}): Promise<{ imported: number; skipped: number; ids: string[] }> {
    return this.writeGuard(() => {
      this.ensureWritable();
      const v = parseOrThrow(MemoryExportSchema, data, 'memory export');
      const { fresh, skipped } = freshImports(this.db, this.state.index, v.episodes);
      if (fresh.length) this.commit({ t: 'import', episodes: fresh });
      if (options?.deferRetention !== true) this.runRetention();
      return { imported: fresh.length, skipped, ids: fresh.map((e) => e.id) };
    });
  }

  async importFile(file: string, options: ImportFileOptions = {}): Promise<ImportReport> {
    this.ensureWritable();
    if (typeof file !== 'string' || !file) throw new MemoryError('invalid', 'The file to import must be a path');
    return this.imports.importFile(file, options);
  }

  async exportFile(file: string, options: ExchangeProgressOptions = {}): Promise<number> {
    this.ensureOpen();
    if (typeof file !== 'string' || !file) throw new MemoryError('invalid', 'The file to export to must be a path');
    return exportToFile(() => this.db, file, options);
  }

  // -------------------------------------------------------------------------
  // Overviews
  // -------------------------------------------------------------------------

  stats(): Promise<StoreStats> {
    return this.guard(() => {
      this.ensureOpen();
      return {
        ...databaseCounts(this.db),
        journalBytes: this.journalBytes(),
        lastSnapshotAt: this.snapshots.lastAt,
        readOnly: this.readOnly,
        snapshotBytes: this.snapshots.bytes,
        indexTerms: this.state.index.termCount,
        sequence: this.state.seq,
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
      result.size = { ...result.size, journalBytes: this.journalBytes(), snapshotBytes: this.snapshots.bytes };
      return result;
    });
  }

  // -------------------------------------------------------------------------
  // Retention (retention.ts)
  // -------------------------------------------------------------------------

  setRetention(policy: RetentionPolicy): void {
    this.retention = parseOrThrow(RetentionPolicySchema, policy, 'retention policy');
    if (!this.readOnly && !this.closed) this.runRetention();
  }

  private runRetentionSoon(): void {
    if (this.retention.maxEpisodes === undefined || this.state.index.documentCount <= this.retention.maxEpisodes || this.retentionTimer) return;
    this.retentionTimer = setTimeout(() => {
      this.retentionTimer = undefined;
      if (!this.closed) this.runRetention();
    }, 0);
    this.retentionTimer.unref();
  }

  /** Applies the retention policy; the chosen ids are journaled. */
  private runRetention(): void {
    if (this.retention.maxEpisodes === undefined && this.retention.maxAgeDays === undefined) return;
    if (this.readOnly || this.closed || this.compromised || this.imports.busy) return;
    try {
      const victims = retentionVictims(this.db, this.retention, this.state.index.documentCount, Date.now());
      if (victims.length) {
        this.commit({ t: 'delete', ids: victims, reason: 'retention' });
        this.logger.info(`memory: retention removed ${victims.length} episodes`);
      }
    } catch (e) {
      this.logger.error(`memory: retention failed: ${(e as Error).message}`);
    }
  }

  // -------------------------------------------------------------------------
  // Tool usage counters (toolCounters.ts)
  // -------------------------------------------------------------------------

  /** Counts a tool call (saved in batches; see ToolCounters). */
  recordToolCall(tool: string): Promise<void> {
    return this.guard(() => {
      this.ensureOpen();
      this.tools.count(tool);
    });
  }

  private saveToolCounts(counts: Record<string, number>): boolean {
    if (this.closed || this.compromised || this.imports.busy) return false;
    this.commit({ t: 'tools', counts });
    return true;
  }

  toolUsage(): Promise<Record<string, number>> {
    return this.guard(() => {
      this.ensureOpen();
      return this.tools.usage(this.db);
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
    this.imports.abortAll();
    await this.imports.free();
    this.snapshots.cancel();
    this.tools.cancel();
    if (this.retentionTimer) clearTimeout(this.retentionTimer);
    this.retentionTimer = undefined;
    this.liveView?.stop();
    try {
      if (!this.readOnly && !this.compromised) {
        this.tools.flush();
        await this.snapshot().catch((e: unknown) => this.logger.error(`memory: final snapshot failed (the journal keeps every write): ${(e as Error).message}`));
      }
      await this.snapshots.settled(); // a snapshot still copying must not outlive the database
    } finally {
      this.closed = true;
      try {
        this.journal?.close();
      } catch (e) {
        this.logger.warn(`memory: closing the journal: ${(e as Error).message}`);
      }
      this.state.journal = undefined;
      this.db.close();
      this.emitter.dispose();
      await releaseLock(this.lock, this.logger);
      this.lock = undefined;
    }
  }

  dispose(): void {
    this.close().catch((e: unknown) => this.logger.error(`memory: close failed: ${(e as Error).message}`));
  }

  /** A write: waits while a file import holds the transaction, then runs as `guard` does. */
  private writeGuard<T>(fn: () => T): Promise<T> {
    return this.imports.write(() => this.guard(fn));
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
