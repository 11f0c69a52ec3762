/**
 * The guest's file system, confined to the allowed roots and safe against a
 * local process that swaps directories for symbolic links while we work.
 *
 * Names are never checked and then opened again by name. Every operation walks
 * the path from the allowed root one component at a time, opening each
 * directory relative to the descriptor of the one before (on Linux through
 * `/proc/self/fd/<fd>/<name>`, which resolves from the directory the
 * descriptor holds, not from a path) with O_NOFOLLOW: a symbolic link anywhere
 * on the way fails the open instead of being followed. The final operation
 * (open, lstat, mkdir, unlink, rename) is then made relative to the verified
 * parent, and never follows a final symbolic link either. Writes go to a new
 * temporary file in the verified directory and are renamed over the target.
 * Symbolic links inside the allowed folders are therefore never followed.
 *
 * Other platforms have no race-free "open relative to a descriptor" in Node:
 * there each component is still opened with O_NOFOLLOW, by its full path, which
 * refuses links present when checked but not one swapped in between (see
 * docs/THREAT_MODEL.md).
 */
import { constants as FS, promises as fsp, type Dirent } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Budget } from './budget';
import { FS_METHODS, type FsMethod } from './protocol';
import { CapabilityViolation } from './violation';

const PROC_FD = process.platform === 'linux' ? '/proc/self/fd' : undefined;
const DIR_FLAGS = FS.O_RDONLY | (FS.O_DIRECTORY ?? 0) | (FS.O_NOFOLLOW ?? 0);
const MAX_LISTED = 10_000;
const READ_CHUNK = 1024 * 1024;

export interface FsQuotas {
  ops: number;
  readBytes: number;
  writeBytes: number;
}

export interface FsStat {
  size: number;
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
  mtimeMs: number;
}

interface Dir {
  fh: FileHandle;
  /** For messages, and the path used where there is no /proc. */
  path: string;
}

interface Located {
  root: string;
  /** Components below the root (empty: the root itself). */
  parts: string[];
  shown: string;
}

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException)?.code;
const within = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/** A path the guest may name (under one of `roots`, which are resolved real paths), refused otherwise. */
export function locate(roots: readonly string[], input: unknown): Located {
  if (typeof input !== 'string' || input.length === 0) throw new CapabilityViolation('filesystem', 'a path must be a non-empty string');
  if (input.includes('\0')) throw new CapabilityViolation('path_traversal', 'a path must not contain NUL characters');
  let decoded = input;
  try {
    decoded = decodeURIComponent(input);
  } catch {
    // not URL-encoded
  }
  if ([input, decoded].some((p) => p.split(/[\\/]+/).includes('..'))) {
    throw new CapabilityViolation('path_traversal', `'..' is not allowed in paths (${JSON.stringify(input)})`);
  }
  if (roots.length === 0) throw new CapabilityViolation('filesystem', 'file-system access is enabled but no allowed path is configured');
  const abs = path.isAbsolute(input) ? path.resolve(input) : path.resolve(roots[0], input);
  // The longest matching root: nested allowed folders are walked from the nearest.
  const root = roots.filter((r) => within(r, abs)).sort((a, b) => b.length - a.length)[0];
  if (root === undefined) throw new CapabilityViolation('filesystem', `${JSON.stringify(input)} is outside the allowed paths`);
  const rest = path.relative(root, abs);
  return { root, parts: rest === '' ? [] : rest.split(path.sep), shown: JSON.stringify(input) };
}

/** One run's confined file system: its operations, with their quotas reserved before any I/O. */
export class ConfinedFs {
  private ops = 0;
  readonly readBudget: Budget;
  readonly writeBudget: Budget;

  constructor(
    private readonly roots: readonly string[],
    private readonly quotas: FsQuotas,
    private readonly signal: AbortSignal,
  ) {
    this.readBudget = new Budget('read quota', quotas.readBytes);
    this.writeBudget = new Budget('write quota', quotas.writeBytes);
  }

  static has(name: string): boolean {
    return name.startsWith('fs.') && (FS_METHODS as readonly string[]).includes(name.slice(3));
  }

  call(method: FsMethod, args: unknown[]): Promise<unknown> {
    this.countOp();
    switch (method) {
      case 'readFile':
        return this.readFile(args[0], args[1]);
      case 'writeFile':
        return this.writeFile(args[0], args[1]);
      case 'readdir':
        return this.readdir(args[0]);
      case 'stat':
        return this.stat(args[0]);
      case 'mkdir':
        return this.mkdir(args[0], args[1]);
      case 'rm':
        return this.rm(args[0], args[1]);
      case 'rename':
        return this.rename(args[0], args[1]);
    }
  }

  // ---- operations ---------------------------------------------------------

