/**
 * Snapshots that never stop reads (issue 11): the database copied in slices (the backup API,
 * writes made meanwhile reaching the copy), the search index serialized in steps from a
 * frozen view while writes go on, the journal cut only at the snapshot's point; and a disk
 * that fills during a snapshot (a real tmpfs of a few MB when we may mount one, else an
 * ENOSPC injected at the file layer): a clear error, nothing acknowledged lost, the store
 * opens afterwards with everything.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TASK_TYPES } from '../../../src/memory';
import { MemoryError } from '../../../src/memory';
import type { Episode, MemoryStore } from '../../../src/memory';
import { readSnapshotSeq } from '../../../src/memory/files';
import { SearchIndex } from '../../../src/memory/search';
import { joinChunks, serializeIndex, serializeIndexSteps } from '../../../src/memory/search/format';
import { copyDatabase } from '../../../src/memory/store/dbCopy';
import { loadSqlJs } from '../../../src/memory/store/schema';
import { fastTmpDir, ok, openStore, rmDir, rng, tmpDir } from './helpers';

const NOW = Date.UTC(2026, 11, 1);

/** Episodes with a wide vocabulary (thousands of distinct terms), some in progress. */
function episodes(n: number, seed: number, prefix = 'ep', done = (i: number) => i % 10 !== 0): Episode[] {
  const r = rng(seed);
  const word = (): string => `w${Math.floor(r() * r() * 20000)}`;
  return Array.from({ length: n }, (_, i) => {
    const started = NOW - Math.floor(r() * 100 * 86_400_000) - i;
    const text = (k: number): string => Array.from({ length: k }, word).join(' ');
    return {
      id: `${prefix}_${i}`,
      task: `${text(8)} generated`,
      domain: ['web', 'cli', 'data'][i % 3],
      taskType: TASK_TYPES[i % TASK_TYPES.length],
      context: { tags: i % 4 === 0 ? ['flaky'] : [] },
      startedAt: new Date(started).toISOString(),
      steps: [{ n: 1, timestamp: new Date(started + 1000).toISOString(), tool: 'edit_file', action: text(6), parameters: {}, result: { status: 'success', output: text(4) } }],
      ...(done(i) ? { endedAt: new Date(started + 60_000).toISOString(), outcome: { type: 'success' as const, verdict: text(3) }, reward: 0.5 } : {}),
    };
  });
}

const exportOf = (eps: Episode[]): unknown => ({ format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes: eps });

