/**
 * A guest context: a fresh QuickJS runtime + context with the prelude
 * evaluated and the run's environment installed, ready for the agent's code.
 * The engine may prepare one ahead (while the worker is idle); it serves only
 * a run with the same settings, and nothing guest-controlled runs in it before.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import { PRELUDE_FILENAME, PRELUDE_SOURCE, type Setup } from './runtime';
import { FS_METHODS, type JobSpec } from './protocol';
import { CAPTURED, LAZY_GLOBALS } from './guest/modules';
import { guestSource, readError } from './bridge';
import type { Holder } from './quickjsInstance';
import type { Job } from './runState';

/** Script (not module) evaluation, without the library's module sniffing of the source. */
export const GLOBAL = { type: 'global' } as const;

export interface Prepared {
  holder: Holder;
  rt: QuickJSRuntime;
  ctx: QuickJSContext;
  /** The bridge, the prelude and the run function, in creation order. */
  handles: QuickJSHandle[];
  runFn: QuickJSHandle;
  /** The settings (setup JSON) its environment was installed with. */
  setup: string;
  ref: { job?: Job };
}

/** What a context does for the job attached to it. */
export interface ContextHooks {
  /** The interrupt handler: true stops the guest. */
  interrupt(job: Job): boolean;
  /** The bridge `h(op, ...)`. */
  bridge(ctx: QuickJSContext, job: Job, args: QuickJSHandle[]): QuickJSHandle | undefined;
}

/**
 * A fresh runtime + context with the prelude evaluated, not yet tied to a job:
 * the bridge and the interrupt handler act for whichever job `ref` names.
 * Nothing guest-controlled has run in it. Throws (after cleaning up) on failure.
 */
export function createContext(holder: Holder, setup: string, hooks: ContextHooks): Prepared {
  const ref: { job?: Job } = {};
  const rt = holder.mod.newRuntime();
  const handles: QuickJSHandle[] = [];
  let ctx: QuickJSContext | undefined;
  try {
    rt.setInterruptHandler(() => (ref.job ? hooks.interrupt(ref.job) : false));
    ctx = rt.newContext();
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
    const runFn = c.callFunction(prelude.value, c.undefined, h);
    if (runFn.error) {
      const e = readError(c, runFn.error);
      runFn.error.dispose();
      throw new Error(`the sandbox prelude failed: ${e.name}: ${e.message}`);
    }
    handles.push(runFn.value);
    const setupArg = c.newString(setup);
    handles.push(setupArg);
    const installed = c.callFunction(runFn.value, c.undefined, setupArg);
    if (installed.error) {
      const e = readError(c, installed.error);
      installed.error.dispose();
      throw new Error(`the sandbox environment could not be installed: ${e.name}: ${e.message}`);
    }
    installed.value.dispose();
    return { holder, rt, ctx, handles, runFn: runFn.value, setup, ref };
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

const setupCache = new Map<string, string>();
/** The setup's tables in the flat form the prelude walks with indexed loops. */
const LAZY_TABLE = Object.entries(LAZY_GLOBALS);
const CAPTURED_TABLE = Object.entries(CAPTURED).map(([name, path]) => [name, ...path.split('.')]);

/** The prelude's settings for a run, as JSON (cached per distinct shape). */
export function setupJson(msg: Pick<JobSpec, 'hostNames'> & { limits: Pick<JobSpec['limits'], 'allowFilesystem' | 'allowNetwork'> }): string {
  const { allowFilesystem: fs, allowNetwork: net } = msg.limits;
  const key = `${fs ? 1 : 0}${net ? 1 : 0}${msg.hostNames.join(',')}`;
  let s = setupCache.get(key);
  if (s) return s;
  const setup: Setup = {
    h: hostGlobals(msg.hostNames, fs, net),
    d: net ? ['eval', 'XMLHttpRequest', 'WebSocket'] : ['eval', 'XMLHttpRequest', 'WebSocket', 'fetch'],
    f: [...FS_METHODS],
    n: msg.hostNames,
    fs,
    net,
    l: LAZY_TABLE,
    c: CAPTURED_TABLE,
  };
  s = JSON.stringify(setup);
  if (setupCache.size > 100) setupCache.clear();
  setupCache.set(key, s);
  return s;
}

