/**
 * The guest runtime as the engine evaluates it: the modules under guest/,
 * bundled at build time by esbuild (scripts/guest-bundle.mjs) into source text.
 * The prelude runs in every fresh context; the others are served on first use
 * through the bridge's 'src' op.
 */
import PRELUDE from 'guest-bundle:prelude';
import COLD from 'guest-bundle:cold';
import HOST from 'guest-bundle:host';
import { SOURCE_COLD, SOURCE_HOST } from './guest/types';

export type { Setup } from './guest/types';

export const PRELUDE_SOURCE: string = PRELUDE;
export const PRELUDE_FILENAME = 'sandbox-prelude.js';

const MODULES: Record<number, string> = { [SOURCE_COLD]: COLD, [SOURCE_HOST]: HOST };

/** The source of guest module `n` (see guest/types.ts), or undefined. */
export function moduleSource(n: number): string | undefined {
  return Object.prototype.hasOwnProperty.call(MODULES, n) ? MODULES[n] : undefined;
}

/** The guest code becomes the body of this async function (same line numbers; line 1 is offset by its length). */
export const GUEST_HEAD = '(async function () {';
export const GUEST_TAIL = '\n})';
export const GUEST_FILENAME = 'guest.js';
