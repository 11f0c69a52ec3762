import * as assert from 'node:assert/strict';
import type { MemoryStore, RetrievalFeatures } from '../../../src/memory';
import { BRIDGE_WEIGHT, DEFAULT_FEATURES, expandQuery, LEXICON_WEIGHT, MAX_BRIDGE_TERMS, SYNONYM_WEIGHT } from '../../../src/memory/search/expand/expander';
import { synonymThesaurus } from '../../../src/memory/search/expand/synonyms';
import { err, ok, openStore, record, rmDir, tmpDir } from './helpers';

const OFF: Partial<RetrievalFeatures> = { lexicon: false, wordnet: false, feedback: false, docExpansion: false };

async function fill(store: MemoryStore): Promise<Record<string, string>> {
  const S = { type: 'success' as const, verdict: 'done' };
  return {
    expiry: await record(store, 'Fix session token expiry in the auth middleware', 'debugging', [['run_tests', 'auth suite', err('TokenExpiredError: jwt expired')], ['edit_file', 'refresh before expiry', ok()]], S),
    big: await record(store, 'Resize large images before upload', 'code_generation', [['edit_file', 'sharp resize', ok()]], S),
    users: await record(store, 'Add a users page with random avatars', 'code_generation', [['edit_file', 'users page', ok()]], S),
    upgrade: await record(store, 'Upgrade the charting library', 'other', [['edit_file', 'charts v3', ok()]], S),
  };
}

describe('memory retrieval: vocabulary bridging', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir()));
  afterEach(() => rmDir(dir));

  it('finds a reworded problem through the lexicon, and does not with expansion off', async () => {
    for (const [features, found] of [
      [{}, true],
      [OFF, false],
    ] as const) {
      const store = await openStore(dir + (found ? '-on' : '-off'), { retrieval: features });
      try {
        const ids = await fill(store);
        const r = await store.query({ query: 'users get logged out at random since the upgrade' });
        assert.equal(r.hits[0]?.episode.id === ids.expiry, found, JSON.stringify(r.hits.map((h) => [h.episode.task, h.why])));
        if (found) assert.ok(r.hits[0].why.some((w) => w.startsWith('related terms:')));
      } finally {
        await store.close();
        rmDir(dir + (found ? '-on' : '-off'));
      }
    }
  });

  it('expands a query with WordNet synonyms from the built table (well-attested senses)', async () => {
    assert.ok(synonymThesaurus().groupCount > 1000);
    assert.ok(synonymThesaurus().related(new Set(['big'])).has('larg'));
    const store = await openStore(dir, { retrieval: { lexicon: false, feedback: false, docExpansion: false } });
    try {
      const ids = await fill(store);
      const r = await store.query({ query: 'shrink big pictures' });
      assert.equal(r.hits[0]?.episode.id, ids.big);
      assert.ok(r.expandedTerms?.includes('larg'));
    } finally {
      await store.close();
    }
  });
});

describe('query expansion: weights of the relatives (expandQuery)', () => {
  const weighted = (terms: string[], features: Partial<RetrievalFeatures>, idf: (t: string) => number): Map<string, number> =>
    new Map(
      expandQuery({ terms, features: { ...DEFAULT_FEATURES, associations: false, ...features }, idf: (t) => (terms.includes(t) ? 0 : idf(t)), sourceIdf: idf }).map((q) => [
        q.term,
        q.weight * idf(q.term),
      ]),
    );

  it("caps a WordNet relative's idf at its source word's: a rare synonym of a common word weighs no more than the word", () => {
    // "big" is common in this store (idf 0.5), its synonym "larg" rare (idf 4).
    const idf = (t: string): number => (t === 'big' ? 0.5 : 4);
    const w = weighted(['big'], { lexicon: false }, idf);
    assert.ok(w.has('larg'));
    assert.ok(Math.abs(w.get('larg')! - SYNONYM_WEIGHT * 0.5) < 1e-9, `larg weighs ${w.get('larg')}`);
    // A source word the store does not have leaves its relatives uncapped (they are all the query has).
    const unknown = weighted(['big'], { lexicon: false }, (t) => (t === 'big' ? 0 : 4));
    assert.ok(Math.abs(unknown.get('larg')! - SYNONYM_WEIGHT * 4) < 1e-9);
  });

  it('keeps the idf of a curated lexicon relative (an equivalent in software text)', () => {
    const idf = (t: string): number => (t === 'flaki' ? 0.5 : 4);
    const w = weighted(['flaki'], { wordnet: false }, idf);
    assert.ok(w.has('intermitt'), [...w.keys()].join(' '));
    assert.ok(w.get('intermitt')! >= LEXICON_WEIGHT * 4 - 1e-9, `intermitt weighs ${w.get('intermitt')}`);
  });

  it('reaches a lexicon phrase through a WordNet synonym of a query word, weighted below both, and not without WordNet', () => {
    // "credentials": credential ~ certificate (WordNet), and certificate ~ cert (lexicon).
    const idf = (): number => 4;
    const w = weighted(['credenti'], {}, idf);
    assert.ok(Math.abs(w.get('cert')! - BRIDGE_WEIGHT * 4) < 1e-9, `cert weighs ${w.get('cert')} in ${[...w.keys()].join(' ')}`);
    assert.ok(!weighted(['credenti'], { wordnet: false }, idf).has('cert'));
    // A common query word caps its bridged relatives' idf, as it does its synonyms'.
    const common = weighted(['credenti'], {}, (t) => (t === 'credenti' ? 0.5 : 4));
    assert.ok(Math.abs(common.get('cert')! - BRIDGE_WEIGHT * 0.5) < 1e-9, `cert weighs ${common.get('cert')}`);
  });

  it('bridges from no polysemous query word, and adds at most MAX_BRIDGE_TERMS bridged terms', () => {
    const expand = (terms: string[]) => expandQuery({ terms, features: { ...DEFAULT_FEATURES, associations: false }, idf: (t) => (terms.includes(t) ? 0 : 4), sourceIdf: () => 4, budget: 99 });
    // Every term weighs at least a synonym's weight except the bridged ones (uniform idf: no cap).
    const bridged = (terms: string[]) => expand(terms).filter((q) => q.weight < SYNONYM_WEIGHT - 1e-9);
    // "get" has many WordNet senses (acquire, fetch, become, catch…): none is followed to the lexicon.
    assert.ok(synonymThesaurus().matches(new Set(['get'])).length > 2);
    assert.deepEqual(bridged(['get']), []);
    assert.ok(bridged(['credenti']).length > 0);
    assert.ok(bridged(['credenti', 'fake', 'clock', 'laps']).length <= MAX_BRIDGE_TERMS);
  });
});
