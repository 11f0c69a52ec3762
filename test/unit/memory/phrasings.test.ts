/** Alternative phrasings of a task (TaskContext.phrasings): kept, cleaned, indexed and journaled. */
import * as assert from 'node:assert/strict';
import { LIMITS } from '../../../src/memory/limits';
import { cleanPhrasing, mergePhrasings } from '../../../src/memory/phrasings';
import { openStore, record, ok, rmDir, tmpDir } from './helpers';

const TASK = 'Fix session token expiry in the auth middleware';

describe('memory: phrasings of a task', () => {
  it('cleans model text: control characters out, whitespace collapsed, clipped to LIMITS.short', () => {
    assert.equal(cleanPhrasing('  users\u0000 logged\tout \u202e\n at random '), 'users logged out at random');
    assert.equal(cleanPhrasing('x'.repeat(LIMITS.short + 50)).length, LIMITS.short);
  });

  it('drops repeats of the task and of each other, keeps the order, at most LIMITS.phrasings', () => {
    const added = ['fix Session-token expiry in the auth middleware!', 'users logged out at random', 'Users logged out, at random', '', ...Array.from({ length: 10 }, (_, i) => `rewording number ${i}`)];
    const kept = mergePhrasings(TASK, ['an earlier one'], added);
    assert.deepEqual(kept.slice(0, 3), ['an earlier one', 'users logged out at random', 'rewording number 0']);
    assert.equal(kept.length, LIMITS.phrasings);
  });

  it('addPhrasings: indexed (a query in their words finds the episode), replayed from the journal, refused for an open episode', async () => {
    const dir = tmpDir();
    let store = await openStore(dir);
    try {
      const id = await record(store, TASK, 'debugging', [['read_file', 'read src/auth/middleware.ts', ok()]], { type: 'success', verdict: 'fixed' });
      const open = await store.createEpisode({ task: 'still running', taskType: 'debugging' });
      assert.equal(await store.addPhrasings(open.id, ['some rewording here']), false, 'an open episode takes none');
      assert.equal(await store.addPhrasings('no-such-episode', ['some rewording here']), false);
      await assert.rejects(store.addPhrasings(id, [42 as unknown as string]), /array of strings/);

      const query = 'shoppers thrown back to the welcome carousel';
      assert.ok(!(await store.query({ query })).hits.some((h) => h.episode.id === id));
      assert.equal(await store.addPhrasings(id, ['Shoppers thrown back to the welcome carousel mid-checkout']), true);
      assert.ok((await store.query({ query })).hits.some((h) => h.episode.id === id));

      await store.close();
      store = await openStore(dir); // kept across a reopen
      assert.deepEqual((await store.getEpisode(id))?.context.phrasings, ['Shoppers thrown back to the welcome carousel mid-checkout']);
      assert.ok((await store.query({ query })).hits.some((h) => h.episode.id === id));
    } finally {
      await store.close();
      rmDir(dir);
    }
  });
});