  private async readFile(p: unknown, encoding: unknown): Promise<string> {
    const at = locate(this.roots, p);
    const fh = await this.withParent(at, (dir, name) => this.open(child(dir, name), FS.O_RDONLY | FS.O_NOFOLLOW | FS.O_NONBLOCK, at));
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new CapabilityViolation('filesystem', `${at.shown} is not a regular file`);
      this.readBudget.reserve(st.size, `reading ${at.shown}`);
      let got = 0;
      try {
        // Never more than the size reserved, even if the file grows meanwhile.
        const buf = Buffer.allocUnsafe(st.size);
        while (got < st.size) {
          this.checkAborted();
          const { bytesRead } = await fh.read(buf, got, Math.min(READ_CHUNK, st.size - got), got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return buf.subarray(0, got).toString(encoding === 'base64' ? 'base64' : 'utf8');
      } finally {
        this.readBudget.release(st.size - got);
      }
    } finally {
      await fh.close();
    }
  }

  private async writeFile(p: unknown, data: unknown): Promise<void> {
    if (typeof data !== 'string') throw new Error('fs.writeFile(path, data): data must be a string');
    const at = locate(this.roots, p);
    if (at.parts.length === 0) throw new Error(`${at.shown} is an allowed folder itself, not a file`);
    const bytes = Buffer.from(data, 'utf8');
    this.writeBudget.reserve(bytes.length, `writing ${at.shown}`);
    let written = false;
    try {
      await this.withParent(at, async (dir, name) => {
        // Refused like every other link (rename() would replace the link itself, never write through it).
        if (await fsp.lstat(child(dir, name)).then((st) => st.isSymbolicLink(), () => false)) throw linkViolation(at);
        const tmp = `.${name.slice(0, 100)}.${randomBytes(6).toString('hex')}.sbx-tmp`;
        const fh = await this.open(child(dir, tmp), FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, at, 0o644);
        try {
          try {
            await fh.write(bytes, 0, bytes.length, 0);
          } finally {
            await fh.close();
          }
          this.checkAborted();
          // rename() replaces a final symbolic link itself; it never writes through one.
          await fsp.rename(child(dir, tmp), child(dir, name));
          written = true;
        } finally {
          if (!written) await fsp.unlink(child(dir, tmp)).catch(() => undefined);
        }
      });
    } catch (err) {
      this.writeBudget.release(bytes.length);
      throw this.mapError(err, at);
    }
  }

  private async readdir(p: unknown): Promise<string[]> {
    const at = locate(this.roots, p);
    const dir = await this.walk(at, at.parts.length);
    try {
      const names: string[] = [];
      const listing = await fsp.opendir(dirPath(dir));
      try {
        for (let e: Dirent | null = await listing.read(); e && names.length < MAX_LISTED; e = await listing.read()) names.push(e.name);
      } finally {
        await listing.close().catch(() => undefined);
      }
      return names;
    } finally {
      await dir.fh.close();
    }
  }

  private async stat(p: unknown): Promise<FsStat> {
    const at = locate(this.roots, p);
    const st = await this.withParent(at, (dir, name) => fsp.lstat(child(dir, name)), (dir) => dir.fh.stat());
    return { size: st.size, isFile: st.isFile(), isDirectory: st.isDirectory(), isSymbolicLink: st.isSymbolicLink(), mtimeMs: st.mtimeMs };
  }

  private async mkdir(p: unknown, options: unknown): Promise<void> {
    const at = locate(this.roots, p);
    const recursive = isObject(options) && options.recursive === true;
    if (at.parts.length === 0) {
      if (recursive) return;
      throw new Error(`${at.shown} already exists (it is an allowed folder)`);
    }
    if (!recursive) {
      await this.withParent(at, (dir, name) => fsp.mkdir(child(dir, name)));
      return;
    }
    const dir = await this.walk(at, at.parts.length, true);
    await dir.fh.close();
  }

  private async rm(p: unknown, options: unknown): Promise<void> {
    const at = locate(this.roots, p);
    if (at.parts.length === 0) throw new CapabilityViolation('filesystem', `${at.shown} is an allowed folder itself and cannot be removed`);
    const recursive = isObject(options) && options.recursive === true;
    const force = isObject(options) && options.force === true;
    try {
      await this.withParent(at, (dir, name) => this.remove(dir, name, recursive, at));
    } catch (err) {
      if (force && code(err) === 'ENOENT') return;
      throw err;
    }
  }

  private async rename(from: unknown, to: unknown): Promise<void> {
    const a = locate(this.roots, from);
    const b = locate(this.roots, to);
    if (a.parts.length === 0 || b.parts.length === 0) throw new CapabilityViolation('filesystem', 'an allowed folder itself cannot be renamed or replaced');
    await this.withParent(a, (da, na) => this.withParent(b, (db, nb) => fsp.rename(child(da, na), child(db, nb))));
  }

  // ---- the walk -----------------------------------------------------------

  private countOp(): void {
    if (++this.ops > this.quotas.ops) throw new CapabilityViolation('resource_exhaustion', `more than ${this.quotas.ops} file-system operations in one execution`);
  }

  private checkAborted(): void {
    if (this.signal.aborted) throw new Error('the execution has ended');
  }

  /** Opens the root and the first `depth` components below it, each with no-follow (creating missing ones when `create`). */
  private async walk(at: Located, depth: number, create = false): Promise<Dir> {
    this.checkAborted();
    let dir: Dir = { fh: await this.open(at.root, DIR_FLAGS, at), path: at.root };
    try {
      for (let i = 0; i < depth; i++) {
        this.checkAborted();
        const name = at.parts[i];
        let fh: FileHandle;
        try {
          fh = await this.open(child(dir, name), DIR_FLAGS, at);
        } catch (err) {
          if (!create || code(err) !== 'ENOENT') throw err;
          this.countOp();
          await fsp.mkdir(child(dir, name)).catch((e: unknown) => {
            if (code(e) !== 'EEXIST') throw e;
          });
          fh = await this.open(child(dir, name), DIR_FLAGS, at);
        }
        const next = { fh, path: path.join(dir.path, name) };
        await dir.fh.close();
        dir = next;
      }
      return dir;
    } catch (err) {
      await dir.fh.close().catch(() => undefined);
      throw this.mapError(err, at);
    }
  }

  /** Runs `fn` on the verified parent directory and the final name (or `onRoot` for the root itself). */
  private async withParent<T>(at: Located, fn: (dir: Dir, name: string) => Promise<T>, onRoot?: (dir: Dir) => Promise<T>): Promise<T> {
    const last = at.parts.length - 1;
    if (last < 0 && !onRoot) throw new Error(`${at.shown} is an allowed folder itself`);
    const dir = await this.walk(at, Math.max(0, last));
    try {
      return await (last < 0 && onRoot ? onRoot(dir) : fn(dir, at.parts[last]));
    } catch (err) {
      throw this.mapError(err, at);
    } finally {
      await dir.fh.close().catch(() => undefined);
    }
  }

  private async open(p: string, flags: number, at: Located, mode?: number): Promise<FileHandle> {
    try {
      return await fsp.open(p, flags, mode);
    } catch (err) {
      // O_NOFOLLOW on a symbolic link: ELOOP; with O_DIRECTORY as well: ENOTDIR.
      if (code(err) === 'ELOOP') throw linkViolation(at);
      if (code(err) === 'ENOTDIR' && (await fsp.lstat(p).then((s) => s.isSymbolicLink(), () => false))) throw linkViolation(at);
      throw err;
    }
  }

  /** Removes `name` in `dir` without following links; a directory's contents only when recursive (each entry is an operation). */
  private async remove(dir: Dir, name: string, recursive: boolean, at: Located): Promise<void> {
    this.checkAborted();
    const st = await fsp.lstat(child(dir, name));
    if (!st.isDirectory()) return fsp.unlink(child(dir, name));
    if (recursive) {
      const sub: Dir = { fh: await this.open(child(dir, name), DIR_FLAGS, at), path: path.join(dir.path, name) };
      try {
        for (const entry of await fsp.readdir(dirPath(sub))) {
          this.countOp();
          await this.remove(sub, entry, true, at);
        }
      } finally {
        await sub.fh.close();
      }
    }
    await fsp.rmdir(child(dir, name));
  }

  /** Node's errors name /proc/self/fd paths; the guest sees its own path instead. */
  private mapError(err: unknown, at: Located): unknown {
    if (err instanceof CapabilityViolation || !(err instanceof Error)) return err;
    const c = code(err);
    if (!c || !err.message.includes('/proc/self/fd/')) return err;
    const what: Record<string, string> = { ENOENT: 'no such file or directory', EEXIST: 'already exists', ENOTDIR: 'not a directory', EISDIR: 'is a directory', ENOTEMPTY: 'directory not empty', EACCES: 'permission denied', EPERM: 'operation not permitted' };
    const e = new Error(`${c}: ${what[c] ?? 'failed'}: ${at.shown}`) as NodeJS.ErrnoException;
    e.code = c;
    return e;
  }
}

function child(dir: Dir, name: string): string {
  return PROC_FD ? `${PROC_FD}/${dir.fh.fd}/${name}` : path.join(dir.path, name);
}

function dirPath(dir: Dir): string {
  return PROC_FD ? `${PROC_FD}/${dir.fh.fd}` : dir.path;
}

function linkViolation(at: Located): CapabilityViolation {
  return new CapabilityViolation('path_traversal', `${at.shown} goes through a symbolic link; the sandbox does not follow links`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
