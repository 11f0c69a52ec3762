import * as assert from 'node:assert/strict';
import { loadEpisodes, loadQueries } from '../../../bench/quality/set';

describe('retrieval quality set (bench/quality)', () => {
  it('is large enough, graded and consistent: every graded id is an episode of the set', () => {
    const episodes = loadEpisodes();
    const queries = loadQueries();
    const ids = new Set(episodes.map((e) => e.id));
    assert.equal(ids.size, episodes.length, 'episode ids are unique');
    assert.ok(episodes.length >= 150, `${episodes.length} episodes`);
    assert.ok(new Set(episodes.map((e) => e.domain)).size >= 8);
    assert.ok(queries.length >= 30 && queries.filter((q) => q.split === 'held').length >= 20);
    assert.equal(new Set(queries.map((q) => q.id)).size, queries.length, 'query ids are unique');
    for (const q of queries) {
      assert.ok([...q.grades.values()].includes(2), `${q.id} has a grade-2 episode`);
      for (const [id, g] of q.grades) {
        assert.ok(ids.has(id), `${q.id} grades unknown episode ${id}`);
        assert.ok(g === 1 || g === 2);
      }
    }
  });
});
