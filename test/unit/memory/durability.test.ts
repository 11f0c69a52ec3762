import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import * as esbuild from 'esbuild';
import { MemoryStore, MemoryError, defaultMemoryWorkerPath, defaultWasmPath } from '../../../src/memory';
import { tmpDir, rmDir, openStore, ok, record } from './helpers';

const FIXTURE = path.join(__dirname, 'fixtures', 'crash-writer.ts');

function warnings(): { logger: Parameters<typeof MemoryStore.open>[0]['logger']; seen: string[] } {
  const seen: string[] = [];
  const noop = (): void => undefined;
  return { seen, logger: { trace: noop, debug: noop, info: noop, warn: (m: string) => seen.push(m), error: (m: string | Error) => seen.push(String(m)) } };
}

describe('memory store: durability', () => {
  let dir: string;
  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(() => rmDir(dir));

  it('replays the journal over the snapshot (writes after the last snapshot survive)', async () => {
    let store = await openStore(dir);
    const a = await record(store, 'first episode before snapshot', 'testing', [['t', 'a', ok()]], { type: 'success', verdict: 'v' });
    await store.snapshot();
    const b = await record(store, 'second episode after snapshot', 'testing', [['u', 'b', ok()]], { type: 'failure', reason: 'r' });
    const c = await store.createEpisode({ task: 'third, in progress', taskType: 'other' });
    await store.addStep(c.id, { tool: 'x', action: 'y', result: ok() });
    // Simulate a crash: do not close; copy the files to another folder and open that.
    const copy = tmpDir();
    for (const f of ['snapshot.db', 'journal.log']) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
    await store.close();
    store = await openStore(copy);
    try {
      assert.ok(await store.getEpisode(a));
      assert.equal((await store.getEpisode(b))?.outcome?.type, 'failure');
      assert.equal((await store.getEpisode(c.id))?.steps.length, 1);
      assert.equal((await store.query({ query: 'second episode' })).hits[0]?.episode.id, b);
      assert.equal((await store.query({ query: 'third progress' })).hits[0]?.episode.id, c.id);
    } finally {
      await store.close();
      rmDir(copy);
    }
  });

  it('replays interleaved episodes, deletions and repeats to the same state as the live store', async () => {
    let store = await openStore(dir);
    await record(store, 'echo before the snapshot', 'other', [['t', 'a', ok()]], { type: 'success', verdict: 'v' });
    await store.snapshot();
    const long = 'x'.repeat(400); // long enough for the compressed column encoding
    const a = await store.createEpisode({ task: 'alpha in progress', taskType: 'debugging' });
    const b = await store.createEpisode({ task: 'bravo finished later', taskType: 'testing' });
    await store.addStep(a.id, { tool: 'read_file', action: `open ${long}`, result: ok() });
    await store.addStep(b.id, { tool: 'run_tests', action: 'run', result: { status: 'error', message: `TypeError ${long}` } });
    await store.addStep(b.id, { tool: 'edit_file', action: 'fix', result: ok() });
    await store.addStep(a.id, { tool: 'edit_file', action: 'change', result: ok() });
    await store.completeEpisode(b.id, { outcome: { type: 'success', verdict: 'bravo fixed' } });
    const c = await record(store, 'charlie to delete', 'testing', [['t', 'a', ok()]], { type: 'success', verdict: 'v' });
    await store.deleteEpisode(c);
    const d1 = await record(store, 'delta twin', 'other', [['t', 'a', ok()]], { type: 'success', verdict: 'v' });
    const d2 = await record(store, 'delta twin', 'other', [['t', 'a', ok()]], { type: 'success', verdict: 'v' });
    assert.notEqual(d2, d1, 'a repeat is kept as its own episode');
    const live = {
      twins: await store.query({ query: 'delta twin' }),
      a: await store.getEpisode(a.id),
      b: await store.getEpisode(b.id),
      list: await store.listEpisodes({ limit: 50 }),
      patterns: await store.listPatterns({ limit: 1000 }),
      q: await store.query({ query: 'bravo typeerror' }),
    };
    const copy = tmpDir();
    for (const f of ['snapshot.db', 'journal.log']) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
    await store.close();
    store = await openStore(copy);
    try {
      assert.deepEqual(await store.getEpisode(a.id), live.a);
      assert.deepEqual(await store.getEpisode(b.id), live.b);
      assert.equal((await store.getEpisode(a.id))?.steps[0].action, `open ${long}`);
      assert.equal(await store.getEpisode(c), undefined);
      assert.deepEqual(await store.listEpisodes({ limit: 50 }), live.list);
      assert.deepEqual(await store.listPatterns({ limit: 1000 }), live.patterns);
      const q = await store.query({ query: 'bravo typeerror' });
      assert.deepEqual(
        q.hits.map((h) => h.episode.id),
        live.q.hits.map((h) => h.episode.id),
      );
      assert.equal(q.total, live.q.total);
      assert.equal((await store.query({ query: 'alpha progress' })).hits[0]?.episode.id, a.id);
      const twins = await store.query({ query: 'delta twin' });
      assert.deepEqual(twins.hits[0].repeats, live.twins.hits[0].repeats);
      assert.equal(twins.hits[0].repeats?.count, 2);
    } finally {
      await store.close();
      rmDir(copy);
    }
  });

  it('skips journal records already covered by the snapshot (crash between snapshot and journal cut)', async () => {
    const store = await openStore(dir);
    await record(store, 'covered episode', 'testing', [['t', 'a', ok()]], { type: 'success', verdict: 'v' });
    const journalBefore = fs.readFileSync(path.join(dir, 'journal.log'));
    await store.snapshot();
    const copy = tmpDir();
    fs.copyFileSync(path.join(dir, 'snapshot.db'), path.join(copy, 'snapshot.db'));
    fs.writeFileSync(path.join(copy, 'journal.log'), journalBefore); // old, uncut journal
    await store.close();
    const s2 = await openStore(copy);
    try {
      assert.equal((await s2.stats()).episodes, 1);
      assert.equal((await s2.listPatterns()).find((p) => p.id.endsWith('|t'))?.occurrences ?? 1, 1);
    } finally {
      await s2.close();
      rmDir(copy);
    }
  });

  it('drops a torn last journal record with a warning and keeps the rest', async () => {
    const store = await openStore(dir);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await store.createEpisode({ task: `episode ${i}`, taskType: 'other' })).id);
    const copy = tmpDir();
    const j = fs.readFileSync(path.join(dir, 'journal.log'));
    await store.close();
    for (const cut of [1, 5, 9, 20]) {
      fs.writeFileSync(path.join(copy, 'journal.log'), j.subarray(0, j.length - cut));
      const w = warnings();
      const s2 = await MemoryStore.open({ dir: copy, logger: w.logger, snapshotDebounceMs: 60_000 });
      try {
        assert.ok(await s2.getEpisode(ids[0]));
        assert.ok(await s2.getEpisode(ids[1]));
        assert.equal(await s2.getEpisode(ids[2]), undefined);
        assert.ok(w.seen.some((m) => /torn/.test(m)), 'warned about the torn record');
        // New writes after a torn tail are kept (the tail was cut before appending).
        const n = await s2.createEpisode({ task: 'after torn', taskType: 'other' });
        const copy2 = tmpDir();
        fs.copyFileSync(path.join(copy, 'journal.log'), path.join(copy2, 'journal.log'));
        const s3 = await openStore(copy2);
        assert.ok(await s3.getEpisode(n.id));
        await s3.close();
        rmDir(copy2);
      } finally {
        await s2.close();
      }
      fs.rmSync(path.join(copy, 'snapshot.db'), { force: true });
    }
    rmDir(copy);
  });

  it('refuses a journal corrupted in the middle, changing nothing', async () => {
    const store = await openStore(dir);
    for (let i = 0; i < 3; i++) await store.createEpisode({ task: `episode ${i}`, taskType: 'other' });
    const copy = tmpDir();
    const j = Buffer.from(fs.readFileSync(path.join(dir, 'journal.log')));
    await store.close();
    j[30] ^= 0xff; // inside the first record's payload
    fs.writeFileSync(path.join(copy, 'journal.log'), j);
    await assert.rejects(openStore(copy), (e: unknown) => e instanceof MemoryError && e.code === 'corrupt' && /journal/.test(e.message));
    assert.deepEqual(fs.readFileSync(path.join(copy, 'journal.log')), j, 'journal untouched');
    assert.ok(!fs.existsSync(path.join(copy, 'store.lock')), 'lock released after a failed open');
    rmDir(copy);
  });

  for (const damage of ['truncated', 'bit flip', 'garbage'] as const) {
    it(`refuses a ${damage} snapshot with a clear error and keeps it aside (never an empty store)`, async () => {
      const store = await openStore(dir);
      await record(store, 'precious episode', 'testing', [['t', 'a', ok()]], { type: 'success', verdict: 'v' });
      await store.close();
      const file = path.join(dir, 'snapshot.db');
      const good = fs.readFileSync(file);
      const bad =
        damage === 'truncated' ? good.subarray(0, Math.floor(good.length / 2)) : damage === 'garbage' ? Buffer.from('hello, not a snapshot at all'.repeat(10)) : Buffer.from(good);
      if (damage === 'bit flip') bad[Math.floor(bad.length / 2)] ^= 0x10;
      fs.writeFileSync(file, bad);
      for (let attempt = 0; attempt < 2; attempt++) {
        await assert.rejects(openStore(dir), (e: unknown) => e instanceof MemoryError && e.code === 'corrupt' && /snapshot/.test(e.message) && /kept/.test(e.message));
      }
      assert.deepEqual(fs.readFileSync(file), bad, 'snapshot left in place');
      assert.ok(fs.readdirSync(dir).some((f) => f.startsWith('snapshot.db.corrupt-')), 'a copy was kept aside');
    });
  }

  it('rebuilds a damaged search index from the database', async () => {
    const store = await openStore(dir);
    const id = await record(store, 'index rebuild check', 'testing', [['t', 'a', ok()]], { type: 'success', verdict: 'v' });
    await store.close();
    const file = path.join(dir, 'snapshot.db');
    const buf = fs.readFileSync(file);
    buf[buf.length - 3] ^= 0xff; // inside the index section (after the database)
    fs.writeFileSync(file, buf);
    const w = warnings();
    const s2 = await MemoryStore.open({ dir, logger: w.logger });
    try {
      assert.ok(w.seen.some((m) => /index/.test(m)));
      assert.equal((await s2.query({ query: 'rebuild' })).hits[0]?.episode.id, id);
    } finally {
      await s2.close();
    }
  });

  it('takes snapshots in the background (debounced) and cuts the journal', async () => {
    const store = await openStore(dir, { snapshotDebounceMs: 20 });
    try {
      await store.createEpisode({ task: 'background snapshot', taskType: 'other' });
      assert.ok((await store.stats()).journalBytes > 8);
      // Debounced by 20 ms; poll, since a loaded machine may take far longer to get there.
      let s = await store.stats();
      for (const t0 = Date.now(); s.journalBytes !== 8 && Date.now() - t0 < 10_000; s = await store.stats()) await new Promise((r) => setTimeout(r, 25));
      assert.equal(s.journalBytes, 8);
      assert.ok(s.lastSnapshotAt);
      assert.ok(fs.existsSync(path.join(dir, 'snapshot.db')));
    } finally {
      await store.close();
    }
  });

  it('crash test: 100 SIGKILLs at random moments (half of them writing through the worker) lose no acknowledged write', async function () {
    this.timeout(240_000);
    const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mem-crash-bundle-'));
    const bundle = path.join(bundleDir, 'crash-writer.js');
    await esbuild.build({ entryPoints: [FIXTURE], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'silent' });
    const wasm = defaultWasmPath();
    let acked = 0;
    let completedTotal = 0;
    let killedBeforeReady = 0;
    // 4 lanes (one store folder each) run side by side; 25 trials per lane, 100 in all. Lanes 2
    // and 3 write through the memory service (the store in its worker thread, dist/memory-worker.js).
    const lane = async (laneNo: number): Promise<void> => {
      const laneDir = path.join(dir, `lane${laneNo}`);
      const created = new Set<string>();
      const completed = new Set<string>();
      const steps = new Map<string, number>();
      for (let t = 0; t < 25; t++) {
        const trial = laneNo * 25 + t;
        const viaWorker = laneNo >= 2 ? defaultMemoryWorkerPath() : '';
        const child = spawn(process.execPath, [bundle, laneDir, String(trial), String(trial % 3 === 0 ? 5 : 40), wasm, viaWorker], { stdio: ['ignore', 'pipe', 'pipe'] });
        let buf = '';
        let stderr = '';
        let ready = false;
        let lines = 0;
        let completions = 0;
        const onLine = (line: string): void => {
          const [kind, id, n] = line.split(' ');
          if (kind === 'ready') return void (ready = true);
          acked++;
          lines++;
          if (kind === 'create') created.add(id);
          else if (kind === 'step') steps.set(id, Math.max(steps.get(id) ?? 0, Number(n)));
          else if (kind === 'complete') {
            completed.add(id);
            completions++;
          }
        };
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            onLine(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
        });
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<void>((r) => child.on('exit', () => r()));
        // Kill at a random moment: every 5th trial during start-up/replay, the others while writing.
        // (Writing trials wait for the first acknowledged write, every other one for the first
        // completion, so that completions are covered however slow the machine is.)
        if (t % 5 === 0) await new Promise((r) => setTimeout(r, Math.random() * 1000));
        else {
          const t0 = Date.now();
          const started = t % 2 === 0 ? (): boolean => completions > 0 : (): boolean => lines > 0;
          while (!started() && Date.now() - t0 < 15_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
          await new Promise((r) => setTimeout(r, Math.random() * 250));
        }
        if (!ready) killedBeforeReady++;
        child.kill('SIGKILL');
        await exited;
        assert.equal(stderr, '', `child failed: ${stderr}`);
        // Only complete lines were acknowledged (a partial last line is not).
        const store = await MemoryStore.open({ dir: laneDir, snapshotDebounceMs: 60_000 });
        try {
          for (const id of created) assert.ok(await store.getEpisode(id), `trial ${trial}: acknowledged episode ${id} missing`);
          for (const [id, n] of steps) assert.ok(((await store.getEpisode(id))?.steps.length ?? 0) >= n, `trial ${trial}: steps of ${id} missing`);
          for (const id of completed) assert.ok((await store.getEpisode(id))?.outcome, `trial ${trial}: completion of ${id} missing`);
          assert.ok((await store.stats()).episodes >= created.size);
        } finally {
          await store.close();
        }
      }
      completedTotal += completed.size;
    };
    try {
      await Promise.all([0, 1, 2, 3].map(lane));
    } finally {
      rmDir(bundleDir);
    }
    assert.ok(acked > 150, `enough writes were acknowledged (${acked})`);
    assert.ok(completedTotal > 20, `enough completions (${completedTotal})`);
    assert.ok(killedBeforeReady < 100);
  });
});
