/**
 * Importing an export file is all or nothing, through the service (the store in its worker,
 * real sql.js files on disk) and through the bundled CLI: a bad line found late, a failed
 * write (the snapshot that saves the import cannot be written), a cancel midway (an
 * AbortSignal; Ctrl-C in the CLI) and a SIGKILL midway each leave the store exactly as it
 * was, in memory and after reopening; writes made meanwhile wait and are kept; importing
 * the same file twice imports nothing the second time.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { ImportCancelledError, ImportFileError, MemoryClient, MemoryError } from '../../../src/memory';
import type { Episode, MemoryStoreApi } from '../../../src/memory';
import { episodeLine, headerLine } from '../../../src/memory/exportFormat';
import { ok, openStore, record, rmDir, tmpDir } from './helpers';

const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

/** n completed episodes as export lines (ids imp_1…imp_n), with line `badLine` (1-based, the header is line 1) broken. */
function writeExport(file: string, n: number, badLine?: number): void {
  const out: string[] = [headerLine(n)];
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 1; i <= n; i++) {
    const at = new Date(t0 + i * 60_000).toISOString();
    const ep: Episode = {
      id: `imp_${i}`,
      task: `Imported task ${i}: fix the ${['parser', 'cache', 'router', 'logger'][i % 4]} bug`,
      domain: `d${i % 5}`,
      taskType: 'debugging',
      context: { language: 'typescript', tags: [`t${i % 7}`] },
      startedAt: at,
      endedAt: at,
      steps: [
        { n: 1, timestamp: at, tool: 'run_tests', action: 'reproduce', parameters: {}, result: { status: 'error', message: `E${i % 11}` }, latencyMs: 5 },
        { n: 2, timestamp: at, tool: 'edit_file', action: 'patch', parameters: { path: `src/f${i % 13}.ts` }, result: { status: 'success', output: 'ok' } },
      ],
      outcome: i % 3 ? { type: 'success', verdict: 'fixed' } : { type: 'failure', reason: 'still failing' },
    };
    out.push(episodeLine(ep));
  }
  if (badLine !== undefined) out[badLine - 1] = '{"episode_id": "broken", "task": ' + '\n';
  fs.writeFileSync(file, out.join(''));
}

/** Everything a user can see of the store (the tool counters and sizes aside). */
async function contents(store: MemoryStoreApi): Promise<unknown> {
  const insights = await store.insights();
  return {
    episodes: (await store.exportAll()).episodes,
    patterns: await store.listPatterns({ limit: 1000 }),
    insights: { ...insights, generatedAt: '', size: {} },
    hits: (await store.query({ query: 'fix the parser bug' })).hits.map((h) => h.episode.id),
  };
}

