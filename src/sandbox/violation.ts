/** A denied capability use: the Sandbox turns it into a `security_violation` result. */
import type { ViolationType } from './types';

export class CapabilityViolation extends Error {
  constructor(
    readonly violationType: ViolationType,
    message: string,
  ) {
    super(message);
    this.name = 'CapabilityViolation';
  }
}
