/**
 * A read-only store kept up to date with the writer in another process: every
 * FOLLOW_INTERVAL_MS it applies the writer's new journal records (follow.ts), firing
 * their change events, or reloads the database and index from the files when a journal
 * cut passed it by.
 */
import type { Logger } from '../../common/logger';
import type { OpenOptions, StoreChange } from '../types';
import { FOLLOW_INTERVAL_MS, JournalFollower } from './follow';
import type { FollowStep } from './follow';
import { reloadFromFiles } from './reload';
import type { StoreState } from './state';

export class LiveView {
  private readonly journal: JournalFollower;
  private readonly timer: NodeJS.Timeout;
  private busy = false;
  private stopped = false;

  constructor(
    private readonly dir: string,
    private readonly state: StoreState,
    private readonly options: Pick<OpenOptions, 'wasmPath' | 'retrieval'>,
    private readonly logger: Logger,
    private readonly fire: (change: StoreChange) => void,
    /** Called after a reload with what the snapshot on disk covers. */
    private readonly onReloaded: (snapshotSeq: number, snapshotBytes: number) => void,
  ) {
    this.journal = new JournalFollower(dir);
    this.timer = setInterval(() => this.catchUp(), FOLLOW_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Applies the writer's new records (firing their change events), or reloads when they are past the journal. */
  private catchUp(): void {
    if (this.busy || this.stopped) return;
    let step: FollowStep;
    try {
      step = this.journal.poll(this.state.seq);
      if (step.kind === 'ops') {
        for (const c of this.state.replay(step.ops)) this.fire(c);
        return;
      }
    } catch (e) {
      this.logger.warn(`memory: following the writer's journal failed (${(e as Error).message}); reloading from the snapshot`);
      step = { kind: 'reload' };
    }
    if (step.kind !== 'reload') return;
    this.busy = true;
    this.reload()
      .then(() => this.fire({ type: 'imported' }))
      .catch((e: unknown) => this.logger.error(`memory: reloading ${this.dir} failed (the view keeps what it had): ${(e as Error).message}`))
      .finally(() => (this.busy = false));
  }

  /** Replaces the database and index with the files' current state. */
  private async reload(): Promise<void> {
    const { state } = this;
    const done = await reloadFromFiles(this.dir, state, this.options, true, this.logger, {
      stillWanted: () => !this.stopped,
      onSnapshot: this.onReloaded,
    });
    if (!done) return;
    this.journal.reset();
    this.logger.info(`memory: reloaded ${this.dir} (read-only) at write ${state.seq}: ${state.index.documentCount} episodes`);
  }
}
