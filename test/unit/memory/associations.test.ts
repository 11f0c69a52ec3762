import * as assert from 'node:assert/strict';
import type { MemoryStore, RetrievalFeatures } from '../../../src/memory';
import { ok, openStore, record, rmDir, tmpDir } from './helpers';

/** Only the learned associations bridge vocabulary (the thesauri and feedback could too). */
const ONLY_ASSOCIATIONS: Partial<RetrievalFeatures> = { lexicon: false, wordnet: false, feedback: false, docExpansion: false, associations: true };
const S = { type: 'success' as const, verdict: 'done' };

/** Episodes that share no words with the ones under test (the store needs some fifty for df to mean anything). */
async function fillers(store: MemoryStore, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await record(store, `Chore q${i}x about w${i}y`, 'other', [['edit_file', `z${i}k`, ok()]], S);
}

/** An episode whose task says "kestrel" and whose steps say "flange". */
const kestrel = (store: MemoryStore, i: number): Promise<string> => record(store, `Kestrel sync stalls on node ${i}`, 'debugging', [['edit_file', 'tighten the flange', ok()]], S);

describe('memory retrieval: term associations learned from the episodes', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('finds an episode through a term its neighbours co-occur with once three episodes show it, and forgets a deleted one', async () => {
    let store = await openStore(dir, { retrieval: ONLY_ASSOCIATIONS });
    try {
      await fillers(store, 50);
      const target = await record(store, 'Replace worn flange gaskets', 'other', [['read_file', 'inspect the gaskets', ok()]], S);
      const found = async (): Promise<boolean> => (await store.query({ query: 'kestrel stalls', limit: 10 })).hits.some((h) => h.episode.id === target);
      const k1 = await kestrel(store, 1);
      await kestrel(store, 2);
      assert.equal(await found(), false, 'two co-occurrences are not evidence');
      await kestrel(store, 3);
      const r = await store.query({ query: 'kestrel stalls', limit: 10 });
      const hit = r.hits.find((h) => h.episode.id === target);
      assert.ok(hit, JSON.stringify(r.expandedTerms));
      assert.ok(r.expandedTerms?.includes('flang'));
      assert.ok(hit.why.some((w) => w.startsWith('related terms:') && w.includes('flang')), hit.why.join(' / '));
      assert.match(r.hits[0].episode.task, /^Kestrel/, 'the episodes with the query words themselves rank first');

      assert.ok(await store.deleteEpisode(k1));
      assert.equal(await found(), false, 'a deleted episode no longer counts');
      await kestrel(store, 4);
      assert.equal(await found(), true);
      // The snapshot compacts the tombstone away (renumbering documents and their key terms).
      await store.close();
      store = await openStore(dir, { retrieval: ONLY_ASSOCIATIONS });
      assert.equal(await found(), true, 'the key terms survive a snapshot and reopen');
    } finally {
      await store.close();
    }
  });

  it('does not expand with associations when they are switched off', async () => {
    const store = await openStore(dir, { retrieval: { ...ONLY_ASSOCIATIONS, associations: false } });
    try {
      await fillers(store, 50);
      const target = await record(store, 'Replace worn flange gaskets', 'other', [['read_file', 'inspect the gaskets', ok()]], S);
      for (let i = 0; i < 4; i++) await kestrel(store, i);
      const r = await store.query({ query: 'kestrel stalls', limit: 10 });
      assert.ok(!r.hits.some((h) => h.episode.id === target));
      assert.ok(!r.expandedTerms?.includes('flang'));
    } finally {
      await store.close();
    }
  });
});
