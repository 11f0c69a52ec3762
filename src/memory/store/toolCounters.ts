/**
 * Tool call counters. They are frequent and less critical than episodes, so they are
 * batched: kept in memory and saved as one journal record every `flushMs` (and on
 * close); a crash loses at most that window of counts. A read-only view counts in
 * memory only.
 */
import type { Logger } from '../../common/logger';
import { MemoryError } from '../errors';
import type { Database } from 'sql.js';
import { all, num, str } from './sql';

export class ToolCounters {
  private readonly pending = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly flushMs: number,
    /** Saves counts (journaled); false when the store cannot write now (closed, lock lost). Undefined in a read-only view. */
    private readonly save: ((counts: Record<string, number>) => boolean) | undefined,
    private readonly logger: Logger,
  ) {}

  count(tool: string): void {
    if (typeof tool !== 'string' || !tool.trim() || tool.length > 200) throw new MemoryError('invalid', 'tool must be a non-empty string of at most 200 characters');
    this.pending.set(tool, (this.pending.get(tool) ?? 0) + 1);
    if (this.save && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.flushMs);
      this.timer.unref();
    }
  }

  /** Saves the counts not yet saved (a failure keeps them for the next flush). */
  flush(): void {
    if (!this.save || this.pending.size === 0) return;
    try {
      if (this.save(Object.fromEntries(this.pending))) this.pending.clear();
    } catch (e) {
      this.logger.warn(`memory: could not save tool usage counters: ${(e as Error).message}`);
    }
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Saved counts plus the ones not yet saved. */
  usage(db: Database): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of all(db, 'SELECT tool, count FROM tool_usage')) out[str(r.tool)] = num(r.count);
    for (const [t, n] of this.pending) out[t] = (out[t] ?? 0) + n;
    return out;
  }
}
