import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { MemoryStore, MemoryError } from '../../../src/memory';
import { tmpDir, rmDir } from './helpers';

const FIXTURE = path.join(__dirname, 'fixtures', 'lock-holder.ts');

function startHolder(dir: string): Promise<{ child: ChildProcessWithoutNullStreams; id: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], { stdio: 'pipe' });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+)\n/.exec(out);
      if (m) resolve({ child, id: m[1] });
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`holder exited ${code}: ${err}`)));
  });
}

describe('memory store: two processes', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(() => rmDir(dir));

  it('a second opener gets a clear error naming the holder, or a read-only view; a dead holder is detected', async () => {
    const { child, id } = await startHolder(dir);
    try {
      await assert.rejects(
        MemoryStore.open({ dir }),
        (e: unknown) => e instanceof MemoryError && e.code === 'locked' && e.message.includes('lock-holder test child') && e.message.includes(`pid ${child.pid}`),
      );
      const ro = await MemoryStore.open({ dir, onLocked: 'readonly' });
      try {
        assert.equal(ro.readOnly, true);
        assert.equal((await ro.getEpisode(id))?.task, 'written by the lock holder', 'the view sees the holder’s acknowledged write');
        await assert.rejects(ro.createEpisode({ task: 'x', taskType: 'other' }), (e: unknown) => e instanceof MemoryError && e.code === 'read_only');
        await assert.rejects(ro.clear(), (e: unknown) => e instanceof MemoryError && e.code === 'read_only');
        assert.equal((await ro.stats()).readOnly, true);
        await ro.recordToolCall('t'); // counted in memory only, never an error
      } finally {
        await ro.close();
      }
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // The holder died without releasing: the lock is broken at once (dead pid on this host).
    const store = await MemoryStore.open({ dir });
    try {
      assert.ok(await store.getEpisode(id));
      await store.createEpisode({ task: 'after the holder died', taskType: 'other' });
    } finally {
      await store.close();
    }
  });

  it('breaks a lock left without a holder by a process killed while taking it', async () => {
    // What a SIGKILL between creating the lock and writing holder.json leaves behind.
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(path.join(dir, 'store.lock'));
    const store = await MemoryStore.open({ dir });
    try {
      assert.equal(store.readOnly, false);
      await store.createEpisode({ task: 'after an orphaned lock', taskType: 'other' });
    } finally {
      await store.close();
    }
  });

  it('waits out a fresh lock without a holder: broken once stale for 1 s, taken at once if released', async () => {
    // What a holder killed while releasing (holder.json gone, lock just refreshed) leaves behind...
    fs.mkdirSync(dir, { recursive: true });
    const lock = path.join(dir, 'store.lock');
    fs.mkdirSync(lock);
    const t0 = Date.now();
    const store = await MemoryStore.open({ dir });
    try {
      assert.equal(store.readOnly, false);
      assert.ok(Date.now() - t0 >= 900, 'a lock refreshed just now was broken before it had gone 1 s without a refresh');
      await store.createEpisode({ task: 'after a fresh orphaned lock', taskType: 'other' });
    } finally {
      await store.close();
    }
    // ...and a holder that finishes releasing while the opener waits: the lock is taken, not reported as in use.
    fs.mkdirSync(lock);
    setTimeout(() => fs.rmSync(lock, { recursive: true, force: true }), 300);
    const again = await MemoryStore.open({ dir });
    try {
      assert.equal(again.readOnly, false);
    } finally {
      await again.close();
    }
  });

  it('hands over cleanly after the holder closes', async () => {
    const { child, id } = await startHolder(dir);
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    const store = await MemoryStore.open({ dir });
    try {
      assert.ok(await store.getEpisode(id));
    } finally {
      await store.close();
    }
  });

  it('locks within one process too', async () => {
    const a = await MemoryStore.open({ dir });
    try {
      await assert.rejects(MemoryStore.open({ dir }), (e: unknown) => e instanceof MemoryError && e.code === 'locked');
    } finally {
      await a.close();
    }
    const b = await MemoryStore.open({ dir });
    await b.close();
  });
});
