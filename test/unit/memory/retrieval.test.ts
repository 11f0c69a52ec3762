import * as assert from 'node:assert/strict';
import { MemoryStore, MemoryError, tokenize, porterStem } from '../../../src/memory';
import { _schemaVersion } from '../../../src/memory/store';
import { SCHEMA_VERSION } from '../../../src/memory/store/schema';
import { phraseWords } from '../../../src/memory/text';
import { Thesaurus } from '../../../src/memory/search/expand/thesaurus';
import { tmpDir, rmDir, openStore, ok, err, record } from './helpers';

describe('memory text analysis', () => {
  it('tokenizes code identifiers and stems words', () => {
    const t = tokenize('fs.readFileSync failed in parse_json_config: HTTPServer crashed while loading');
    for (const x of ['fs.readfilesync', 'readfilesync', 'read', 'file', 'sync', 'parse_json_config', 'pars', 'json', 'config', 'httpserver', 'http', 'server', 'crash', 'load']) {
      assert.ok(t.includes(x), `${x} in ${t.join(' ')}`);
    }
    assert.equal(porterStem('generalizations'), 'gener');
    assert.equal(porterStem('running'), 'run');
  });

  it('keeps apart what Porter conflates in software text, and joins the forms of configure with config', () => {
    assert.notDeepEqual(tokenize('customers'), tokenize('custom'));
    assert.deepEqual(tokenize('customer customers'), ['customer', 'customer']);
    assert.notDeepEqual(tokenize('production'), tokenize('product'));
    assert.deepEqual(tokenize('configured the configuration config'), ['config', 'config', 'config']);
    for (const w of ['constructor', 'prototype']) assert.equal(typeof tokenize(w)[0], 'string', 'an exception table is no object with a prototype');
  });
});

describe('memory thesaurus: phrases with stop words', () => {
  it('in a document a phrase such as "log in" must occur as a phrase; its terms alone ("log") do not make it one', () => {
    const th = new Thesaurus(['login, log in, sign in', 'race, at once, in parallel']);
    assert.ok(th.related(new Set(tokenize('please log in again')), phraseWords('please log in again')).has('login'));
    assert.ok(!th.related(new Set(tokenize('the log files in the volume')), phraseWords('the log files in the volume')).has('login'));
    assert.ok(!th.related(new Set(tokenize('run it once')), phraseWords('run it once')).has('race'));
    // Without the words (a short query), the terms suffice.
    assert.ok(th.related(new Set(tokenize('log files'))).has('login'));
  });
});

