import { strict as assert } from 'node:assert';
import { screenCode, stripTypes, tokenize } from '../../../src/sandbox';

const off = { allowNetwork: false };
const hit = (code: string, net = false) => screenCode(code, { allowNetwork: net })?.violationType;

describe('sandbox pattern screen', () => {
  it('flags the seed idioms with the matching type', () => {
    assert.equal(hit("require('fs')"), 'filesystem');
    assert.equal(hit('require("node:fs/promises")'), 'filesystem');
    assert.equal(hit("require('https')"), 'network');
    assert.equal(hit("require('child_process')"), 'subprocess');
    assert.equal(hit("exec('rm -rf /')"), 'subprocess');
    assert.equal(hit("spawn('sh', ['-c', 'id'])"), 'subprocess');
    assert.equal(hit("eval('1 + 1')"), 'code_injection');
    assert.equal(hit("new Function('return 1')"), 'code_injection');
    assert.equal(hit("fetch('https://example.com')"), 'network');
    assert.equal(hit("new WebSocket('ws://x')"), 'network');
    assert.equal(hit('new XMLHttpRequest()'), 'network');
    assert.equal(hit('while (true) {}'), 'infinite_loop');
    assert.equal(hit('while(1) x++;'), 'infinite_loop');
    assert.equal(hit('for (;;) { x++ }'), 'infinite_loop');
    assert.equal(hit('do { x++ } while (true)'), 'infinite_loop');
    assert.equal(hit("import('fs')"), 'filesystem');
    assert.equal(hit('require("f\\x73")'), 'filesystem', 'escapes in strings are decoded');
  });

  it('has no false positives in strings, comments, templates, regexes or member calls', () => {
    const clean = [
      `const s = "require('fs') eval(x) fetch(url) while(true){}"; return s`,
      `// eval('x'); require('fs'); while (true) {}\nreturn 1`,
      `/* new Function('a') exec('ls') */ return 2`,
      'const t = `fetch(${1 + 1}) child_process`; return t',
      'return /eval\\(|fetch\\(/.test("eval(")',
      'const m = /(\\d+)/.exec("a1"); return m[1]',
      'const o = { exec() { return 1 }, spawn: 2 }; return o.exec()',
      'while (true) { if (Math.random() < 2) break; }',
      'for (;;) { return 1 }',
      'do { i++ } while (true && i < 3)',
      'let i = 0; while (i < 10) i++; return i',
      'return memory.fetch ? 1 : 0',
      'return a / b / c',
    ];
    for (const c of clean) assert.equal(screenCode(c, off), undefined, c);
    assert.equal(hit("fetch('https://example.com')", true), undefined, 'fetch is fine when the network is allowed');
  });

  it('does not let a template expression hide code', () => {
    assert.equal(hit('const t = `${eval("1")}`'), 'code_injection');
  });

  it('tokenizes regex vs division', () => {
    const kinds = tokenize('a = b / c; d = /x/g.test(e)').map((t) => t.type);
    assert.deepEqual(kinds.filter((k) => k === 'regex').length, 1);
  });

  it('strips TypeScript keeping line numbers, with top-level return and await', () => {
    const r = stripTypes('interface A { x: number }\nconst a: A = { x: 1 };\nawait 0;\nreturn a.x as number;');
    assert.ok(r.ok);
    if (r.ok) assert.equal(r.code.split('\n').length, 4);
    const bad = stripTypes('const a: number = 1;\nconst b: = 2;');
    assert.ok(!bad.ok);
    if (!bad.ok && !bad.timedOut) assert.equal(bad.line, 2);
  });

  it('time-boxes an input that makes the type stripper backtrack, and caches the answer', () => {
    // 82 characters that keep sucrase's parser busy for tens of seconds unbounded.
    const evil = 'x=' + '<T>('.repeat(20);
    let t = performance.now();
    const r = stripTypes(evil, 100);
    const first = performance.now() - t;
    assert.ok(!r.ok && r.timedOut, JSON.stringify(r));
    assert.match(r.message, /took more than 100 ms/);
    assert.ok(first < 2000, `stopped after ${first} ms`);
    t = performance.now();
    assert.deepEqual(stripTypes(evil, 100), r);
    assert.ok(performance.now() - t < 50, 'the second time comes from the cache');
    // A normal input is unaffected and also cached.
    const ok = stripTypes('const a: number = 1; return a', 100);
    assert.ok(ok.ok);
    assert.equal(stripTypes('const a: number = 1; return a', 100), ok);
  });
});
