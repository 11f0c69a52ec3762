/**
 * A guest context: a fresh QuickJS runtime + context with the prelude's kernel
 * evaluated and the globals a run needs installed, ready for the agent's code.
 * The engine may prepare one ahead (while the worker is idle); it serves a run
 * whose needs it covers, or one it can install more globals for: nothing
 * guest-controlled runs in it before.
 */
import { DefaultIntrinsics, type Intrinsics, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime } from 'quickjs-emscripten-core';
import { PRELUDE_FILENAME, PRELUDE_SOURCE, type Setup } from './runtime';
import { FS_METHODS, type JobSpec } from './protocol';
import { CAPTURED, LAZY_GLOBALS } from './guest/modules';
import { OPTIONAL_INTRINSICS, type CodeReach } from './mentions';
import { guestSource, readError } from './bridge';
import type { Holder } from './quickjsInstance';
import type { Job } from './runState';

/** Script (not module) evaluation, without the library's module sniffing of the source. */
export const GLOBAL = { type: 'global' } as const;

/** What a run's code can reach: every runtime global, or only these (see mentions.ts). */
export type Reach = 'all' | readonly string[];

/** The settings that decide which runtime globals a run is offered. */
export type Settings = Pick<JobSpec, 'hostNames'> & { limits: Pick<JobSpec['limits'], 'allowFilesystem' | 'allowNetwork'> };

export interface Prepared {
  holder: Holder;
  rt: QuickJSRuntime;
  ctx: QuickJSContext;
  /** The bridge, the prelude and the run function, in creation order. */
  handles: QuickJSHandle[];
  runFn: QuickJSHandle;
  /** The settings (settingsKey) its globals were installed for; undefined while it has the kernel only. */
  settings?: string;
  /** The runtime globals installed so far. */
  installed: 'all' | Set<string>;
  /** The optional built-ins it has (see mentions.ts). */
  intrinsics: 'all' | ReadonlySet<string>;
  ref: { job?: Job };
}

/** What a context does for the job attached to it. */
export interface ContextHooks {
  /** The interrupt handler: true stops the guest. */
  interrupt(job: Job): boolean;
  /** The bridge `h(op, ...)`. */
  bridge(ctx: QuickJSContext, job: Job, args: QuickJSHandle[]): QuickJSHandle | undefined;
}

/** The prelude's table of intrinsics to capture, in the flat form it walks with indexed loops. */
const CAPTURED_JSON = JSON.stringify(Object.entries(CAPTURED).map(([name, path]) => [name, ...path.split('.')]));

/**
 * A fresh runtime + context with the prelude's kernel evaluated, not yet tied
 * to a job: the bridge and the interrupt handler act for whichever job `ref`
 * names. Nothing guest-controlled has run in it. Throws (after cleaning up) on failure.
 */
export function createContext(holder: Holder, hooks: ContextHooks, intrinsics: CodeReach['intrinsics']): Prepared {
  const ref: { job?: Job } = {};
  const rt = holder.mod.newRuntime();
  const handles: QuickJSHandle[] = [];
  let ctx: QuickJSContext | undefined;
  try {
    rt.setInterruptHandler(() => (ref.job ? hooks.interrupt(ref.job) : false));
    ctx = intrinsics === 'all' ? rt.newContext() : rt.newContext({ intrinsics: withOptional(intrinsics) });
    const c = ctx;
    const h = c.newFunction('h', (...args) => {
      if (ref.job) return hooks.bridge(c, ref.job, args);
      // Before a job is attached (Engine.prepare) the prelude only fetches its sources.
      if (args[0] !== undefined && c.typeof(args[0]) === 'string' && c.getString(args[0]) === 'src') return guestSource(c, args[1]);
      throw new Error('no execution is running');
    });
    handles.push(h);
    const prelude = c.evalCode(PRELUDE_SOURCE, PRELUDE_FILENAME, GLOBAL);
    if (prelude.error) {
      const e = readError(c, prelude.error);
      prelude.error.dispose();
      throw new Error(`the sandbox prelude failed: ${e.name}: ${e.message}`);
    }
    handles.push(prelude.value);
    const captured = c.newString(CAPTURED_JSON);
    handles.push(captured);
    const runFn = c.callFunction(prelude.value, c.undefined, h, captured);
    if (runFn.error) {
      const e = readError(c, runFn.error);
      runFn.error.dispose();
      throw new Error(`the sandbox prelude failed: ${e.name}: ${e.message}`);
    }
    handles.push(runFn.value);
    return { holder, rt, ctx, handles, runFn: runFn.value, installed: new Set(), intrinsics: intrinsics === 'all' ? 'all' : new Set(intrinsics), ref };
  } catch (err) {
    try {
      for (let i = handles.length - 1; i >= 0; i--) handles[i].dispose();
      ctx?.dispose();
      rt.dispose();
    } catch {
      holder.broken = true;
    }
    throw err;
  }
}

