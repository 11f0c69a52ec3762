/**
 * Live view for a second process: the writer runs in a child process (fixtures/live-writer.ts)
 * on a real store folder; this process opens the same folder read-only through the memory
 * service (the worker, as a second VS Code window would) and must see each new episode within
 * 2 s, with a change event, including across the writer's snapshot and journal cut.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { MemoryClient } from '../../../src/memory';
import type { StoreChange } from '../../../src/memory';
import { JournalFollower } from '../../../src/memory/store/follow';
import { openStore, rmDir, tmpDir } from './helpers';

const FIXTURE = path.join(__dirname, 'fixtures', 'live-writer.ts');

class Writer {
  private out = '';
  private waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  private err = '';
  readonly child: ChildProcessWithoutNullStreams;

  constructor(dir: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], { stdio: 'pipe' });
    this.child.stdout.on('data', (d: Buffer) => {
      this.out += d.toString();
      this.check();
    });
    this.child.stderr.on('data', (d: Buffer) => (this.err += d.toString()));
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      const m = w.re.exec(this.out);
      if (m) {
        this.out = this.out.slice(m.index + m[0].length);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  expect(re: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ re, resolve });
      this.child.once('exit', (code) => reject(new Error(`writer exited ${code}: ${this.err}`)));
      this.check();
    });
  }

  async send(line: string, answer: RegExp): Promise<RegExpExecArray> {
    this.child.stdin.write(line + '\n');
    return this.expect(answer);
  }

  async stop(): Promise<void> {
    this.child.stdin.end();
    if (this.child.exitCode === null && this.child.signalCode === null) await new Promise((r) => this.child.once('exit', r));
  }
}

/** Resolves with the ms it took for `test` to hold, polled every 20 ms; rejects after `ms`. */
async function within(ms: number, what: string, test: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await test()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('memory: a read-only store in a second process follows the writer', function () {
  this.timeout(60_000);
  let dir: string;
  let writer: Writer | undefined;
  let view: MemoryClient | undefined;
  beforeEach(() => (dir = tmpDir()));
  afterEach(async () => {
    await view?.close();
    await writer?.stop();
    view = writer = undefined;
    rmDir(dir);
  });

  it('sees new episodes within 2 s with a change event, across the writer’s snapshots and journal cuts', async () => {
    writer = new Writer(dir);
    await writer.expect(/ready\n/);
    const first = (await writer.send('create seed episode before the view opened', /created (\S+)\n/))[1];
    view = await MemoryClient.open({ dir, onLocked: 'readonly' });
    assert.equal(view.readOnly, true);
    assert.ok(await view.getEpisode(first), 'the view opens at the writer’s current state');
    const changes: StoreChange[] = [];
    view.onDidChange((c) => changes.push(c));

    const seen = async (id: string): Promise<boolean> => (await view!.getEpisode(id)) !== undefined;
    const a = (await writer.send('create zanzibar quokka migration', /created (\S+)\n/))[1];
    await within(2000, 'a new episode appears in the view', () => seen(a));
    assert.ok(changes.some((c) => 'episodeId' in c && c.episodeId === a), `a change event named the episode: ${JSON.stringify(changes)}`);
    assert.equal((await view.query({ query: 'zanzibar quokka' })).hits[0]?.episode.id, a, 'and the view’s index finds it');

    // The writer snapshots and cuts its journal: the next write lands in a new journal file.
    await writer.send('snapshot', /snapshotted\n/);
    const b = (await writer.send('create after the journal was cut', /created (\S+)\n/))[1];
    await within(2000, 'an episode written after the cut appears', () => seen(b));

    // A write followed at once by a snapshot (usually between two of the view's polls: then
    // the record is in the snapshot only and the view reloads from it; see the next test).
    const c = (await writer.send('create covered by the snapshot', /created (\S+)\n/))[1];
    await writer.send('snapshot', /snapshotted\n/);
    await within(2000, 'an episode written just before a snapshot appears', () => seen(c));
    assert.ok(changes.some((x) => x.type === 'imported' || ('episodeId' in x && x.episodeId === c)), 'with a change event');
    assert.equal((await view.stats()).episodes, 4);
    assert.equal((await view.query({ query: 'zanzibar quokka' })).hits[0]?.episode.id, a, 'the view’s index still finds the earlier episode');
  });

  it('takes over as the writer once the writer releases the store, and keeps what both wrote', async () => {
    writer = new Writer(dir);
    await writer.expect(/ready\n/);
    const first = (await writer.send('create written by the first writer', /created (\S+)\n/))[1];
    view = await MemoryClient.open({ dir, onLocked: 'readonly', takeOver: true });
    assert.equal(view.readOnly, true);
    await assert.rejects(view.createEpisode({ task: 'refused while read-only', taskType: 'other' }), /read-only/);
    const access: boolean[] = [];
    view.onDidChangeAccess((a) => access.push(a.readOnly));
    const changes: StoreChange[] = [];
    view.onDidChange((c) => changes.push(c));
    // Written just before the writer closes: the view must have it after taking over.
    const last = (await writer.send('create written just before closing', /created (\S+)\n/))[1];
    await writer.stop();
    await within(4000, 'the view becomes the writer', () => Promise.resolve(!view!.readOnly));
    assert.deepEqual(access, [false], 'one access change, to writing');
    assert.ok(changes.some((c) => c.type === 'imported'), 'views are told to reload everything');
    for (const id of [first, last]) assert.ok(await view.getEpisode(id), `the other writer's episode ${id} is kept`);
    const mine = await view.createEpisode({ task: 'written after taking over', taskType: 'other' });
    await view.close();
    view = await MemoryClient.open({ dir });
    assert.equal(view.readOnly, false, 'the lock was released on close');
    assert.equal((await view.stats()).episodes, 3, 'both writers’ episodes are on disk');
    assert.ok(await view.getEpisode(mine.id));
  });

  it('takes over when the writer is killed (its lock names a dead process)', async () => {
    writer = new Writer(dir);
    await writer.expect(/ready\n/);
    const id = (await writer.send('create before the kill', /created (\S+)\n/))[1];
    view = await MemoryClient.open({ dir, onLocked: 'readonly', takeOver: true });
    writer.child.kill('SIGKILL');
    await new Promise((r) => writer!.child.once('exit', r));
    await within(4000, 'the view becomes the writer', () => Promise.resolve(!view!.readOnly));
    assert.ok(await view.getEpisode(id), 'the acknowledged episode survives the kill');
    await view.createEpisode({ task: 'after the kill', taskType: 'other' });
    assert.equal((await view.stats()).episodes, 2);
  });

  it('without takeOver a read-only view stays read-only', async () => {
    writer = new Writer(dir);
    await writer.expect(/ready\n/);
    view = await MemoryClient.open({ dir, onLocked: 'readonly' });
    await writer.stop();
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(view.readOnly, true);
  });

  it('the follower reads only new records, and asks for a reload when a journal cut passed it by', async () => {
    const store = await openStore(dir);
    try {
      const follower = new JournalFollower(dir);
      let seq = 0;
      const poll = () => {
        const step = follower.poll(seq);
        if (step.kind === 'ops') seq = step.ops[step.ops.length - 1].seq;
        return step;
      };
      assert.equal(poll().kind, 'none', 'an empty store: nothing to do');
      await store.createEpisode({ task: 'one', taskType: 'other' });
      const step = poll();
      assert.equal(step.kind, 'ops');
      assert.deepEqual(step.kind === 'ops' && step.ops.map((o) => o.seq), [1]);
      assert.equal(poll().kind, 'none', 'records already read are not read again');
      await store.createEpisode({ task: 'two', taskType: 'other' });
      await store.snapshot();
      assert.equal(poll().kind, 'reload', 'write 2 is in the snapshot only');
      seq = 2; // (what a reload reaches)
      follower.reset();
      assert.equal(poll().kind, 'none');
      await store.createEpisode({ task: 'three', taskType: 'other' });
      const after = poll();
      assert.deepEqual(after.kind === 'ops' && after.ops.map((o) => o.seq), [3], 'the new journal continues the snapshot');
    } finally {
      await store.close();
    }
  });
});