describe('importing a file is all or nothing', function () {
  this.timeout(180_000);
  let root: string;
  let dir: string;
  before(() => (root = tmpDir('mem-file-import-')));
  after(() => rmDir(root));
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(root, 'store-'));
    const store = await openStore(dir);
    await record(store, 'An episode that was there before: fix the parser', 'debugging', [['read_file', 'read', ok()]], { type: 'success', verdict: 'done' });
    await store.close();
  });

  async function withClient<T>(fn: (c: MemoryClient) => Promise<T>): Promise<T> {
    const client = await MemoryClient.open({ dir, snapshotDebounceMs: 60_000 });
    try {
      return await fn(client);
    } finally {
      await client.close();
    }
  }

  it('line 5,000 of 6,000 bad: a clear error naming it, nothing imported (service)', async () => {
    const file = path.join(root, 'bad-late.jsonl');
    writeExport(file, 6000, 5000);
    const before = await withClient(contents);
    await withClient(async (c) => {
      await assert.rejects(c.importFile(file), (e: unknown) => e instanceof ImportFileError && e.invalid.length === 1 && e.invalid[0].line === 5000 && /line 5000: not JSON/.test(e.message) && /nothing was imported/.test(e.message));
      assert.deepEqual(await contents(c), before);
      // With skipInvalid the other 5,999 go in, once.
      const r = await c.importFile(file, { skipInvalid: true });
      assert.deepEqual({ imported: r.imported, skipped: r.skipped, invalid: r.invalid.map((i) => i.line) }, { imported: 5999, skipped: 0, invalid: [5000] });
      const again = await c.importFile(file, { skipInvalid: true });
      assert.deepEqual({ imported: again.imported, skipped: again.skipped }, { imported: 0, skipped: 5999 });
    });
    await withClient(async (c) => assert.equal((await c.listEpisodes({ limit: 1 })).total, 6000));
  });

  it('a write that fails midway (the snapshot saving the import cannot be written): a clear error, nothing changed, also after reopening', async () => {
    const file = path.join(root, 'ok-3000.jsonl');
    writeExport(file, 3000);
    const before = await withClient(contents);
    await withClient(async (c) => {
      // The snapshot's temp file is in the way (a directory): the write fails with EISDIR, as a full disk would with ENOSPC.
      const blocker = path.join(dir, `snapshot.db.${process.pid}.tmp`);
      fs.mkdirSync(blocker);
      try {
        await assert.rejects(c.importFile(file), (e: unknown) => e instanceof MemoryError && /could not be saved/.test(e.message) && /nothing was imported/.test(e.message));
        assert.deepEqual(await contents(c), before);
        // The store works on: a write, then the same import once the disk is writable.
        const ep = await c.createEpisode({ task: 'written after the failed import', taskType: 'testing' });
        fs.rmdirSync(blocker);
        assert.equal((await c.importFile(file)).imported, 3000);
        assert.ok(await c.getEpisode(ep.id));
      } finally {
        fs.rmSync(blocker, { recursive: true, force: true });
      }
    });
    await withClient(async (c) => assert.equal((await c.listEpisodes({ limit: 1 })).total, 3002));
  });

  it('cancelled midway through the store API: nothing changed; writes made meanwhile wait and are kept', async () => {
    const file = path.join(root, 'ok-6000.jsonl');
    writeExport(file, 6000);
    const before = await withClient(contents);
    let written = '';
    await withClient(async (c) => {
      const abort = new AbortController();
      let progressed = 0;
      let write: Promise<Episode> | undefined;
      const importing = c.importFile(file, {
        signal: abort.signal,
        onProgress: (done) => {
          progressed = done;
          write ??= c.createEpisode({ task: 'recorded during the import', taskType: 'testing' });
          if (done >= 3000) abort.abort();
        },
      });
      await assert.rejects(importing, (e: unknown) => e instanceof ImportCancelledError && e.code === 'cancelled' && /nothing was changed/.test(e.message));
      assert.ok(progressed >= 3000 && progressed < 6000, `cancelled midway (after ${progressed})`);
      written = (await write!).id;
      assert.ok(await c.getEpisode(written), 'the write made during the import went in after it');
      assert.equal(await c.deleteEpisode(written), true);
      assert.deepEqual(await contents(c), before);
    });
    await withClient(async (c) => assert.deepEqual(await contents(c), before));
  });

  it('Ctrl-C during `memory-mcp import` changes nothing; so does SIGKILL', async () => {
    const file = path.join(root, 'ok-30000.jsonl');
    writeExport(file, 30_000);
    const before = await withClient(contents);
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const child = spawn(process.execPath, [CLI, 'import', '--db', dir, file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          // A progress line: the import is applying its batches.
          if (/imported \d+ of 30000/.test(stderr)) resolve();
        });
        void exited.then(() => reject(new Error(`the import ended before it was interrupted: ${stderr}`)));
      });
      child.kill(signal);
      const code = await exited;
      if (signal === 'SIGINT') {
        assert.equal(code, 130, stderr);
        assert.match(stderr, /cancelled; nothing was changed/);
      }
      assert.deepEqual(await withClient(contents), before, `after ${signal}`);
    }
  });
});