describe('memory store: retrieval', () => {
  let dir: string;
  let store: MemoryStore;
  const ids: Record<string, string> = {};
  before(async () => {
    dir = tmpDir();
    store = await openStore(dir);
    const S = { type: 'success' as const, verdict: 'done' };
    const F = { type: 'failure' as const, reason: 'gave up' };
    ids.jwt = await record(store, 'Fix JWT token expiry check in the auth middleware', 'debugging', [['read_file', 'open authMiddleware.ts', ok()], ['run_tests', 'npm test auth', err('AssertionError: expected 401 to equal 200 in verifyToken')], ['edit_file', 'compare exp with Date.now()/1000', ok()]], S, { language: 'typescript', framework: 'express', tags: ['auth'] });
    ids.csv = await record(store, 'Import large CSV files without running out of memory', 'code_generation', [['read_file', 'csvImporter.py', ok()], ['edit_file', 'stream rows with csv.reader instead of readlines', ok()]], S, { language: 'python', tags: ['perf'] });
    ids.flaky = await record(store, 'Stabilize the flaky websocket reconnect test', 'testing', [['run_tests', 'jest websocket', err('Timeout of 5000ms exceeded in reconnectSocket')], ['edit_file', 'use fake timers', ok()], ['run_tests', 'jest websocket', ok('3 passed')]], S, { language: 'typescript', framework: 'jest', tags: ['flaky'] });
    ids.pg1 = await record(store, 'Database connection refused when the API starts', 'debugging', [['run_terminal', 'npm start', err('Error: connect ECONNREFUSED 127.0.0.1:5432 in createPool')], ['edit_file', 'wait for postgres pool before listen', ok()]], S, { language: 'typescript', tags: ['db'] });
    ids.pg2 = await record(store, 'API cannot reach the database connection at boot', 'debugging', [['run_terminal', 'docker compose up', err('ECONNREFUSED 127.0.0.1:5432 postgres pool createPool')], ['edit_file', 'retry createPool with backoff', ok()]], S, { language: 'typescript', tags: ['db'] });
    ids.pg3 = await record(store, 'Worker crashes on startup with createPool errors', 'debugging', [['run_terminal', 'node worker.js', err('ECONNREFUSED 127.0.0.1:5432 postgres createPool')], ['edit_file', 'add healthcheck dependency for postgres pool', ok()]], S, { language: 'typescript', tags: ['db'] });
    ids.docs = await record(store, 'Document the public REST endpoints in the README', 'documentation', [['read_file', 'routes.ts', ok()], ['edit_file', 'README.md endpoints table', ok()]], S, { language: 'markdown' });
    ids.refactor = await record(store, 'Refactor getUserProfile into smaller functions', 'refactoring', [['read_file', 'userService.ts getUserProfile', ok()], ['edit_file', 'extract loadAvatar and formatName', ok()]], F, { language: 'typescript', tags: ['tech-debt'] });
    ids.rust = await record(store, 'Rust borrow checker error in the parser loop', 'debugging', [['run_build', 'cargo build', err('error[E0502]: cannot borrow `tokens` as mutable because it is also borrowed as immutable')], ['edit_file', 'clone the peeked token', ok()]], S, { language: 'rust' });
    ids.i18n = await record(store, 'Add German translations to the settings page', 'code_generation', [['edit_file', 'de.json settings keys', ok()]], S, { language: 'typescript', framework: 'react', tags: ['i18n'] });
    const PACKAGES = ['lodash', 'chalk', 'yargs', 'zod', 'mocha', 'express', 'react', 'axios', 'dayjs', 'uuid', 'commander', 'debug', 'semver', 'glob', 'rimraf'];
    for (let i = 0; i < 15; i++) {
      await record(store, `Unrelated chore number ${i}: bump dependency ${PACKAGES[i]} to the next minor`, 'other', [['run_terminal', `npm install pkg${i}`, ok()]], S, { language: 'javascript' });
    }
  });
  after(async () => {
    await store.close();
    rmDir(dir);
  });

  const labelled: [string, string, number][] = [
    ['token expired auth returns 401', 'jwt', 1],
    ['verifyToken', 'jwt', 1],
    ['csv import out of memory', 'csv', 1],
    ['stream rows from a big csv file', 'csv', 1],
    ['flaky websocket test timeout', 'flaky', 1],
    ['reconnectSocket', 'flaky', 1],
    ['cannot borrow as mutable', 'rust', 1],
    ['E0502', 'rust', 1],
    ['user profile refactoring', 'refactor', 1],
    ['get user profile', 'refactor', 1],
    ['german translation', 'i18n', 1],
    ['README endpoints documentation', 'docs', 1],
    ['ECONNREFUSED 5432', 'pg1', 3],
  ];
  for (const [q, key, k] of labelled) {
    it(`finds "${key}" in the top ${k} for "${q}"`, async () => {
      const r = await store.query({ query: q });
      const top = r.hits.slice(0, k).map((h) => h.episode.id);
      assert.ok(top.includes(ids[key]), `expected ${ids[key]} in ${JSON.stringify(r.hits.slice(0, 3).map((h) => [h.episode.task, h.score]))}`);
      assert.ok(r.hits[0].why.some((w) => w.startsWith('matched')));
    });
  }

  it('closes the vocabulary gap with pseudo-relevance feedback', async () => {
    // "crashes on startup with createPool errors" shares no word with the query; feedback from the
    // two matching episodes adds their shared key terms (postgres, pool, econnrefused…).
    const r = await store.query({ query: 'database connection refused' });
    const got = r.hits.map((h) => h.episode.id);
    assert.ok(got.slice(0, 2).includes(ids.pg1) && got.slice(0, 2).includes(ids.pg2));
    assert.ok(got.includes(ids.pg3), 'the episode without shared words is found');
    const hit = r.hits.find((h) => h.episode.id === ids.pg3)!;
    assert.ok(hit.why.some((w) => w.startsWith('related terms')), hit.why.join(' | '));
    assert.ok((r.expandedTerms ?? []).length > 3);
  });

  it('uses client-provided expansions (e.g. a sampling rewrite) with a lower weight', async () => {
    const plain = await store.query({ query: 'localisation' });
    assert.equal(plain.hits.length, 0);
    const r = await store.query({ query: 'localisation', expansions: ['german translations i18n'] });
    assert.equal(r.hits[0]?.episode.id, ids.i18n);
  });

  it('filters by domain, task type, outcome and time', async () => {
    const r = await store.query({ query: 'user profile', outcome: 'failure' });
    assert.deepEqual(r.hits.map((h) => h.episode.id), [ids.refactor]);
    const none = await store.query({ query: 'user profile', taskType: 'testing' });
    assert.equal(none.hits.length, 0);
    const future = await store.query({ query: 'csv', since: new Date(Date.now() + 86_400_000).toISOString() });
    assert.equal(future.total, 0);
    const dom = await store.query({ query: 'csv', domain: 'nowhere' });
    assert.equal(dom.total, 0);
  });

  it('boosts context matches and explains them', async () => {
    const rankOf = (hits: { episode: { id: string } }[]): number => hits.findIndex((h) => h.episode.id === ids.rust);
    const plain = await store.query({ query: 'fix error', limit: 20 });
    const r = await store.query({ query: 'fix error', context: { language: 'rust' }, limit: 20 });
    assert.ok(rankOf(r.hits) >= 0 && rankOf(r.hits) <= rankOf(plain.hits));
    assert.ok(r.hits[rankOf(r.hits)].score > plain.hits[rankOf(plain.hits)].score);
    assert.ok(r.hits[rankOf(r.hits)].why.some((w) => w.includes('language=rust')));
  });

  it('pages results and returns compact summaries', async () => {
    const all = await store.query({ query: 'bump dependency minor', limit: 50 });
    assert.ok(all.total >= 15);
    const p1 = await store.query({ query: 'bump dependency minor', limit: 5 });
    const p2 = await store.query({ query: 'bump dependency minor', limit: 5, offset: 5 });
    assert.equal(p1.hits.length, 5);
    assert.equal(p2.hits.length, 5);
    assert.equal(new Set([...p1.hits, ...p2.hits].map((h) => h.episode.id)).size, 10);
    const s = p1.hits[0].episode;
    assert.ok(s.task && s.tools.length && s.stepCount === 1 && s.outcome === 'success');
    assert.equal((s as unknown as { steps?: unknown }).steps, undefined);
  });

  it('keeps near-duplicates out of the top results', async () => {
    const r = await store.query({ query: 'bump dependency minor', limit: 20 });
    const dups = r.hits.filter((h) => h.why.some((w) => w.startsWith('near-duplicate')));
    assert.ok(dups.length > 0, 'similar chores are flagged');
    const firstDup = r.hits.findIndex((h) => h.why.some((w) => w.startsWith('near-duplicate')));
    assert.ok(r.hits.slice(firstDup).every((h) => h.why.some((w) => w.startsWith('near-duplicate'))), 'duplicates come after distinct ones');
  });

  it('an empty query lists by context, reward and recency', async () => {
    const r = await store.query({ query: '', taskType: 'debugging', limit: 10 });
    assert.equal(r.total, 5);
  });

  it('validates query options', async () => {
    await assert.rejects(store.query({ query: 'x', limit: 500 }), (e: unknown) => e instanceof MemoryError && e.code === 'invalid' && /limit/.test(e.message));
    await assert.rejects(store.query({} as never), (e: unknown) => e instanceof MemoryError && e.code === 'invalid');
  });
});