const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('memory store: snapshots in slices', () => {
  it('serializes a frozen index while it changes into the bytes of the index at the freeze', () => {
    for (const withClear of [false, true]) {
      const index = new SearchIndex();
      const base = episodes(600, 3);
      base.forEach((e) => index.upsert(e));
      index.loadFrom(index.serialize()); // a base segment, as after an open
      episodes(200, 4, 'more').forEach((e) => index.upsert(e)); // and an overlay
      for (let i = 1; i < 600; i += 7) index.remove(`ep_${i}`); // tombstones: the renumbering path
      const expected = serializeIndex(index).bytes;

      const frozen = index.freeze();
      const steps = serializeIndexSteps(frozen);
      const later = episodes(300, 5, 'later');
      const pendingId = base.find((e) => !e.outcome)!.id;
      let n = 0;
      let r = steps.next();
      for (; !r.done; r = steps.next(), n++) {
        // Every kind of index change, between the steps.
        const e = later[n % later.length];
        index.upsert({ ...e, id: `${e.id}_${n}` });
        index.appendStep(pendingId, { n: 2 + n, timestamp: new Date(NOW).toISOString(), tool: 'run_tests', action: `brand new term${n}`, parameters: {}, result: ok() });
        if (n % 3 === 0) index.remove(`more_${n % 200}`);
        if (withClear && n === 5) index.clear();
      }
      index.thaw();
      assert.ok(n > 20, `the serialization took ${n} steps (it must yield often)`);
      assert.ok(Buffer.from(joinChunks(r.value.chunks, r.value.bytes)).equals(Buffer.from(expected)), `the bytes are those at the freeze${withClear ? ' (a clear meanwhile)' : ''}`);
      // The live index kept the changes made meanwhile.
      assert.equal(index.has(`later_${(n - 1) % later.length}_${n - 1}`), true);
      const reloaded = new SearchIndex();
      reloaded.loadFrom(expected);
      assert.equal(reloaded.has('ep_0'), true);
      assert.equal(reloaded.has('ep_1'), false);
    }
  });

  it('copies the database in steps; writes made between steps are in the copy', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.exec('PRAGMA page_size = 16384; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    db.exec('BEGIN');
    for (let i = 0; i < 40_000; i++) db.run('INSERT INTO t (v) VALUES (?)', [`row ${i} `.padEnd(120, 'x')]);
    db.exec('COMMIT');
    let pauses = 0;
    let atDone = -1;
    const copy = await copyDatabase(
      SQL,
      db,
      async () => {
        pauses++;
        db.run('INSERT INTO t (v) VALUES (?)', [`written during the copy ${pauses}`]);
        db.run('UPDATE t SET v = ? WHERE id = ?', [`updated ${pauses}`, pauses]);
        await nextTick();
      },
      () => (atDone = Number(db.exec('SELECT COUNT(*) FROM t')[0].values[0][0])),
    );
    db.run('INSERT INTO t (v) VALUES (?)', ['after the copy']);
    assert.ok(pauses >= 5, `the copy took ${pauses} steps`);
    const c = new SQL.Database(copy);
    try {
      assert.equal(c.exec('PRAGMA integrity_check')[0].values[0][0], 'ok');
      assert.equal(Number(c.exec('SELECT COUNT(*) FROM t')[0].values[0][0]), atDone, 'the copy is the database when the copy completed');
      assert.equal(atDone, 40_000 + pauses);
      assert.equal(c.exec('SELECT v FROM t WHERE id = ?', [pauses])[0].values[0][0], `updated ${pauses}`);
      assert.equal(c.exec(`SELECT COUNT(*) FROM t WHERE v = 'after the copy'`)[0].values[0][0], 0);
    } finally {
      c.close();
      db.close();
    }
  });

  describe('through the store', () => {
    let dir: string;
    let copyDir: string;
    beforeEach(() => {
      dir = fastTmpDir('mem-snap-');
      copyDir = tmpDir('mem-snap-copy-');
    });
    afterEach(() => {
      rmDir(dir);
      rmDir(copyDir);
    });

    it('answers reads and writes while a snapshot is taken; the journal keeps the writes after its point; a reopen has everything', async function () {
      this.timeout(120_000);
      const store = await openStore(dir);
      for (let i = 0; i < 3; i++) await store.importAll(exportOf(episodes(1000, 10 + i, `b${i}`)));
      await store.deleteEpisodes(['b0_1', 'b0_2', 'b1_3']);
      const long = await store.createEpisode({ task: 'a long session during a snapshot', taskType: 'refactoring' });
      const before = (await store.stats()).sequence!;

      let done = false;
      const snap = store.snapshot().then(() => (done = true));
      const written: string[] = [];
      let reads = 0;
      for (let n = 0; !done; n++) {
        const ep = await store.createEpisode({ task: `written during the snapshot zebra${n}`, taskType: 'testing' });
        await store.addStep(ep.id, { tool: 'run_tests', action: `check quagga${n}`, result: ok() });
        await store.completeEpisode(ep.id, { outcome: { type: 'success', verdict: 'ok' } });
        await store.addStep(long.id, { tool: 'edit_file', action: `edit ${n}`, result: ok() });
        written.push(ep.id);
        assert.ok((await store.query({ query: `zebra${n}` })).hits.some((h) => h.episode.id === ep.id), 'a write made during the snapshot is found at once');
        reads++;
        await nextTick();
      }
      await snap;
      const after = (await store.stats()).sequence!;
      const covered = readSnapshotSeq(path.join(dir, 'snapshot.db'))!;
      assert.ok(written.length >= 2 && reads >= 2, `calls answered during the snapshot: ${written.length}`);
      assert.ok(covered >= before && covered < after, `the snapshot covers write ${covered}: from ${before} (its start) to before ${after} (writes after its point stay in the journal)`);

      // What a crash now would leave: the snapshot plus the journal cut at its point.
      for (const f of ['snapshot.db', 'journal.log']) fs.copyFileSync(path.join(dir, f), path.join(copyDir, f));
      const warnings: string[] = [];
      const noop = (): void => undefined;
      const logger = { trace: noop, debug: noop, info: noop, warn: (m: string) => warnings.push(m), error: (m: string | Error) => warnings.push(String(m)) };
      const reopened = await openStore(copyDir, { logger });
      try {
        assert.equal((await reopened.stats()).sequence, after, 'every write is there (snapshot + journal tail)');
        assert.deepEqual(warnings, [], 'the snapshot index matches its database (no rebuild)');
        assert.equal((await reopened.getEpisode('b0_1')) ?? null, null);
        assert.equal((await reopened.getEpisodePage(long.id, { limit: 1 }))?.stepCount, written.length);
        for (const [n, id] of written.entries()) {
          const ep = await reopened.getEpisode(id);
          assert.equal(ep?.outcome?.type, 'success', `${id} written during the snapshot`);
          assert.ok((await reopened.query({ query: `quagga${n}` })).hits.some((h) => h.episode.id === id));
        }
        const q = { query: 'generated w17 w250', limit: 20 };
        const ids = (s: MemoryStore) => s.query(q).then((r) => r.hits.map((h) => h.episode.id));
        assert.deepEqual(await ids(reopened), await ids(store), 'the reopened store ranks as the live one');
      } finally {
        await reopened.close();
        await store.close();
      }
    });
  });

  describe('a disk that fills during a snapshot', () => {
    /** A real tmpfs of 8 MB when we may mount one (root on Linux), else undefined. */
    function mountTinyDisk(): string | undefined {
      if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
      const at = tmpDir('mem-full-');
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', at], { stdio: 'ignore' });
        return at;
      } catch {
        rmDir(at);
        return undefined;
      }
    }

    /** Makes writes of snapshot temp files fail with ENOSPC after their first 64 KB (the file layer's error, injected). */
    function injectFullDisk(): () => void {
      const open = fs.promises.open;
      fs.promises.open = (async (file: fs.PathLike, ...rest: unknown[]) => {
        const fh = await (open as (...a: unknown[]) => Promise<fs.promises.FileHandle>)(file, ...rest);
        if (!String(file).endsWith('.tmp')) return fh;
        const write = fh.write.bind(fh) as (...a: unknown[]) => Promise<{ bytesWritten: number }>;
        let written = 0;
        (fh as unknown as { write: (...a: unknown[]) => Promise<unknown> }).write = async (...a: unknown[]) => {
          if (written > 64 * 1024) throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
          const r = await write(...a);
          written += r.bytesWritten;
          return r;
        };
        return fh;
      });
      return () => {
        fs.promises.open = open;
      };
    }

    for (const how of ['a real tmpfs filled up', 'ENOSPC injected at the file layer'] as const) {
      it(`${how}: a clear error naming the full disk, nothing acknowledged lost, the store opens afterwards with everything`, async function () {
        this.timeout(120_000);
        const disk = how === 'a real tmpfs filled up' ? mountTinyDisk() : tmpDir('mem-full-');
        if (!disk) this.skip();
        const dir = path.join(disk, 'store');
        const filler = path.join(disk, 'filler');
        let restore: (() => void) | undefined;
        try {
          let store = await openStore(dir);
          const ids: string[] = [];
          for (let i = 0; i < 2; i++) {
            const r = await store.importAll(exportOf(episodes(150, 30 + i, `full${i}`)));
            ids.push(...r.ids);
          }
          // Leave the disk 96 KB: room for a few journal records, not for a snapshot.
          if (how === 'a real tmpfs filled up') {
            const st = fs.statfsSync(disk);
            fs.writeFileSync(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - 96 * 1024)));
          } else restore = injectFullDisk();
          await assert.rejects(
            store.snapshot(),
            (e: unknown) => e instanceof MemoryError && e.code === 'unavailable' && /disk is full \(ENOSPC\)/.test(e.message) && /snapshot/.test(e.message) && /Nothing was lost/.test(e.message),
          );
          assert.deepEqual(
            fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
            [],
            'the partial snapshot was removed (its space is free again)',
          );
          // Writes go on (into the journal) while the disk stays full.
          const late = await store.createEpisode({ task: 'written after the failed snapshot', taskType: 'testing' });
          await store.addStep(late.id, { tool: 'run_tests', action: 'still writing', result: ok() });
          ids.push(late.id);
          await store.close(); // its final snapshot fails too (logged); the journal holds everything
          store = await openStore(dir); // the disk still full
          for (const id of ids) assert.ok(await store.getEpisode(id), `${id} is there after the reopen`);
          assert.equal((await store.getEpisode(late.id))?.steps.length, 1);
          await store.close();
          // Space back: the next snapshot is taken and the store opens from it.
          restore?.();
          restore = undefined;
          fs.rmSync(filler, { force: true });
          store = await openStore(dir);
          await store.createEpisode({ task: 'after the space came back', taskType: 'testing' });
          await store.snapshot();
          assert.equal(readSnapshotSeq(path.join(dir, 'snapshot.db')), (await store.stats()).sequence);
          assert.equal((await store.stats()).episodes, ids.length + 1);
          await store.close();
        } finally {
          restore?.();
          if (how === 'a real tmpfs filled up') {
            try {
              execFileSync('umount', [disk], { stdio: 'ignore' });
            } catch {
              /* left mounted: nothing else uses it */
            }
          }
          rmDir(disk);
        }
      });
    }
  });
});