/** The default built-ins without the optional groups (mentions.ts) other than `groups`. */
function withOptional(groups: readonly string[]): Intrinsics {
  const chosen: Intrinsics = { ...DefaultIntrinsics };
  for (const group of Object.keys(OPTIONAL_INTRINSICS)) (chosen as Record<string, boolean>)[group] = groups.includes(group);
  return chosen;
}

/**
 * Whether `p` can serve a run with these settings and reach. It must have the
 * built-ins the run needs (more are fine: the code cannot name them). Then one
 * with the kernel only serves any run; one with globals installed serves a run
 * of the same settings that reaches only named globals (those missing are
 * installed on top, in an order it cannot see), or that reaches all when it has all.
 */
export function canServe(p: Prepared, settings: string, reach: CodeReach): boolean {
  const has = p.intrinsics;
  if (has !== 'all' && (reach.intrinsics === 'all' || !reach.intrinsics.every((g) => has.has(g)))) return false;
  if (p.installed !== 'all' && p.installed.size === 0) return true;
  if (p.settings !== settings) return false;
  return reach.globals !== 'all' || p.installed === 'all';
}

/** Installs in `p` what a run with these settings and reach needs and it lacks (canServe(p, …) must hold). Throws on failure. */
export function installGlobals(p: Prepared, msg: Settings, reach: Reach): void {
  const had = p.installed;
  if (had === 'all') return;
  const missing = reach === 'all' ? reach : reach.filter((n) => !had.has(n));
  if (missing !== 'all' && missing.length === 0) return;
  const c = p.ctx;
  const arg = c.newString(setupJson(msg, missing));
  const installed = c.callFunction(p.runFn, c.undefined, arg);
  arg.dispose();
  if (installed.error) {
    const e = readError(c, installed.error);
    installed.error.dispose();
    throw new Error(`the sandbox environment could not be installed: ${e.name}: ${e.message}`);
  }
  installed.value.dispose();
  p.settings = settingsKey(msg);
  if (missing === 'all') p.installed = 'all';
  else for (const n of missing) had.add(n);
}

/** Frees a prepared context (throws if the module misbehaves). */
export function disposePrepared(p: Prepared): void {
  for (let i = p.handles.length - 1; i >= 0; i--) p.handles[i].dispose();
  p.ctx.dispose();
  p.rt.dispose();
}

/** The globals the guest's host module installs: host function roots ('memory' for 'memory.query'), fs, fetch. */
function hostGlobals(hostNames: readonly string[], fs: boolean, net: boolean): string[] {
  const roots = new Set(hostNames.map((n) => n.split('.')[0]));
  if (fs) roots.add('fs');
  if (net) roots.add('fetch');
  return [...roots];
}

/** The settings as a cache key. */
export function settingsKey(msg: Settings): string {
  return `${msg.limits.allowFilesystem ? 1 : 0}${msg.limits.allowNetwork ? 1 : 0}${msg.hostNames.join(',')}`;
}

/** The globals replaced by denial stubs. */
const denied = (net: boolean): string[] => (net ? ['eval', 'XMLHttpRequest', 'WebSocket'] : ['eval', 'XMLHttpRequest', 'WebSocket', 'fetch']);
const LAZY_TABLE = Object.entries(LAZY_GLOBALS);
const LAZY_NAMES = LAZY_TABLE.flatMap(([, names]) => names);

const offeredCache = new Map<string, string[]>();
/** Every runtime global a run with these settings is offered: what reachableGlobals (mentions.ts) looks for. */
export function runtimeGlobals(msg: Settings): readonly string[] {
  const key = settingsKey(msg);
  let names = offeredCache.get(key);
  if (names) return names;
  const { allowFilesystem: fs, allowNetwork: net } = msg.limits;
  names = [...new Set(['console', 'require', ...denied(net), ...(fs ? [] : ['fs']), ...hostGlobals(msg.hostNames, fs, net), ...LAZY_NAMES])];
  if (offeredCache.size > 100) offeredCache.clear();
  offeredCache.set(key, names);
  return names;
}

const setupCache = new Map<string, string>();
/** The install module's settings for these globals, as JSON (cached per distinct shape). */
export function setupJson(msg: Settings, reach: Reach): string {
  const { allowFilesystem: fs, allowNetwork: net } = msg.limits;
  const key = `${settingsKey(msg)}|${reach === 'all' ? '*' : reach.join(',')}`;
  let s = setupCache.get(key);
  if (s) return s;
  const wanted = (name: string): boolean => reach === 'all' || reach.includes(name);
  const setup: Setup = {
    h: hostGlobals(msg.hostNames, fs, net).filter(wanted),
    d: denied(net).filter(wanted),
    f: [...FS_METHODS],
    n: msg.hostNames,
    fs,
    net,
    k: wanted('console'),
    r: wanted('require'),
    s: !fs && wanted('fs'),
    l: LAZY_TABLE.map(([module, names]) => [module, names.filter(wanted)] as const).filter(([, names]) => names.length > 0),
  };
  s = JSON.stringify(setup);
  if (setupCache.size > 100) setupCache.clear();
  setupCache.set(key, s);
  return s;
}