describe('memory store: learning', () => {
  let dir: string;
  let store: MemoryStore;
  beforeEach(async () => {
    dir = tmpDir();
    store = await openStore(dir);
  });
  afterEach(async () => {
    await store.close();
    rmDir(dir);
  });

  it('recovers planted patterns with their exact success rates', async () => {
    const S = { type: 'success' as const, verdict: 'ok' };
    const F = { type: 'failure' as const, reason: 'no' };
    // plan → code → verify in 10 debugging episodes, 7 successful: 0.7.
    for (let i = 0; i < 10; i++) {
      await record(store, `planted sequence task ${i} ${'abcdefghij'[i]}`, 'debugging', [['plan', 'p', ok()], ['code', 'c', ok()], ['verify', 'v', ok()]], i < 7 ? S : F, { domain: 'web', language: 'go' });
    }
    // search → patch in 4 episodes, 1 successful: 0.25.
    for (let i = 0; i < 4; i++) {
      await record(store, `other planted ${i} ${'wxyz'[i]}`, 'debugging', [['search', 's', ok()], ['patch', 'p', ok()]], i < 1 ? S : F, { domain: 'web' });
    }
    // compile fails with TypeError, recovered by fix_types: 3 episodes, all successful.
    for (let i = 0; i < 3; i++) {
      await record(store, `recovery planted ${i} ${'klm'[i]}`, 'debugging', [['compile', 'tsc', err("TypeError: x is not a function")], ['fix_types', 'f', ok()], ['compile', 'tsc', ok()]], S, { domain: 'web' });
    }
    const { patterns, heuristics } = await store.analyzePatterns({ taskType: 'debugging', domain: 'web' });
    const get = (suffix: string) => patterns.find((p) => p.id.endsWith(suffix));
    const pcv = get('|plan>code>verify');
    assert.ok(pcv);
    assert.equal(pcv.occurrences, 10);
    assert.equal(pcv.successRate, 0.7);
    assert.equal(pcv.kind, 'tool_sequence');
    assert.equal(pcv.evidence.length, 10);
    assert.equal(get('|plan>code')?.successRate, 0.7);
    assert.equal(get('|search>patch'), undefined, JSON.stringify(get('|search>patch')));
    const rec = get('|compile:TypeError>fix_types');
    assert.ok(rec, JSON.stringify(patterns.map((p) => [p.id, p.occurrences, p.successRate])));
    assert.equal(rec.kind, 'error_recovery');
    assert.equal(rec.successRate, 1);
    assert.equal(rec.occurrences, 3);
    assert.ok(patterns.some((p) => p.kind === 'decision_point' && p.id.endsWith('start:plan')));
    const ctxP = patterns.find((p) => p.kind === 'context_pattern' && p.id.endsWith('|language=go'));
    assert.equal(ctxP?.successRate, 0.7);
    assert.equal(ctxP?.occurrences, 10);
    // Sorted by evidence, then success rate.
    for (let i = 1; i < patterns.length; i++) assert.ok(patterns[i - 1].occurrences >= patterns[i].occurrences);
    const low = await store.analyzePatterns({ minSuccessRate: 0.2, taskType: 'debugging' });
    assert.equal(low.patterns.find((p) => p.id.endsWith('|search>patch'))?.successRate, 0.25);
    // Heuristics: confidence ≥ 0.7 with ≥ 2 samples.
    assert.ok(heuristics.some((h) => h.action === 'Use the tool sequence plan → code → verify' && h.confidence === 0.7), JSON.stringify(heuristics, null, 1));
    assert.ok(heuristics.some((h) => h.action === 'Recover with fix_types' && h.condition.includes('TypeError')));
    assert.ok(heuristics.every((h) => h.confidence >= 0.7));
    const none = await store.analyzePatterns({ taskType: 'testing' });
    assert.equal(none.patterns.length, 0);
    assert.ok((await store.analyzePatterns({ limit: 3 })).patterns.length === 3);
  });

  it('averages latency per pattern', async () => {
    await record(store, 'latency one', 'testing', [['a', '1', ok()], ['b', '2', ok()]], { type: 'success', verdict: 'v' });
    const p = (await store.listPatterns({ kind: 'tool_sequence' })).find((x) => x.id.endsWith('|a>b'));
    assert.equal(p?.avgLatencyMs, 20);
  });
});

