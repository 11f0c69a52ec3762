/**
 * Long work cut into slices: the work calls `pause()` often (or is a generator that yields
 * often), and `pause()` hands the thread back to the event loop (setImmediate) once the
 * current slice has used its budget, so calls waiting in the worker's message queue are
 * answered in between.
 */
export class TimeSlices {
  private sliceStart = performance.now();

  constructor(private readonly budgetMs: number) {}

  /** Yields to the event loop when this slice has used its budget. */
  readonly pause = async (): Promise<void> => {
    if (performance.now() - this.sliceStart < this.budgetMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  };

  /** Runs a generator to its end, pausing between its steps. */
  async run<T>(steps: Generator<void, T>): Promise<T> {
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      await this.pause();
    }
  }
}
