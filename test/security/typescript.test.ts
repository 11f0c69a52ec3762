/**
 * Weakness 5: TypeScript stripping inside the run's limits. An 82-character
 * input that keeps the type stripper busy for tens of seconds unbounded is
 * stopped within the restrictive preset's CPU budget with a clear error, the
 * worker is not replaced, and the same input a second time costs nothing.
 */
import { strict as assert } from 'node:assert';
import { PRESETS, type Sandbox } from '../../src/sandbox';
import { expectError, expectHealthy, expectSuccess, newSandbox } from './common';
import { watchHealth } from './health';

describe('security: TypeScript stripping runs inside the limits', function () {
  let sb: Sandbox;
  before(async () => {
    sb = await newSandbox({ workers: 1 });
  });
  after(() => sb.close());

  it('a backtracking input is stopped within the run budget with a clear error, then answered from the cache', async () => {
    const health = watchHealth();
    const config = { ...PRESETS.restrictive };
    const evil = 'x=' + '<T>('.repeat(20);
    const budgetMs = (config.maxExecutionTimeMs * config.maxCpuPercent) / 100;
    const t0 = performance.now();
    const r = await sb.execute(evil, { task: 'ts bomb' }, { config, language: 'typescript' });
    const wall = performance.now() - t0;
    expectError(r, 'transpile_limit', /took more than \d+ ms/);
    assert.ok(wall < config.maxExecutionTimeMs, `answered after ${wall.toFixed(0)} ms (budget ${budgetMs} ms)`);
    assert.equal(sb.metrics().workerRestarts, 0, 'the worker was not killed');
    const t1 = performance.now();
    expectError(await sb.execute(evil, { task: 'ts bomb again' }, { config, language: 'typescript' }), 'transpile_limit');
    assert.ok(performance.now() - t1 < 200, 'the second time is answered from the cache');
    await health.assertUnharmed();
    expectSuccess(await sb.execute('const n: number = 41; return n + 1', { task: 'ts' }, { config, language: 'typescript' }), '42');
    await expectHealthy(sb);
  });
});
