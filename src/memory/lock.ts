/**
 * Exclusive lock on a store folder: proper-lockfile (mkdir-based, mtime kept
 * fresh by `update`, considered stale after `stale` ms) plus a `holder.json`
 * naming the holder (pid, host, description) so a second opener gets a clear
 * error. A lock whose holder is a dead process on this host is broken at once
 * instead of waiting for it to go stale.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import { MemoryError } from './errors';
import type { Logger } from '../common/logger';
import type { OpenOptions } from './types';

export interface Holder {
  pid: number;
  host: string;
  description: string;
  since: string;
}

export interface Lock {
  release(): Promise<void>;
}

const LOCK_NAME = 'store.lock';
const HOLDER_NAME = 'holder.json';

function readHolder(dir: string): Holder | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, HOLDER_NAME), 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How long a lock may lack its holder.json (and go without a refresh) before it counts as left by a killed process. */
const ORPHAN_MS = 1000;

function lockAgeMs(lockfilePath: string): number {
  try {
    return Date.now() - fs.statSync(lockfilePath).mtimeMs;
  } catch {
    return 0;
  }
}

export function describeHolder(h: Holder | undefined): string {
  return h ? `${h.description} (pid ${h.pid} on ${h.host}, since ${h.since})` : 'another process (holder unknown)';
}

async function lockOrBreak(dir: string, lockfilePath: string, opts: lockfile.LockOptions, logger: Logger, attempt = 0): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(dir, opts);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
  }
  let holder = readHolder(dir);
  // A holder writes holder.json right after creating the lock, and removes it just before
  // removing the lock. A lock that has no holder.json for ORPHAN_MS on end, and was not kept
  // fresh for as long, was left by a process killed in between: break it like a dead one's.
  // One that disappears meanwhile was released: take it.
  let orphan = false;
  let gone = false;
  if (!holder) {
    const start = Date.now();
    const deadline = start + ORPHAN_MS + Number(opts.update ?? 1000) + 1000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      if (!fs.existsSync(lockfilePath)) {
        gone = true;
        break;
      }
      holder = readHolder(dir);
      if (holder) break;
      if (Date.now() - start >= ORPHAN_MS && lockAgeMs(lockfilePath) >= ORPHAN_MS) {
        orphan = true;
        break;
      }
    }
  }
  if (gone && attempt < 3) return lockOrBreak(dir, lockfilePath, opts, logger, attempt + 1);
  const deadHolder = holder !== undefined && holder.host === os.hostname() && holder.pid !== process.pid && !pidAlive(holder.pid);
  if (!orphan && !deadHolder) throw new MemoryError('locked', `The memory store at ${dir} is in use by ${describeHolder(holder)}.`);
  logger.warn(`memory: breaking the lock of ${holder ? `dead process ${holder.pid}` : 'a process that died while taking or releasing it'} on ${dir}`);
  fs.rmSync(lockfilePath, { recursive: true, force: true });
  try {
    return await lockfile.lock(dir, opts);
  } catch (e2) {
    if ((e2 as NodeJS.ErrnoException).code !== 'ELOCKED') throw e2;
    throw new MemoryError('locked', `The memory store at ${dir} is in use by ${describeHolder(readHolder(dir))}.`);
  }
}

export async function acquireLock(
  dir: string,
  description: string,
  logger: Logger,
  onCompromised: (err: Error) => void,
  staleMs = 10_000,
): Promise<Lock> {
  const lockfilePath = path.join(dir, LOCK_NAME);
  const opts: lockfile.LockOptions = {
    lockfilePath,
    realpath: false,
    stale: staleMs,
    update: Math.max(1000, Math.floor(staleMs / 3)),
    retries: 0,
    onCompromised,
  };
  const release = await lockOrBreak(dir, lockfilePath, opts, logger);
  const me: Holder = { pid: process.pid, host: os.hostname(), description, since: new Date().toISOString() };
  const tmp = path.join(dir, `${HOLDER_NAME}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(me));
  fs.renameSync(tmp, path.join(dir, HOLDER_NAME));
  return {
    release: async () => {
      try {
        fs.rmSync(path.join(dir, HOLDER_NAME), { force: true });
      } catch {
        /* ignore */
      }
      await release();
    },
  };
}

/**
 * The lock an opener takes, as OpenOptions ask: `access` 'readonly' takes none; 'held' none
 * either (the caller's process holds it); 'lock' takes it, or gives a read-only view when
 * another process holds it and `onLocked` is 'readonly'. `onLost` hears of a compromised lock.
 */
export async function lockForOpen(
  dir: string,
  options: Pick<OpenOptions, 'access' | 'onLocked' | 'holderDescription' | 'lockStaleMs'>,
  logger: Logger,
  onLost: (err: Error) => void,
): Promise<{ lock?: Lock; readOnly: boolean }> {
  const access = options.access ?? 'lock';
  if (access !== 'lock') return { readOnly: access === 'readonly' };
  const onCompromised = (err: Error): void => {
    logger.error(`memory: the lock on ${dir} was compromised: ${err.message}; the store stops accepting writes`);
    onLost(err);
  };
  try {
    return { lock: await acquireLock(dir, options.holderDescription ?? `memory store (${process.title} ${process.pid})`, logger, onCompromised, options.lockStaleMs), readOnly: false };
  } catch (e) {
    if (e instanceof MemoryError && e.code === 'locked' && options.onLocked === 'readonly') {
      logger.info(`memory: ${e.message} Opening a read-only view.`);
      return { readOnly: true };
    }
    throw e;
  }
}

/** Releases a lock (if any), logging rather than throwing a failure (the caller is closing). */
export async function releaseLock(lock: Lock | undefined, logger: Logger): Promise<void> {
  await lock?.release().catch((e: unknown) => logger.warn(`memory: releasing the lock: ${(e as Error).message}`));
}
