/**
 * Public contract of the episodic memory store. `src/mcp` and `src/views` code
 * against this file only (through `src/memory/index.ts`). Pure: never imports `vscode`.
 * Field names are camelCase here; the MCP layer maps its snake_case arguments.
 */
import type { Logger } from '../common/logger';
import type { Disposable } from '../common/disposable';

export const TASK_TYPES = ['code_generation', 'debugging', 'refactoring', 'testing', 'analysis', 'documentation', 'other'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export interface TaskContext {
  language?: string;
  framework?: string;
  complexity?: 'simple' | 'moderate' | 'complex';
  tags: string[];
  /**
   * Alternative phrasings of the task, added after completion by the MCP client's own model
   * (sampling, off by default); indexed like the task at a lower weight, never shown as the task.
   */
  phrasings?: string[];
}

export type StepResult =
  | { status: 'success'; output?: string }
  | { status: 'error'; message: string }
  | { status: 'timeout'; message?: string };

export interface Step {
  n: number;
  timestamp: string; // ISO 8601
  tool: string;
  action: string;
  parameters: unknown; // JSON
  result: StepResult;
  latencyMs?: number;
  tokensUsed?: number;
}

export type Outcome =
  | { type: 'success'; verdict: string; artifacts?: string[] }
  | { type: 'partial_success'; verdict: string; completed: string[]; failed: string[] }
  | { type: 'failure'; reason: string; details?: string }
  | { type: 'abstained'; reason: string };
/** The outcome kinds, in the order the index stores them (stated once; schemas and tools use this). */
export const OUTCOME_TYPES = ['success', 'partial_success', 'failure', 'abstained'] as const;
export type OutcomeType = (typeof OUTCOME_TYPES)[number];

export interface Reflection {
  successes: string[];
  improvements: string[];
  insights: string[];
}

export interface Episode {
  id: string;
  task: string;
  domain: string;
  taskType: TaskType;
  context: TaskContext;
  startedAt: string;
  endedAt?: string;
  steps: Step[];
  outcome?: Outcome;
  reward?: number;
  reflection?: Reflection;
}

export const PATTERN_KINDS = ['tool_sequence', 'error_recovery', 'decision_point', 'context_pattern'] as const;
export type PatternKind = (typeof PATTERN_KINDS)[number];

export interface Pattern {
  id: string;
  kind: PatternKind;
  description: string;
  taskType: TaskType;
  domain: string;
  successRate: number;
  occurrences: number;
  avgLatencyMs?: number;
  evidence: string[]; // episode ids (bounded list, most recent first)
}

export interface Heuristic {
  condition: string;
  action: string;
  confidence: number;
  evidence: string[];
}

/** Compact view of an episode used in query and list answers. */
export interface EpisodeSummary {
  id: string;
  task: string;
  domain: string;
  taskType: TaskType;
  outcome?: OutcomeType;
  reward?: number;
  stepCount: number;
  tools: string[];
  startedAt: string;
  endedAt?: string;
  /** A short extract (reflection insight, verdict or failure reason). */
  gist?: string;
}

export interface QueryOptions {
  query: string;
  /**
   * Extra phrasings of the query searched with a lower weight, e.g. a rewrite by
   * the MCP client's own model (sampling). Optional; the store never needs them.
   */
  expansions?: string[];
  domain?: string;
  taskType?: TaskType;
  outcome?: OutcomeType;
  since?: string;
  until?: string;
  /** Context to boost matches on (language, framework, tags). */
  context?: Partial<TaskContext>;
  limit?: number; // default 10, max 50
  offset?: number;
}

export interface QueryHit {
  episode: EpisodeSummary;
  score: number;
  /** Human-readable reasons: matched terms and fields, context match, reward, recency. */
  why: string[];
  /** Set when the task was done more than once: its repeats, folded into this hit. */
  repeats?: Repeats;
}

/** The completed repeats of one task (same normalized task, domain and task type). */
export interface Repeats {
  count: number;
  succeeded: number;
  /** When the latest repeat ended. */
  lastAt: string;
  /** The repeats' ids, newest first (at most 10). */
  ids: string[];
}

export interface QueryResult {
  hits: QueryHit[];
  total: number;
  /** The terms actually searched after expansion (for transparency). */
  expandedTerms?: string[];
}

export interface AnalyzeOptions {
  taskType?: TaskType;
  domain?: string;
  minSuccessRate?: number; // default 0.7
  limit?: number; // default 20
}

export interface AnalyzeResult {
  patterns: Pattern[];
  heuristics: Heuristic[];
}

export interface CreateEpisodeInput {
  task: string;
  domain?: string; // default 'general'
  taskType: TaskType;
  context?: Partial<TaskContext>;
}

export interface AddStepInput {
  tool: string;
  action: string;
  parameters?: unknown;
  result: StepResult;
  latencyMs?: number;
  tokensUsed?: number;
}

export interface CompleteEpisodeInput {
  outcome: Outcome;
  reflection?: Reflection;
}

export interface CompleteEpisodeResult {
  episode: Episode;
  reward: number;
  reflection: Reflection;
  patterns: Pattern[]; // learned or updated by this completion
}

/** A page of an episode's steps: the steps after the first `offset` (default 0), at most `limit` (default 50, max 1000). */
export interface StepPage {
  offset?: number;
  limit?: number;
}

export interface EpisodePage {
  /** The episode with only the requested page of steps. */
  episode: Episode;
  /** Steps the episode holds in all. */
  stepCount: number;
}

export interface ListOptions {
  domain?: string;
  taskType?: TaskType;
  outcome?: OutcomeType;
  limit?: number;
  offset?: number;
}

export interface StoreStats {
  episodes: number;
  completedEpisodes: number;
  steps: number;
  patterns: number;
  byDomain: Record<string, number>;
  byOutcome: Record<string, number>;
  databaseBytes: number;
  journalBytes: number;
  lastSnapshotAt?: string;
  readOnly: boolean;
  /** Size of the snapshot file on disk (databaseBytes is the live database). */
  snapshotBytes?: number;
  /** Terms in the search index. */
  indexTerms?: number;
  /** Sequence number of the last applied write. */
  sequence?: number;
}

/** Episode counts by domain and task type, and pattern counts by kind (the explorer's groups). */
export interface EpisodeGroups {
  groups: Array<{ domain: string; taskType: TaskType; count: number }>;
  patternKinds: Record<PatternKind, number>;
}

export type TimeBucket = 'day' | 'week' | 'month';
export type OutcomeCounts = Record<OutcomeType | 'in_progress', number>;

export interface InsightsOptions {
  /** Time bucket of the timelines; 'auto' (default) picks one from the span of the data. */
  bucket?: TimeBucket | 'auto';
  /** Only episodes that ended (or, in progress, started) at or after this ISO date. */
  since?: string;
  /** Patterns listed, strongest evidence first (default 10, max 100). */
  topPatterns?: number;
  /** Task types and domains with a trend line, most episodes first (default 8, max 50). */
  maxSeries?: number;
}

/** One time bucket of a trend: completed episodes that ended in it. */
export interface TrendPoint {
  /** First day of the bucket (YYYY-MM-DD). */
  start: string;
  completed: number;
  successRate: number;
  meanReward: number;
}

export interface TrendSeries {
  /** The task type or domain. */
  key: string;
  completed: number;
  successRate: number;
  points: TrendPoint[];
}

/** What the Insights view draws; computed by the store, bounded by groups and buckets. */
export interface MemoryInsights {
  generatedAt: string;
  bucket: TimeBucket;
  /** Earliest and latest episode time covered. */
  first?: string;
  last?: string;
  totals: { episodes: number; completed: number; steps: number; patterns: number; meanReward?: number; byOutcome: OutcomeCounts };
  /** Episodes per bucket by outcome (bucketed by end, or start while in progress); at most 120 buckets. */
  timeline: Array<{ start: string } & OutcomeCounts>;
  byTaskType: TrendSeries[];
  byDomain: TrendSeries[];
  topPatterns: Array<Pick<Pattern, 'id' | 'kind' | 'description' | 'taskType' | 'domain' | 'successRate' | 'occurrences'>>;
  /**
   * databaseBytes: the live database's pages; freeBytes: those of them free (left by deletes,
   * reused before the database grows). The data is the difference.
   */
  size: { databaseBytes: number; freeBytes: number; journalBytes?: number; snapshotBytes?: number };
}

export interface RetentionPolicy {
  maxEpisodes?: number;
  maxAgeDays?: number;
}

export type StoreChange =
  | { type: 'episode_created' | 'episode_updated' | 'episode_completed' | 'episode_deleted'; episodeId: string }
  | { type: 'cleared' | 'imported' | 'retention' };

export interface MemoryExport {
  format: 'agent-memory-export';
  version: 1;
  exportedAt: string;
  episodes: Episode[];
}

export interface ExportPageOptions {
  /** The `next` of the previous page (constant cost per page, however far into the store). */
  after?: string;
  /** Episodes to skip (after `after`, if given). */
  offset?: number;
  /** Episodes per page (default 100, max 1000). */
  limit?: number;
}

export interface ExportLinesOptions extends ExportPageOptions {
  /** End the page before its lines would pass this many characters (a page holds at least one episode). */
  maxChars?: number;
}

/** A page of the export already serialised: what a file, a stream or a tool answer takes without parsing. */
export interface ExportLines {
  /** The page's episodes as export lines (JSON Lines, get_episode's field names), each ending in a newline. */
  lines: string;
  /** Episodes in `lines`. */
  count: number;
  /** Episodes in the store. */
  total: number;
  /** Cursor of the following page; absent on the last page. */
  next?: string;
}

export interface OpenOptions {
  /** Folder holding the store's files (snapshot, journal, lock). Created if missing. */
  dir: string;
  /** Path of `sql-wasm.wasm`; defaults to the copy next to the bundle, else node_modules. */
  wasmPath?: string;
  logger?: Logger;
  /**
   * 'lock' (default): take the folder's lock (see onLocked); 'held': the caller holds it already
   * (the memory service's worker, whose process took it); 'readonly': a read-only view, no lock.
   */
  access?: 'lock' | 'held' | 'readonly';
  /** If the store is locked by another process: 'error' (default) or open a read-only view. */
  onLocked?: 'error' | 'readonly';
  retention?: RetentionPolicy;
  snapshotDebounceMs?: number;
  /** Retrieval components, all on by default (switched off one at a time by bench:quality's ablations). */
  retrieval?: Partial<RetrievalFeatures>;
  /** Who holds the lock, shown to a second opener (default "memory store (<process title>)"). */
  holderDescription?: string;
  /** A lock not refreshed for this long is stale (default 10000 ms); a dead holder on this host is detected at once. */
  lockStaleMs?: number;
  /** How long recordToolCall counters are batched before being journaled (default 2000 ms). */
  toolUsageFlushMs?: number;
}

/** The components of query_memory's ranking beyond BM25 over the query's own words. */
export interface RetrievalFeatures {
  /** Expand queries with the curated software-engineering lexicon. */
  lexicon: boolean;
  /** Expand queries with general English synonyms (WordNet 3.1, well-attested senses only). */
  wordnet: boolean;
  /** Expand queries with the terms the store's own episodes associate with them (co-occurrence weighted by normalized PMI). */
  associations: boolean;
  /** Pseudo-relevance feedback: key terms shared by the first pass's best episodes. */
  feedback: boolean;
  /** Fuse the expanded ranking with the original one by reciprocal rank (off by default: the expanded ranking alone scored better). */
  fusion: boolean;
  /** Index a completed episode with the lexicon terms related to its task, errors, outcome and reflection. */
  docExpansion: boolean;
}

/**
 * `unavailable`: the store's worker stopped while serving the call (it is restarted; the call may or may not have taken effect).
 * `cancelled`: the caller cancelled the call (an import or export) and nothing was changed.
 */
export const MEMORY_ERROR_CODES = ['not_found', 'invalid', 'locked', 'corrupt', 'read_only', 'closed', 'conflict', 'unavailable', 'cancelled'] as const;
export type MemoryErrorCode = (typeof MEMORY_ERROR_CODES)[number];

/** Progress and cancellation of a file import or export. */
export interface ExchangeProgressOptions {
  /** Episodes done so far, and the total when known (called at most every batch). */
  onProgress?: (done: number, total?: number) => void;
  /** Aborting it cancels the call: it throws ImportCancelledError (MemoryError 'cancelled') and changes nothing. */
  signal?: AbortSignal;
}

export interface ImportFileOptions extends ExchangeProgressOptions {
  /** Import the valid lines and report the invalid ones (otherwise one invalid line imports nothing). */
  skipInvalid?: boolean;
}

export interface InvalidLine {
  line: number;
  message: string;
}

export interface ImportReport {
  imported: number;
  /** Episodes already in the store (by id), or repeated within the file. */
  skipped: number;
  /** Invalid lines (skipped with skipInvalid; otherwise the import threw). */
  invalid: InvalidLine[];
  format: 'jsonl' | 'json';
}

/** How `importAll` writes one batch of a larger import. */
export interface ImportOptions {
  /**
   * Leave the retention policy for a later call (the import's last batch): an import that is
   * cancelled midway then deletes only its own episodes, and no episode that was there before
   * was removed to make room for them.
   */
  deferRetention?: boolean;
}

export interface MemoryStoreApi extends Disposable {
  createEpisode(input: CreateEpisodeInput): Promise<Episode>;
  addStep(episodeId: string, step: AddStepInput): Promise<Step>;
  completeEpisode(episodeId: string, input: CompleteEpisodeInput): Promise<CompleteEpisodeResult>;
  /** The whole episode (all its steps; use getEpisodePage for long ones). */
  getEpisode(id: string): Promise<Episode | undefined>;
  /** The episode with one page of its steps; its cost depends on the page, not on the episode. */
  getEpisodePage(id: string, page?: StepPage): Promise<EpisodePage | undefined>;
  query(options: QueryOptions): Promise<QueryResult>;
  analyzePatterns(options?: AnalyzeOptions): Promise<AnalyzeResult>;
  /** Patterns whose evidence includes the episode, or all of one kind. */
  listPatterns(options?: { kind?: PatternKind; limit?: number }): Promise<Pattern[]>;
  /** The learned patterns a completed episode counted towards (empty while in progress). */
  patternsOfEpisode(episodeId: string): Promise<Pattern[]>;
  getPattern(id: string): Promise<Pattern | undefined>;
  listEpisodes(options?: ListOptions): Promise<{ episodes: EpisodeSummary[]; total: number }>;
  deleteEpisode(id: string): Promise<boolean>;
  /** Deletes the episodes that exist among `ids` in one write (one journal record); returns how many. */
  deleteEpisodes(ids: string[]): Promise<number>;
  clear(): Promise<void>;
  /** Every episode at once (small stores; use exportLines or exportFile to go through a large one). */
  exportAll(): Promise<MemoryExport>;
  /**
   * One page of the export order as export lines, serialised by the store (in the service, in its
   * worker): nothing to parse or build on the caller's thread. Pass `next` as `after` for the following page.
   */
  exportLines(options?: ExportLinesOptions): Promise<ExportLines>;
  /** Imports the episodes the store does not hold yet; `ids` are the ones imported (to undo a cancelled import). */
  importAll(data: unknown, options?: ImportOptions): Promise<{ imported: number; skipped: number; ids: string[] }>;
  /**
   * Imports an export file (JSON Lines, or the older whole-JSON export), read by the store
   * (in the service, in its worker) line by line. All or nothing: an invalid line (unless
   * skipInvalid), a failed write or a cancel leaves the store exactly as it was. Throws
   * ImportFileError (invalid lines, with their numbers), ImportCancelledError, or MemoryError.
   */
  importFile(file: string, options?: ImportFileOptions): Promise<ImportReport>;
  /** Writes the whole store to `file` as JSON Lines (the store writes it, a page at a time); returns the episodes written. */
  exportFile(file: string, options?: ExchangeProgressOptions): Promise<number>;
  stats(): Promise<StoreStats>;
  /** Episode counts by domain × task type and pattern counts by kind (no episode is listed). */
  episodeGroups(): Promise<EpisodeGroups>;
  /** Aggregates for charts: outcomes over time, trends by task type and domain, top patterns, size. */
  insights(options?: InsightsOptions): Promise<MemoryInsights>;
  setRetention(policy: RetentionPolicy): void;
  /**
   * Adds alternative phrasings of a completed episode's task (document expansion: a reworded
   * query finds it). Kept: at most LIMITS.phrasings a task, each trimmed and at most
   * LIMITS.short characters; repeats of the task or of a kept phrasing are dropped.
   * Answers false when the episode is unknown or still open.
   */
  addPhrasings(episodeId: string, phrasings: string[]): Promise<boolean>;
  /** Tool-call counters persisted with the store (progressive disclosure in the MCP layer). */
  recordToolCall(tool: string): Promise<void>;
  toolUsage(): Promise<Record<string, number>>;
  readonly onDidChange: (listener: (change: StoreChange) => void) => Disposable;
  readonly readOnly: boolean;
  /** Flushes the journal, writes a final snapshot, releases the lock. */
  close(): Promise<void>;
}
