/**
 * The guest runtime as the engine evaluates it: the modules under guest/,
 * bundled at build time by esbuild (scripts/guest-bundle.mjs) into source text.
 * The prelude runs in every fresh context; the others are served by name on
 * first use through the bridge's 'src' op (the install module too, for a run
 * whose code can reach the globals it installs).
 */
import PRELUDE from 'guest-bundle:prelude';
import INSTALL from 'guest-bundle:install';
import COLD from 'guest-bundle:cold';
import GLOBALS from 'guest-bundle:globals';
import HOST from 'guest-bundle:host';
import CONSOLE from 'guest-bundle:console';
import INSPECT from 'guest-bundle:inspect';
import TIMERS from 'guest-bundle:timers';
import ENCODING from 'guest-bundle:encoding';
import CLONE from 'guest-bundle:clone';
import URL_MODULE from 'guest-bundle:url';
import CRYPTO from 'guest-bundle:crypto';
import DOMEXCEPTION from 'guest-bundle:domexception';
import EVENTS from 'guest-bundle:events';
import FETCH from 'guest-bundle:fetch';
import { INTERNAL_MODULES, LAZY_GLOBALS } from './guest/modules';

export type { Setup } from './guest/types';

export const PRELUDE_SOURCE: string = PRELUDE;
export const PRELUDE_FILENAME = 'sandbox-prelude.js';

const MODULES = new Map<string, string>([
  ['install', INSTALL],
  ['cold', COLD],
  ['globals', GLOBALS],
  ['host', HOST],
  ['console', CONSOLE],
  ['inspect', INSPECT],
  ['timers', TIMERS],
  ['encoding', ENCODING],
  ['clone', CLONE],
  ['url', URL_MODULE],
  ['crypto', CRYPTO],
  ['domexception', DOMEXCEPTION],
  ['events', EVENTS],
  ['fetch', FETCH],
]);
for (const name of [...INTERNAL_MODULES, ...Object.keys(LAZY_GLOBALS)]) {
  if (!MODULES.has(name)) throw new Error(`guest module ${name} has no bundle`);
}

/** The source of a guest module by name (see guest/modules.ts), or undefined. */
export function moduleSource(name: string): string | undefined {
  return MODULES.get(name);
}

/** The guest code becomes the body of this async function (same line numbers; line 1 is offset by its length). */
export const GUEST_HEAD = '(async function () {';
export const GUEST_TAIL = '\n})';
export const GUEST_FILENAME = 'guest.js';
