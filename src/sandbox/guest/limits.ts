/** Limits the guest runtime enforces itself (the host re-exports them from protocol.ts). */

/** The returned value's JSON text is capped at this many characters. */
export const OUTPUT_CAP = 4 * 1024 * 1024;
