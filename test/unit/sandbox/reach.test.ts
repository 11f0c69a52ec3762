/**
 * A run's context installs only the runtime globals its code can reach
 * (src/sandbox/mentions.ts): what the code names, or everything when it could
 * reach the global object or make code from strings. The guest must not be able
 * to tell: every indirect path still finds every global, whatever the worker ran
 * before (its next context is prepared ahead for the last run's needs).
 */
import { strict as assert } from 'node:assert';
import { Sandbox } from '../../../src/sandbox';
import { codeReach } from '../../../src/sandbox/mentions';
import { cfg, ensureWorkerBuilt, expectSuccess, expectViolation, WORKER_PATH } from './helpers';

const NAMES = ['console', 'require', 'fetch', 'fs', 'setTimeout', 'URL', 'TextEncoder', 'memory'];
const reachableGlobals = (code: string, names: string[]) => codeReach(code, names).globals;

describe('sandbox: globals installed by what the code can reach', function () {
  this.timeout(30_000);

  describe('codeReach', () => {
    it('finds the names the code mentions, in strings and comments too', () => {
      assert.deepEqual(reachableGlobals('const x = context.input; return x', NAMES), []);
      assert.deepEqual(reachableGlobals("console.log(new URL('a:b').href) // setTimeout", NAMES), ['console', 'setTimeout', 'URL']);
      assert.deepEqual(reachableGlobals("return 'TextEncoder'", NAMES), ['TextEncoder']);
      assert.deepEqual(reachableGlobals('const $console = 1, URLs = 2, fs_ = 3; return $console + URLs + fs_', NAMES), []);
    });
    it('answers all for code that may reach globals without naming them', () => {
      for (const code of [
        'return globalThis["set" + "Timeout"]',
        'return Object.keys(this)',
        'function f() { return this } return f()',
        "return (0, eval)('1')",
        'return Function',
        'with (o) { x }',
        "return import('x')",
        'return self',
        'return window',
        'return typeof \\u0073etTimeout',
        "return '\\u0041'",
        '// this is a comment',
      ]) {
        assert.equal(reachableGlobals(code, NAMES), 'all', code);
      }
      assert.notEqual(reachableGlobals('return [athis, this_, $this, thisValue]', NAMES), 'all');
    });
    it('leaves out the optional built-ins the code does not name, and none when it names a runtime global', () => {
      assert.deepEqual(codeReach('return context.input.xs.map((x) => x * 2)', NAMES).intrinsics, []);
      assert.deepEqual(codeReach('return [new Map(), new Date(), new Uint8Array(2)]', NAMES).intrinsics, ['Date', 'MapSet', 'TypedArrays']);
      assert.deepEqual(codeReach('return typeof Proxy', NAMES).intrinsics, ['Proxy']);
      assert.equal(codeReach("console.log('x')", NAMES).intrinsics, 'all');
      assert.equal(codeReach('return this', NAMES).intrinsics, 'all');
      assert.equal(codeReach('return new WeakRef({})', NAMES).intrinsics, 'all');
    });
  });

  describe('in the sandbox', () => {
    let sb: Sandbox;
    const config = cfg({ maxExecutionTimeMs: 5000, maxCpuPercent: 100 });
    const run = (code: string, hostApi?: Record<string, (...a: unknown[]) => unknown>) => sb.execute(code, { task: 'reach', input: { n: 2 } }, { config, hostApi });
    const globalKeys = 'return Object.getOwnPropertyNames(globalThis)';

    before(async () => {
      await ensureWorkerBuilt();
      // One worker: each run's context was prepared ahead for the run before it.
      sb = new Sandbox({ workers: 1, workerPath: WORKER_PATH, config: cfg() });
    });
    after(() => sb.close());

    it('shows the same global object, in the same order, whatever ran before', async () => {
      const reference = await run(globalKeys);
      expectSuccess(reference);
      const keys = JSON.parse(reference.output) as string[];
      for (const name of ['console', 'require', 'fs', 'fetch', 'eval', 'setTimeout', 'URL', 'TextEncoder', 'structuredClone', 'crypto', 'Headers', 'context']) assert.ok(keys.includes(name), name);
      for (const before of ['return context.input.n * 2', "console.log('x'); return 1", "return new URL('https://a.example/').host", 'return typeof setTimeout + typeof crypto', globalKeys]) {
        expectSuccess(await run(before));
        expectSuccess(await run(globalKeys), reference.output);
      }
    });
    it('finds every global through indirect paths', async () => {
      expectSuccess(await run('return typeof globalThis["set" + "Timeout"]'), '"function"');
      expectSuccess(await run("return Reflect.ownKeys(this).includes('URLSearchParams')"), 'true');
      expectSuccess(await run("function f() { return this } return typeof f()['Text' + 'Decoder']"), '"function"');
      expectSuccess(await run('return typeof \\u0073tructuredClone'), '"function"');
      expectSuccess(await run("return typeof Object.getOwnPropertyDescriptor(globalThis, 'cons' + 'ole').get"), '"function"');
    });
    it('keeps code made from strings denied, by name or through any function', async () => {
      expectViolation(await run("return (0, eval)('1')"), 'code_injection');
      expectViolation(await run("return [].map.constructor('return 1')()"), 'code_injection');
      expectViolation(await run("return (function* () {}).constructor('yield 1')().next()"), 'code_injection');
      expectViolation(await run("return (async () => {}).constructor('return 1')()"), 'code_injection');
      expectViolation(await run("return (async function* () {}).constructor('yield 1')"), 'code_injection');
    });
    it('gives code that names a global the global as the full install does', async () => {
      expectSuccess(await run("setTimeout = 5; URL = 'u'; return [setTimeout, URL, typeof TextEncoder]"), '[5,"u","function"]');
      expectSuccess(await run('var URL = 1; function atob() { return 2 } return [URL, atob()]'), '[1,2]');
      expectSuccess(await run('return [typeof require, typeof fs.readFile]'), '["function","function"]');
      expectSuccess(await run("'use strict'; let threw = false; try { context.input.n = 3 } catch { threw = true } return [threw, context.input.n]"), '[true,2]');
      expectViolation(await run('return fs.readFile("/etc/passwd")'), 'filesystem');
    });
    it('installs host functions for the runs that name them, whatever ran before', async () => {
      const hostApi = { 'memory.one': () => 1 };
      expectSuccess(await run('return 1', hostApi));
      expectSuccess(await run('return [typeof memory, await memory.one()]', hostApi), '["object",1]');
      expectSuccess(await run('return typeof memory'), '"undefined"');
      expectSuccess(await run('return 2'));
      expectSuccess(await run('return await memory.one()', hostApi), '1');
    });
    it('gives the built-ins the code names, and all of them through the global object, whatever ran before', async () => {
      expectSuccess(await run('return context.input.n'), '2');
      expectSuccess(await run('return [new Map([[1, 2]]).get(1), new Uint8Array([3])[0], typeof Date.now(), typeof WeakRef, typeof Proxy]'), '[2,3,"number","function","function"]');
      expectSuccess(await run('return context.input.n'), '2');
      expectSuccess(await run("return ['Map', 'Set', 'WeakMap', 'Date', 'Proxy', 'ArrayBuffer', 'Float64Array', 'DataView', 'FinalizationRegistry'].map((n) => typeof globalThis[n])"), JSON.stringify(Array(9).fill('function')));
      expectSuccess(await run('return typeof Map'), '"function"');
      expectSuccess(await run("console.log(new Map([[1, { a: new Uint8Array(2) }]]), new Set([new Date(0)])); return 1"));
    });
    it('reports a throwing listener on the runtime console when the code never named console', async () => {
      // A lure on Object.prototype: the global object has no own `console` here, and a read through the
      // prototype chain would call the guest's object.
      const code = `let lured = 0; Object.prototype['con' + 'sole'] = { error: () => { lured++ } };
        const t = new EventTarget(); t.addEventListener('x', () => { throw new Error('boom') }); t.dispatchEvent(new Event('x'));
        return lured`;
      const r = await run(code);
      expectSuccess(r, '0');
      assert.match(r.stderr, /Uncaught Error: boom/);
    });
  });
});
