/**
 * `memory-mcp export` / `memory-mcp import`: the real bundled CLI (dist/cli.js, the store in
 * its worker) on real store folders and files: round trip field by field, idempotent
 * re-import, bad files (line numbers, nothing imported), --skip-invalid, stdin/stdout and
 * the older whole-JSON export.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MemoryStore } from '../../../src/memory';
import type { Episode } from '../../../src/memory';
import { err, ok, record, rmDir, tmpDir } from '../memory/helpers';
import { exportFile, exportJsonl, importFile, ImportCancelledError } from '../../../src/mcp';

const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

function cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function episodesIn(dir: string): Promise<Episode[]> {
  const store = await MemoryStore.open({ dir });
  try {
    return (await store.exportAll()).episodes;
  } finally {
    await store.close();
  }
}

describe('memory-mcp export / import (JSON Lines)', function () {
  this.timeout(120_000);
  let root: string;
  let source: string;
  before(async () => {
    root = tmpDir('mem-exchange-');
    source = path.join(root, 'source');
    const store = await MemoryStore.open({ dir: source });
    await record(store, 'Fix the flaky login test', 'debugging', [['run_tests', 'reproduce', err('TimeoutError')], ['edit_file', 'await redirect', ok('patched')]], { type: 'success', verdict: 'stable' }, { language: 'typescript', tags: ['auth'] });
    await record(store, 'Migrate the CSV importer', 'refactoring', [['read_file', 'inspect', ok()]], { type: 'partial_success', verdict: 'mostly', completed: ['parse'], failed: ['dates'] });
    const open = await store.createEpisode({ task: 'Still going: profile the cache', taskType: 'analysis' });
    await store.addStep(open.id, { tool: 'profile', action: 'sample', parameters: { ms: 500 }, result: ok('hot: getKey'), latencyMs: 12, tokensUsed: 40 });
    await store.close();
  });
  after(() => rmDir(root));

  it('round-trips every field, and importing the same file again imports nothing', async () => {
    const file = path.join(root, 'out.jsonl');
    const exp = cli(['export', '--db', source, file]);
    assert.equal(exp.status, 0, exp.stderr);
    assert.match(exp.stderr, /exported 3 episodes/);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 4);
    const header = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(header.format, 'agent-memory-export');
    assert.equal(header.version, 1);
    assert.equal(header.episodes, 3);
    const line = JSON.parse(lines[1]) as Record<string, unknown>;
    assert.ok('episode_id' in line && 'task_type' in line && 'started_at' in line, 'get_episode field names');

    const target = path.join(root, 'target');
    const imp = cli(['import', '--db', target, file]);
    assert.equal(imp.status, 0, imp.stderr);
    assert.match(imp.stderr, /imported 3 episodes, 0 already present/);
    assert.deepEqual(await episodesIn(target), await episodesIn(source));
    const again = cli(['import', '--db', target, file]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /imported 0 episodes, 3 already present/);
    assert.equal((await episodesIn(target)).length, 3);
  });

  it('a cancelled import changes nothing, even after batches were written (patterns and retention included)', async () => {
    // 450 episodes: three batches; cancelled just before the third, after two were imported.
    // The target keeps at most 250 episodes: had retention run after each batch, the least useful
    // episode (the one there before, a failure) would have gone to make room.
    const big = path.join(root, 'big');
    const store = await MemoryStore.open({ dir: big });
    const file = path.join(root, 'big.jsonl');
    try {
      for (let i = 0; i < 450; i++) {
        const ep = await store.createEpisode({ task: `cancel test task ${i}`, domain: `d${i % 3}`, taskType: 'testing' });
        await store.addStep(ep.id, { tool: 'run_tests', action: 'run', result: ok() });
        await store.completeEpisode(ep.id, { outcome: { type: 'success', verdict: 'v' } });
      }
      const out = fs.createWriteStream(file);
      await exportJsonl(store, out);
      await new Promise<void>((r) => out.end(r));
    } finally {
      await store.close();
    }
    const target = await MemoryStore.open({ dir: path.join(root, 'cancel-target') });
    try {
      await record(target, 'An episode that was there before', 'debugging', [['read_file', 'read', err('ENOENT')]], { type: 'failure', reason: 'file missing' });
      target.setRetention({ maxEpisodes: 250 });
      const before = { episodes: await target.exportAll(), patterns: await target.listPatterns({ limit: 1000 }), insights: await target.insights() };
      let batches = 0;
      await assert.rejects(
        importFile(target, file, { progress: () => batches++, isCancelled: () => batches >= 2 }),
        (e: unknown) => e instanceof ImportCancelledError && /nothing was changed/.test(e.message),
      );
      assert.equal(batches, 2, 'two batches were written before the cancel');
      assert.deepEqual((await target.exportAll()).episodes, before.episodes.episodes);
      assert.deepEqual(await target.listPatterns({ limit: 1000 }), before.patterns);
      assert.deepEqual({ ...(await target.insights()), generatedAt: '', size: {} }, { ...before.insights, generatedAt: '', size: {} });
      // Not cancelled, the same file imports whole; then retention applies once.
      assert.equal((await importFile(target, file)).imported, 450);
      assert.equal((await target.listEpisodes({ limit: 1 })).total, 250);
    } finally {
      await target.close();
    }
  });

  it('a cancelled or failed export leaves the file it was to replace as it was, and no partial file', async () => {
    // The 450-episode store of the test above: three pages, cancelled after the first.
    const store = await MemoryStore.open({ dir: path.join(root, 'big') });
    const dir = path.join(root, 'export-target');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'memory.jsonl');
    fs.writeFileSync(file, 'an earlier export\n');
    try {
      let pages = 0;
      await assert.rejects(
        exportFile(store, file, { progress: () => pages++, isCancelled: () => pages >= 1 }),
        (e: unknown) => e instanceof ImportCancelledError && /nothing was written there/.test(e.message),
      );
      assert.equal(pages, 1);
      assert.equal(fs.readFileSync(file, 'utf8'), 'an earlier export\n');
      assert.deepEqual(fs.readdirSync(dir), ['memory.jsonl']);

      await assert.rejects(exportFile(store, path.join(dir, 'missing', 'memory.jsonl')), /Cannot write the export to .*missing/);
      assert.deepEqual(fs.readdirSync(dir), ['memory.jsonl']);

      assert.equal(await exportFile(store, file), 450);
      assert.equal(fs.readFileSync(file, 'utf8').trimEnd().split('\n').length, 451);
      assert.deepEqual(fs.readdirSync(dir), ['memory.jsonl']);
    } finally {
      await store.close();
    }
  });

  it('reads stdin and writes stdout with -', async () => {
    const exp = cli(['export', '--db', source]);
    assert.equal(exp.status, 0, exp.stderr);
    const target = path.join(root, 'piped');
    const imp = cli(['import', '--db', target, '-'], exp.stdout);
    assert.equal(imp.status, 0, imp.stderr);
    assert.deepEqual(await episodesIn(target), await episodesIn(source));
  });

  it('names invalid lines and imports nothing; --skip-invalid imports the valid ones', async () => {
    const good = fs.readFileSync(path.join(root, 'out.jsonl'), 'utf8').trimEnd().split('\n');
    const missingTask = JSON.parse(good[2]) as Record<string, unknown>;
    delete missingTask.task;
    const bad = [good[0], good[1], '{"episode_id": "x", oops', JSON.stringify(missingTask), good[3]].join('\n') + '\n';
    const file = path.join(root, 'bad.jsonl');
    fs.writeFileSync(file, bad);
    const target = path.join(root, 'bad-target');
    const imp = cli(['import', '--db', target, file]);
    assert.equal(imp.status, 1);
    assert.match(imp.stderr, /2 invalid lines .* nothing was imported/);
    assert.match(imp.stderr, /line 3: not JSON/);
    assert.match(imp.stderr, /line 4: task: /);
    assert.equal((await episodesIn(target)).length, 0);
    const skip = cli(['import', '--db', target, '--skip-invalid', file]);
    assert.equal(skip.status, 0, skip.stderr);
    assert.match(skip.stderr, /imported 2 episodes, 0 already present, 2 invalid lines skipped/);
    assert.match(skip.stderr, /skipped line 3/);
  });

  it('still imports the older whole-JSON export, and refuses a file that is neither', async () => {
    const whole = path.join(root, 'old.json');
    const store = await MemoryStore.open({ dir: source });
    fs.writeFileSync(whole, JSON.stringify(await store.exportAll(), null, 2));
    await store.close();
    const target = path.join(root, 'old-target');
    // Cancelled, it changes nothing (the whole file is one write).
    const cancelledTarget = await MemoryStore.open({ dir: path.join(root, 'old-cancelled') });
    try {
      const abort = new AbortController();
      abort.abort();
      await assert.rejects(cancelledTarget.importFile(whole, { signal: abort.signal }), (e: unknown) => e instanceof ImportCancelledError && /nothing was changed/.test(e.message));
      assert.equal((await cancelledTarget.exportAll()).episodes.length, 0);
    } finally {
      await cancelledTarget.close();
    }
    const imp = cli(['import', '--db', target, whole]);
    assert.equal(imp.status, 0, imp.stderr);
    assert.match(imp.stderr, /imported 3 episodes, 0 already present \(whole-JSON export\)/);
    assert.deepEqual(await episodesIn(target), await episodesIn(source));
    const junk = path.join(root, 'junk.txt');
    fs.writeFileSync(junk, 'hello\nworld\n');
    const r = cli(['import', '--db', target, junk]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /junk\.txt is not JSON Lines with an export header .*Nothing was changed\./);
    assert.equal(cli(['import', '--db', target]).status, 2);
  });
});
