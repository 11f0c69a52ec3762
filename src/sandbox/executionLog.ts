/**
 * What the Sandbox remembers of past runs: counts by kind, the latest
 * durations (for percentiles) and the recent records it reports to listeners.
 */
import { Emitter } from '../common/disposable';
import type { ExecutionRecord, ExecutionResult } from './types';

const RECENT_MAX = 100;
const DURATIONS_MAX = 1000;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function summarize(r: ExecutionResult): string {
  const cut = (s: string): string => (s.length > 120 ? s.slice(0, 117) + '...' : s);
  switch (r.kind) {
    case 'success':
      return cut(r.output);
    case 'error':
      return cut(`${r.errorType}: ${r.message}`);
    case 'timeout':
      return `timed out after ${Math.round(r.elapsedMs)} ms`;
    case 'security_violation':
      return cut(`${r.violationType}: ${r.reason}`);
  }
}

export class ExecutionLog {
  private readonly emitter = new Emitter<ExecutionRecord>();
  private readonly records: ExecutionRecord[] = [];
  private readonly durations: number[] = [];
  private readonly counts: Record<ExecutionResult['kind'], number> = { success: 0, error: 0, timeout: 0, security_violation: 0 };
  private total = 0;

  readonly onDidExecute = this.emitter.event;

  /** Records a finished run (`startedAt` is its Date.now() start) and tells the listeners. */
  record(result: ExecutionResult, startedAt: number): void {
    const durationMs = Date.now() - startedAt;
    this.total++;
    this.counts[result.kind]++;
    this.durations.push(result.kind === 'success' || result.kind === 'error' ? result.executionTimeMs : result.kind === 'timeout' ? result.elapsedMs : durationMs);
    if (this.durations.length > DURATIONS_MAX) this.durations.splice(0, this.durations.length - DURATIONS_MAX);
    const rec: ExecutionRecord = { id: this.total, startedAt, kind: result.kind, durationMs, summary: summarize(result) };
    this.records.push(rec);
    if (this.records.length > RECENT_MAX) this.records.shift();
    this.emitter.fire(rec);
  }

  /** Totals and the latency percentiles of the latest runs. */
  stats(): { total: number; byKind: Record<ExecutionResult['kind'], number>; p50Ms: number; p95Ms: number } {
    const sorted = [...this.durations].sort((a, b) => a - b);
    return { total: this.total, byKind: { ...this.counts }, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
  }

  recent(): ExecutionRecord[] {
    return [...this.records];
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
