/**
 * A per-run quota that is reserved before the I/O starts and released for what
 * was not used, so concurrent calls can never together go past it (a check per
 * call, then counting after the await, let 100 parallel reads take 8x the
 * quota).
 */
import { CapabilityViolation } from './violation';

export class Budget {
  private used = 0;

  constructor(
    /** What is counted, for messages: "read quota", "fetch body budget". */
    readonly label: string,
    readonly limit: number,
    private readonly unit = 'bytes',
  ) {}

  /** Bytes (or other units) reserved or spent so far. */
  get reserved(): number {
    return this.used;
  }

  get remaining(): number {
    return this.limit - this.used;
  }

  /** Reserves `n` now, or throws a resource_exhaustion violation without reserving anything. */
  reserve(n: number, what: string): void {
    if (n > this.limit - this.used) {
      throw new CapabilityViolation('resource_exhaustion', `${what} (${n} ${this.unit}) would exceed the ${this.label} of ${this.limit} ${this.unit} (${Math.max(0, this.limit - this.used)} left)`);
    }
    this.used += n;
  }

  /** Gives back `n` of what was reserved and not used. */
  release(n: number): void {
    this.used = Math.max(0, this.used - Math.max(0, n));
  }
}
