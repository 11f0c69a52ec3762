import * as assert from 'node:assert/strict';
import type { MemoryStore, QueryResult } from '../../../src/memory';
import { tmpDir, rmDir, openStore, ok, err, record } from './helpers';

/**
 * A query answer keeps what it derives from its hits' texts between queries (the why-lines'
 * task terms, the feedback expansion's terms; src/memory/search/episodeCache.ts). After
 * writes that change those texts and the term statistics, an answer from the kept state
 * must equal the answer of the same store reopened (nothing kept).
 */
describe('memory store: query answers kept between queries', () => {
  let dir: string;
  let store: MemoryStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmDir(dir);
  });

  it('answer as a reopened store does after completions, new episodes and new steps', async () => {
    dir = tmpDir();
    store = await openStore(dir);
    const S = { type: 'success' as const, verdict: 'done' };
    const s = store;
    await record(s, 'Database connection refused when the API starts', 'debugging', [['run_terminal', 'npm start', err('connect ECONNREFUSED 127.0.0.1:5432 in createPool')], ['edit_file', 'wait for the postgres pool', ok()]], S);
    await record(s, 'API cannot open a database connection at boot', 'debugging', [['run_terminal', 'docker compose up', err('ECONNREFUSED 127.0.0.1:5432 createPool')], ['edit_file', 'retry createPool with backoff', ok()]], S);
    for (let i = 0; i < 6; i++) await record(s, `Unrelated chore ${i}: rename the ${['logger', 'router', 'parser', 'cache', 'queue', 'mailer'][i]} module`, 'refactoring', [['edit_file', `rename module ${i}`, ok()]], S);
    const long = `Database connection refused in the reporting job ${'while the nightly export reads every table, '.repeat(8)}then pgbouncer drops the database connection`;
    await record(s, long, 'debugging', [['run_terminal', 'node report.js', err('ECONNREFUSED pgbouncer')]], S);
    const pending = await s.createEpisode({ task: 'Database connection refused during the nightly migration', taskType: 'debugging' });
    await s.addStep(pending.id, { tool: 'run_terminal', action: 'npm run migrate', result: err('connect ECONNREFUSED 127.0.0.1:6432') });

    const q = { query: 'database connection refused', limit: 10 };
    const shown = (r: QueryResult) => r.hits.map((h) => ({ id: h.episode.id, score: h.score, why: h.why, repeats: h.repeats }));
    const answer = async (m: MemoryStore) => {
      const r = await m.query(q);
      return { hits: shown(r), total: r.total, expandedTerms: r.expandedTerms };
    };
    const before = await answer(s);
    assert.ok(before.hits.some((h) => h.id === pending.id), 'the episode in progress is a hit');
    assert.deepEqual(await answer(s), before, 'the same answer twice');

    // Completion changes the pending hit's feedback text (outcome and insights), a new episode
    // and a new step change the term statistics.
    await s.completeEpisode(pending.id, {
      outcome: { type: 'success', verdict: 'pointed the migration at pgbouncer' },
      reflection: { successes: [], improvements: [], insights: ['the migration must go through pgbouncer'] },
    });
    await record(s, 'Nightly migration cannot reach pgbouncer: database connection refused', 'debugging', [['run_terminal', 'npm run migrate', err('ECONNREFUSED pgbouncer')]], S);
    const other = await s.createEpisode({ task: 'Refused connection to the database from the test runner', taskType: 'testing' });
    await s.addStep(other.id, { tool: 'run_tests', action: 'jest db', result: err('ECONNREFUSED postgres') });
    const warm = await answer(s);
    assert.notDeepEqual(warm, before);
    assert.deepEqual(await answer(s), warm, 'the same answer twice after the writes');

    await s.close();
    store = await openStore(dir);
    assert.deepEqual(await answer(store), warm, 'the reopened store answers the same');
  });
});
