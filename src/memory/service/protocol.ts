/**
 * The messages between the memory service's client (any thread that uses memory: the
 * extension host, the standalone server) and its worker thread, which owns the store
 * (sql.js, the search index, the journal, snapshots, retention and pattern learning).
 * Every call is one `call` message answered by one `result`, `resultJson` or `error`
 * message with the same id; the worker answers in the order it received the calls.
 */
import type { InvalidLine, MemoryErrorCode, MemoryStoreApi, OpenOptions, RetentionPolicy, StoreChange } from '../types';

/** The store methods served over the channel (the API's async methods, and `snapshot`). */
export const CALLS = [
  'createEpisode',
  'addStep',
  'completeEpisode',
  'getEpisode',
  'getEpisodePage',
  'query',
  'analyzePatterns',
  'listPatterns',
  'patternsOfEpisode',
  'getPattern',
  'listEpisodes',
  'deleteEpisode',
  'deleteEpisodes',
  'clear',
  'exportAll',
  'exportLines',
  'importAll',
  'importFile',
  'exportFile',
  'stats',
  'episodeGroups',
  'insights',
  'addPhrasings',
  'recordToolCall',
  'toolUsage',
  'snapshot',
] as const;
export type CallName = (typeof CALLS)[number];

type AsyncMethods<T> = { [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof T];
/** Compile-time check: an async method added to MemoryStoreApi must be listed in CALLS (close is the client's own). */
export const UNSERVED_CALLS: Record<Exclude<AsyncMethods<MemoryStoreApi>, CallName | 'close'>, never> = {};

/** What the worker's store offers: the API's calls plus an immediate snapshot. */
export type ServiceMethods = Pick<MemoryStoreApi, Exclude<CallName, 'snapshot'>> & { snapshot(): Promise<void> };
export type CallArgs<M extends CallName> = Parameters<ServiceMethods[M]>;
export type CallResult<M extends CallName> = Awaited<ReturnType<ServiceMethods[M]>>;

/** Calls whose last argument holds callbacks (onProgress, signal): sent as progress and cancel messages. */
export const EXCHANGE_CALLS: ReadonlySet<CallName> = new Set<CallName>(['importFile', 'exportFile']);

/** Calls whose result is already serialised text: posted as it is (a string clones as one flat copy; JSON around it would only escape it). */
export const TEXT_CALLS: ReadonlySet<CallName> = new Set<CallName>(['exportLines']);

/** A result whose JSON is at least this long is sent as bytes in a transferred buffer (not cloned). */
export const TRANSFER_MIN_CHARS = 32 * 1024;

/** What the worker needs to open the store (the client holds the lock). */
export interface WorkerInit {
  options: Omit<OpenOptions, 'logger' | 'onLocked' | 'access'>;
  /** Open a read-only view (another process holds the lock). */
  readOnly: boolean;
  /** Set when the client's lock was lost before this worker started. */
  lockLost?: string;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** An error as it crosses the channel (a MemoryError keeps its code). */
export interface WireError {
  code?: MemoryErrorCode;
  message: string;
  /** An import file's invalid lines (ImportFileError). */
  invalid?: InvalidLine[];
}

export type ToWorker =
  | { t: 'call'; id: number; method: CallName; args: unknown[] }
  | { t: 'retention'; policy: RetentionPolicy }
  | { t: 'lockLost'; message: string }
  /** Cancels an import or export call in flight (its AbortSignal fired). */
  | { t: 'cancel'; id: number }
  | { t: 'close'; id: number }
  /** Tests: end the worker abruptly, or make it run out of memory. */
  | { t: 'crash'; how: 'exit' | 'oom' };

export type FromWorker =
  | { t: 'ready'; readOnly: boolean }
  | { t: 'openFailed'; error: WireError }
  | { t: 'result'; id: number; value: unknown }
  /** A large result: its JSON as UTF-8 in a transferred buffer. */
  | { t: 'resultJson'; id: number; bytes: Uint8Array }
  | { t: 'error'; id: number; error: WireError }
  | { t: 'change'; change: StoreChange }
  /** An import or export call's progress (its onProgress). */
  | { t: 'progress'; id: number; done: number; total?: number }
  | { t: 'log'; level: LogLevel; message: string }
  | { t: 'closed'; id: number };
