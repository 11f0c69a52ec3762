/**
 * The memory service: the store in its own worker thread behind MemoryClient (the real
 * bundle, dist/memory-worker.js, on real files). Crashes are real: the worker is
 * terminated mid-write, exits, or exhausts its heap.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryClient, MemoryError } from '../../../src/memory';
import type { ServiceOptions, StoreChange } from '../../../src/memory';
import { episodeLine, parseExportLines } from '../../../src/memory/exportFormat';
import { ok, openStore, rmDir, tmpDir } from './helpers';

function openClient(dir: string, extra: Partial<ServiceOptions> = {}): Promise<MemoryClient> {
  return MemoryClient.open({ dir, snapshotDebounceMs: 60_000, ...extra });
}

const isUnavailable = (e: unknown): boolean => e instanceof MemoryError && e.code === 'unavailable';

describe('memory service: the store in a worker thread', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('serves the whole API, fires change events and keeps error codes', async () => {
    const client = await openClient(dir);
    const changes: StoreChange['type'][] = [];
    client.onDidChange((c) => changes.push(c.type));
    try {
      assert.equal(client.readOnly, false);
      const ep = await client.createEpisode({ task: 'Fix the flaky login test', taskType: 'debugging', context: { language: 'typescript', tags: ['auth'] } });
      await client.addStep(ep.id, { tool: 'run_tests', action: 'reproduce', result: { status: 'error', message: 'TimeoutError in login.spec' } });
      await client.addStep(ep.id, { tool: 'edit_file', action: 'await the redirect', result: ok('patched') });
      const done = await client.completeEpisode(ep.id, { outcome: { type: 'success', verdict: 'login test is stable' } });
      assert.ok(done.reward > 0);
      const { hits } = await client.query({ query: 'flaky login' });
      assert.deepEqual(hits.map((h) => h.episode.id), [ep.id]);
      assert.equal((await client.getEpisodePage(ep.id, { offset: 1, limit: 5 }))?.episode.steps[0].tool, 'edit_file');
      assert.equal((await client.listEpisodes()).total, 1);
      assert.ok((await client.analyzePatterns({ minSuccessRate: 0 })).patterns.length > 0);
      await client.recordToolCall('query_memory');
      assert.equal((await client.toolUsage()).query_memory, 1);
      const exported = await client.exportAll();
      assert.equal(exported.episodes[0].steps.length, 2);
      await assert.rejects(client.addStep('ep_missing', { tool: 't', action: 'a', result: ok() }), (e: unknown) => e instanceof MemoryError && e.code === 'not_found');
      await assert.rejects(client.createEpisode({ task: '', taskType: 'other' }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
      assert.throws(() => client.setRetention({ maxEpisodes: -1 }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
      assert.deepEqual(changes, ['episode_created', 'episode_updated', 'episode_updated', 'episode_completed']);
      assert.equal((await client.stats()).episodes, 1);
    } finally {
      await client.close();
    }
    await assert.rejects(client.stats(), (e: unknown) => e instanceof MemoryError && e.code === 'closed');
    // What the worker wrote is the store on disk.
    const store = await openStore(dir);
    assert.equal((await store.stats()).episodes, 1);
    await store.close();
  });

  it('transfers a large result intact', async () => {
    const client = await openClient(dir);
    try {
      const ep = await client.createEpisode({ task: 'big output', taskType: 'analysis' });
      const output = 'é🙂x'.repeat(30_000);
      await client.addStep(ep.id, { tool: 'cat', action: 'dump', result: ok(output) });
      const got = await client.getEpisode(ep.id);
      assert.deepEqual(got?.steps[0].result, { status: 'success', output });
    } finally {
      await client.close();
    }
  });

  it('pages the export as lines serialised in the worker: the same lines as the in-process store, within maxChars, every episode once', async () => {
    const client = await openClient(dir);
    try {
      for (let i = 0; i < 7; i++) {
        const ep = await client.createEpisode({ task: `Task ${i} ${'about the cache '.repeat(i * 5)}`, taskType: 'analysis' });
        await client.addStep(ep.id, { tool: 'read_file', action: `read ${i}`, result: ok(`out ${'é'.repeat(i * 20)}`) });
      }
      const all = await client.exportAll();
      const expected = all.episodes.map((e) => episodeLine(e)).join('');
      const whole = await client.exportLines({ limit: 100 });
      assert.equal(whole.lines, expected);
      assert.equal(whole.count, 7);
      assert.equal(whole.next, undefined);
      // By cursor, bounded pages: each within maxChars (or a single episode), together every line once, in order.
      const maxChars = Math.ceil(expected.length / 4);
      let text = '';
      let pages = 0;
      let page = await client.exportLines({ limit: 3, maxChars });
      for (;;) {
        pages++;
        assert.ok(page.count >= 1 && page.count <= 3);
        assert.ok(page.count === 1 || page.lines.length <= maxChars, `page of ${page.count} is ${page.lines.length} chars`);
        assert.equal(parseExportLines(page.lines).length, page.count);
        assert.equal(page.total, 7);
        text += page.lines;
        if (page.next === undefined) break;
        page = await client.exportLines({ after: page.next, limit: 3, maxChars });
      }
      assert.ok(pages >= 3);
      assert.equal(text, expected);
      await assert.rejects(client.exportLines({ after: 'not a cursor' }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
      await assert.rejects(client.exportLines({ maxChars: 0 }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
    } finally {
      await client.close();
    }
  });

  it('begin() answers before the store is open: calls wait for it; a store that cannot open rejects them all and frees the lock', async () => {
    const seed = await openClient(dir);
    const ep = await seed.createEpisode({ task: 'opened in the background', taskType: 'analysis' });
    await seed.close();
    const client = await MemoryClient.begin({ dir, snapshotDebounceMs: 60_000 });
    let ready = false;
    void client.whenReady().then(() => (ready = true));
    try {
      assert.equal(ready, false, 'begin resolved before the worker opened the store');
      const got = await client.getEpisode(ep.id); // made before the store was open: waits for it
      assert.equal(got?.task, 'opened in the background');
      assert.equal(ready, true);
    } finally {
      await client.close();
    }

    fs.writeFileSync(path.join(dir, 'snapshot.db'), Buffer.from('hello, not a snapshot at all'.repeat(10)));
    const broken = await MemoryClient.begin({ dir });
    const isCorrupt = (e: unknown): boolean => e instanceof MemoryError && e.code === 'corrupt' && /snapshot/.test(e.message);
    await assert.rejects(broken.whenReady(), isCorrupt);
    await assert.rejects(broken.stats(), isCorrupt);
    assert.ok(!fs.existsSync(path.join(dir, 'store.lock')), 'lock released after the failed open');
    // No restart tries the store again (each failed open keeps a copy of the snapshot aside).
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('snapshot.db.corrupt-')).length, 1);
    await broken.close();
  });

  it('a second opener in the same process gets a read-only view that refuses writes', async () => {
    const first = await openClient(dir);
    const second = await openClient(dir, { onLocked: 'readonly' });
    try {
      await first.createEpisode({ task: 'written by the first', taskType: 'other' });
      assert.equal(second.readOnly, true);
      await assert.rejects(second.createEpisode({ task: 'refused', taskType: 'other' }), (e: unknown) => e instanceof MemoryError && e.code === 'read_only');
      await assert.rejects(openClient(dir), (e: unknown) => e instanceof MemoryError && e.code === 'locked');
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('a worker killed mid-write 10 times: calls in flight fail clearly, it restarts, no acknowledged write is lost', async function () {
    this.timeout(120_000);
    const client = await openClient(dir, { maxRestartsPerMinute: 100 });
    const acked = new Map<string, number>();
    let failed = 0;
    try {
      for (let round = 0; round < 10; round++) {
        const ep = await client.createEpisode({ task: `round ${round} of killing the worker`, taskType: 'testing' });
        acked.set(ep.id, 0);
        // Steps of one episode are sent without waiting; the worker is killed while they are written.
        const calls = Array.from({ length: 40 }, (_, i) =>
          client.addStep(ep.id, { tool: 'write', action: `step ${i + 1}`, result: ok('y'.repeat(300)) }).then(
            (s) => acked.set(ep.id, Math.max(acked.get(ep.id) ?? 0, s.n)),
            (e: unknown) => {
              assert.ok(isUnavailable(e), `a failed call says the worker stopped: ${String(e)}`);
              assert.match((e as Error).message, /stopped while serving addStep .*restarted/);
              failed++;
            },
          ),
        );
        await new Promise((r) => setTimeout(r, 2 + Math.random() * 15));
        await client.crashWorkerForTesting(round % 2 ? 'terminate' : 'exit');
        await Promise.all(calls);
        await client.whenReady();
        const got = await client.getEpisode(ep.id);
        assert.ok((got?.steps.length ?? 0) >= (acked.get(ep.id) ?? 0), `round ${round}: acknowledged steps kept`);
        // Steps are numbered without gaps whatever the crash interrupted.
        assert.deepEqual(got?.steps.map((s) => s.n), got?.steps.map((_, i) => i + 1));
      }
      assert.ok(failed > 0, 'some calls were in flight when the worker was killed');
      assert.equal((await client.stats()).episodes, 10);
    } finally {
      await client.close();
    }
    const store = await openStore(dir);
    for (const [id, n] of acked) assert.ok(((await store.getEpisode(id))?.steps.length ?? 0) >= n);
    await store.close();
  });

  it('a worker that runs out of memory is restarted and says so; after too many crashes the service gives up clearly', async function () {
    this.timeout(60_000);
    const client = await openClient(dir, { resourceLimits: { maxOldGenerationSizeMb: 48 }, maxRestartsPerMinute: 1 });
    try {
      const ep = await client.createEpisode({ task: 'kept across the crash', taskType: 'other' });
      const inFlight = client.stats();
      void client.crashWorkerForTesting('oom');
      await assert.rejects(inFlight, (e: unknown) => isUnavailable(e) && /ran out of memory/.test((e as Error).message));
      assert.equal((await client.getEpisode(ep.id))?.task, 'kept across the crash');
      const again = client.stats();
      void client.crashWorkerForTesting('exit');
      await assert.rejects(again, isUnavailable);
      await assert.rejects(client.stats(), (e: unknown) => isUnavailable(e) && /2 times within a minute/.test((e as Error).message));
    } finally {
      await client.close();
    }
    // The store opens afterwards with everything acknowledged.
    const store = await openStore(dir);
    assert.equal((await store.stats()).episodes, 1);
    await store.close();
  });
});
