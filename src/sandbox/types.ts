/**
 * Public contract of the sandbox engine. `src/mcp` and `src/views` code against
 * this file only (through `src/sandbox/index.ts`). Pure: never imports `vscode`.
 */
import type { Logger } from '../common/logger';
import type { Disposable } from '../common/disposable';

export type PresetName = 'restrictive' | 'default' | 'permissive';

export interface SandboxConfig {
  maxExecutionTimeMs: number;
  maxMemoryMb: number;
  /** Average CPU share of one core the run may use, 1–100, enforced by duty cycling. */
  maxCpuPercent: number;
  maxStackKb: number;
  allowedPaths: string[];
  allowedHosts: string[];
  allowFilesystem: boolean;
  allowNetwork: boolean;
  /** Always false: there is no subprocess capability. `true` is refused by validation. */
  allowSubprocesses: boolean;
}

export type Language = 'javascript' | 'typescript';

export interface ExecutionContext {
  task: string;
  input?: unknown;
}

/**
 * Host functions the caller lends the guest for one execution, keyed by dotted
 * path: `{ 'memory.query': fn }` appears in the guest as `memory.query(...)`,
 * returning a Promise resolved by the host. Arguments and results cross as JSON.
 */
export type HostFunction = (this: HostCallScope, ...args: unknown[]) => unknown;

/**
 * What a host function is called with as `this`: the run's signal, which fires
 * when the run ends (finished, timed out, cancelled), and its deadline. Work
 * still going on when it fires is wasted: its result is never delivered.
 */
export interface HostCallScope {
  readonly signal: AbortSignal;
  /** Date.now() at which the run times out. */
  readonly deadline: number;
}
export type HostApi = Record<string, HostFunction>;

export interface ExecuteOptions {
  language?: Language;
  signal?: AbortSignal;
  /** Overrides the sandbox's current config for this run (validated). */
  config?: SandboxConfig;
  hostApi?: HostApi;
}

export type ErrorType =
  | 'syntax'
  | 'runtime'
  | 'memory_limit'
  | 'stack_overflow'
  | 'output_limit'
  /** Stripping the TypeScript types took longer than the run's CPU budget. */
  | 'transpile_limit'
  | 'cancelled'
  | 'internal';

export type ViolationType =
  | 'filesystem'
  | 'network'
  | 'subprocess'
  | 'code_injection'
  | 'infinite_loop'
  | 'resource_exhaustion'
  | 'path_traversal';

export interface SuccessResult {
  kind: 'success';
  /** JSON text of the returned value (`undefined` is returned as `null`... see README). */
  output: string;
  stdout: string;
  stderr: string;
  executionTimeMs: number;
}

export interface ErrorResult {
  kind: 'error';
  message: string;
  errorType: ErrorType;
  line?: number;
  column?: number;
  stdout: string;
  stderr: string;
  executionTimeMs: number;
}

export interface TimeoutResult {
  kind: 'timeout';
  elapsedMs: number;
  partialOutput: string;
}

export interface SecurityViolationResult {
  kind: 'security_violation';
  reason: string;
  violationType: ViolationType;
}

export type ExecutionResult = SuccessResult | ErrorResult | TimeoutResult | SecurityViolationResult;

export interface SandboxMetrics {
  total: number;
  byKind: Record<ExecutionResult['kind'], number>;
  p50Ms: number;
  p95Ms: number;
  active: number;
  queued: number;
  workers: number;
  workerRestarts: number;
}

export interface ExecutionRecord {
  id: number;
  startedAt: number;
  kind: ExecutionResult['kind'];
  durationMs: number;
  summary: string;
}

export interface SandboxOptions {
  config?: SandboxConfig;
  /** Worker threads in the pool (default: min(2, cpus)). */
  workers?: number;
  /** Executions in flight at once (default 20, the seed's semaphore). */
  maxConcurrent?: number;
  /** Queued executions beyond maxConcurrent before `busy` is refused (default 200). */
  maxQueued?: number;
  /** Path of the bundled worker entry; defaults to `sandbox-worker.js` next to the bundle, else `dist/`. */
  workerPath?: string;
  /**
   * How long (ms) a worker with more jobs queued may hold a finished result to
   * send it together with the next ones (default 4; 0 sends each at once).
   * Fewer messages is most of the pool's throughput under load.
   */
  resultBatchMaxAgeMs?: number;
  logger?: Logger;
}

export interface SandboxEngine extends Disposable {
  execute(code: string, context: ExecutionContext, options?: ExecuteOptions): Promise<ExecutionResult>;
  setConfig(config: SandboxConfig): void;
  readonly config: SandboxConfig;
  metrics(): SandboxMetrics;
  recent(): ExecutionRecord[];
  readonly onDidExecute: (listener: (record: ExecutionRecord) => void) => Disposable;
  /** Stops every worker; pending executions end as `error`/`cancelled`. */
  close(): Promise<void>;
}