describe('memory store: retention and schema', () => {
  let dir: string;
  beforeEach(() => {
    dir = tmpDir();
  });
  afterEach(() => rmDir(dir));

  it('keeps at most maxEpisodes, removing the least useful first', async () => {
    const store = await openStore(dir);
    try {
      const good: string[] = [];
      const bad: string[] = [];
      for (let i = 0; i < 4; i++) good.push(await record(store, `good ${i} ${'abcd'[i]}`, 'testing', [['t', 'x', ok()]], { type: 'success', verdict: 'v' }));
      for (let i = 0; i < 4; i++) bad.push(await record(store, `bad ${i} ${'efgh'[i]}`, 'testing', [['u', 'y', ok()]], { type: 'failure', reason: 'r' }));
      const changes: string[] = [];
      store.onDidChange((c) => changes.push(c.type));
      store.setRetention({ maxEpisodes: 5 });
      const left = (await store.listEpisodes({ limit: 50 })).episodes.map((e) => e.id);
      assert.equal(left.length, 5);
      for (const g of good) assert.ok(left.includes(g));
      assert.deepEqual(changes, ['retention']);
      // Pattern evidence follows the deletions.
      const u = (await store.listPatterns()).find((p) => p.id.endsWith('|tag=') || p.id.includes('start:u'));
      assert.equal(u?.occurrences, 1);
    } finally {
      await store.close();
    }
  });

  it('removes episodes older than maxAgeDays (and the choice replays from the journal)', async () => {
    const store = await openStore(dir);
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await store.importAll({
      format: 'agent-memory-export',
      version: 1,
      exportedAt: old,
      episodes: [
        { id: 'old1', task: 'ancient', domain: 'd', taskType: 'other', context: { tags: [] }, startedAt: old, steps: [], outcome: { type: 'success', verdict: 'v' } },
        { id: 'new1', task: 'fresh', domain: 'd', taskType: 'other', context: { tags: [] }, startedAt: new Date().toISOString(), steps: [] },
      ],
    });
    store.setRetention({ maxAgeDays: 30 });
    assert.equal(await store.getEpisode('old1'), undefined);
    assert.ok(await store.getEpisode('new1'));
    await store.close();
    const again = await openStore(dir, { retention: { maxAgeDays: 30 } });
    assert.equal(await again.getEpisode('old1'), undefined);
    assert.ok(await again.getEpisode('new1'));
    await again.close();
  });

  it('migrates a schema 3 database: merge keys become repeat keys, merged repeats still count', async () => {
    const store = await openStore(dir);
    const a = await record(store, 'Flush the CDN cache for release 41', 'other', [['run_terminal', 'purge', ok()]], { type: 'success', verdict: 'purged' });
    const b = await record(store, 'Flush the CDN cache for release 42', 'other', [['run_terminal', 'purge', ok()]], { type: 'success', verdict: 'purged' });
    // As an earlier version left it: the old column and key, and one repeat merged into `a`.
    const db = (store as unknown as { db: { run(sql: string, p?: unknown[]): void } }).db;
    db.run('DROP INDEX episodes_repeat');
    db.run('ALTER TABLE episodes RENAME COLUMN repeat_key TO dedupe_key');
    db.run("UPDATE episodes SET dedupe_key = 'old-' || id, dup_count = CASE WHEN id = ? THEN 1 ELSE 0 END", [a]);
    db.run('CREATE INDEX episodes_dedupe ON episodes(dedupe_key)');
    db.run("UPDATE meta SET value = '3' WHERE key = 'schema_version'");
    await store.recordToolCall('forces a snapshot on close');
    await store.close();
    const again = await openStore(dir);
    try {
      assert.equal(_schemaVersion(again), String(SCHEMA_VERSION));
      const hit = (await again.query({ query: 'flush cdn cache' })).hits[0];
      assert.deepEqual([hit.repeats?.count, hit.repeats?.succeeded, [...hit.repeats!.ids].sort()], [3, 3, [a, b].sort()]);
    } finally {
      await again.close();
    }
  });

  it('records the schema version and refuses a newer one', async () => {
    const store = await openStore(dir);
    assert.equal(_schemaVersion(store), String(SCHEMA_VERSION));
    (store as unknown as { db: { run(sql: string): void } }).db.run("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    await store.createEpisode({ task: 'force a snapshot', taskType: 'other' });
    await store.close();
    await assert.rejects(openStore(dir), (e: unknown) => e instanceof MemoryError && e.code === 'corrupt' && /newer/.test(e.message));
  });
});
