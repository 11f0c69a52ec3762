/**
 * The guest's standard runtime (issue 13): timers driven by the worker's loop
 * and bounded by the run, queueMicrotask, performance, and console as Node
 * prints it (compared with this Node's own util.format on the same values).
 */
import { strict as assert } from 'node:assert';
import { format } from 'node:util';
import * as vm from 'node:vm';
import { Sandbox } from '../../../src/sandbox';
import { cfg, ensureWorkerBuilt, expectError, expectHealthy, expectSuccess, WORKER_PATH } from './helpers';

describe('sandbox runtime', function () {
  this.timeout(30_000);
  let sb: Sandbox;
  const run = (code: string, config = cfg({ maxExecutionTimeMs: 2000, maxCpuPercent: 100 })) => sb.execute(code, { task: 'runtime' }, { config });

  before(async () => {
    await ensureWorkerBuilt();
    sb = new Sandbox({ workers: 1, workerPath: WORKER_PATH, config: cfg() });
  });
  after(() => sb.close());

  describe('timers', () => {
    it('offers the timer globals as functions', async () => {
      expectSuccess(await run('return [setTimeout, setInterval, clearTimeout, clearInterval, queueMicrotask].map((f) => typeof f)'), JSON.stringify(Array(5).fill('function')));
    });
    it('fires by due time, then by creation, each timer followed by the microtasks it queued', async () => {
      const code = `const order = [];
        setTimeout(() => order.push('t20'), 20);
        setTimeout(() => { order.push('t1a'); queueMicrotask(() => order.push('m1')); Promise.resolve().then(() => order.push('p1')) }, 1);
        setTimeout(() => order.push('t1b'), 1);
        setTimeout((a, b) => order.push('t0:' + a + b), 0, 'x', 'y');
        queueMicrotask(() => order.push('m0'));
        await new Promise((r) => setTimeout(r, 30));
        return order`;
      expectSuccess(await run(code), JSON.stringify(['m0', 't0:xy', 't1a', 'm1', 'p1', 't1b', 't20']));
    });
    it('clears timeouts and intervals, by handle or by its number', async () => {
      const code = `let ticks = 0; const log = [];
        const a = setTimeout(() => log.push('a'), 1); clearTimeout(a);
        const b = setTimeout(() => log.push('b'), 1); clearTimeout(+b);
        await new Promise((done) => { const i = setInterval(() => { if (++ticks === 3) { clearInterval(i); setTimeout(done, 10) } }, 2) });
        return [log, ticks, typeof a.ref, a.hasRef(), typeof +a]`;
      expectSuccess(await run(code), JSON.stringify([[], 3, 'function', true, 'number']));
    });
    it('ends the run when the top-level code settles: pending timers are dropped', async () => {
      const r = await run("setTimeout(() => console.log('late'), 50); setInterval(() => console.log('tick'), 1); return 'done'");
      expectSuccess(r, '"done"');
      assert.equal(r.stdout, '');
      assert.ok(r.executionTimeMs < 40, `took ${r.executionTimeMs} ms`);
    });
    it('times out at the deadline when the awaited timer falls after it', async () => {
      const started = Date.now();
      const r = await run('await new Promise((r) => setTimeout(r, 60_000)); return 1', cfg({ maxExecutionTimeMs: 300 }));
      assert.equal(r.kind, 'timeout', JSON.stringify(r));
      assert.ok(Date.now() - started < 300 + 1000, `took ${Date.now() - started} ms`);
      await expectHealthy(sb);
    });
    it('a timer that re-arms itself forever cannot outlive the run', async () => {
      for (const code of ['function f() { setTimeout(f, 0) } f(); await new Promise(() => {})', 'setInterval(() => {}, 0); await new Promise(() => {})', 'function g() { queueMicrotask(g) } g(); await new Promise(() => {})']) {
        const started = Date.now();
        const r = await run(code, cfg({ maxExecutionTimeMs: 300 }));
        assert.equal(r.kind, 'timeout', `${code}: ${JSON.stringify(r)}`);
        assert.ok(Date.now() - started < 300 + 1000, `${code} took ${Date.now() - started} ms`);
      }
      await expectHealthy(sb);
    });
    it('runs a 1,000-timer script to completion', async () => {
      const code = 'let n = 0; await new Promise((done) => { for (let i = 0; i < 1000; i++) setTimeout(() => { if (++n === 1000) done() }, i % 3) }); return n';
      expectSuccess(await run(code), '1000');
    });
    it('an exception in a timer or microtask callback ends the run with that error (as Node exits on it)', async () => {
      const r = await run("setTimeout(() => { throw new RangeError('in a timer') }, 1);\nawait new Promise((r) => setTimeout(r, 50)); return 1");
      expectError(r, 'runtime', /RangeError: in a timer \(line 1/);
      expectError(await run("queueMicrotask(() => { throw new TypeError('in a microtask') }); await new Promise((r) => setTimeout(r, 20))"), 'runtime', /TypeError: in a microtask/);
      expectError(await run("setTimeout('code as a string', 1)"), 'runtime', /callback.*function/);
    });
    it('still reports a promise that can never settle when no timer is pending', async () => {
      expectError(await run('const t = setTimeout(() => {}, 5); clearTimeout(t); await new Promise(() => {})'), 'runtime', /can never settle/);
    });
  });

  describe('lazy installation', () => {
    it('a global is an accessor until touched, then a plain writable value; the guest may replace it first', async () => {
      const code = `const before = typeof Object.getOwnPropertyDescriptor(globalThis, 'URL').get;
        const u = new URL('https://example.com/');
        const after = Object.getOwnPropertyDescriptor(globalThis, 'URLSearchParams');
        globalThis.TextEncoder = 'mine';
        return [before, typeof after.value, after.writable, after.enumerable, TextEncoder, typeof TextDecoder, u.host]`;
      expectSuccess(await run(code), JSON.stringify(['function', 'function', true, false, 'mine', 'function', 'example.com']));
    });
  });

  describe('web APIs', () => {
    it('TextEncoder / TextDecoder: UTF-8, surrogates, fatal, ignoreBOM, streaming', async () => {
      const code = `const enc = new TextEncoder();
        const bytes = enc.encode('h\u00e9\u20ac\ud834\udd1e\ud800');
        const into = new Uint8Array(4); const res = enc.encodeInto('a\u20acb', into);
        const dec = new TextDecoder();
        let fatal = ''; try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xe2, 0x82])) } catch (e) { fatal = e.name }
        const bom = [new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), new TextDecoder('utf8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])).length];
        const s = new TextDecoder(); const streamed = s.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + s.decode(new Uint8Array([0xac]));
        let label = ''; try { new TextDecoder('latin2') } catch (e) { label = e.name }
        return [Array.from(bytes), res, Array.from(into), dec.decode(bytes), dec.decode(new Uint8Array([0xf0, 0x80, 0x41])), fatal, bom, streamed, label, dec.encoding]`;
      const want = [[104, 195, 169, 226, 130, 172, 240, 157, 132, 158, 239, 191, 189], { read: 2, written: 4 }, [97, 226, 130, 172], 'hé€𝄞\ufffd', '\ufffd\ufffdA', 'TypeError', ['A', 2], '€', 'RangeError', 'utf-8'];
      expectSuccess(await run(code), JSON.stringify(want));
    });
    it('atob / btoa: forgiving base64 and InvalidCharacterError', async () => {
      const code = `const errs = []; for (const f of [() => atob('a'), () => atob('ab=c'), () => btoa('\u20ac')]) { try { f() } catch (e) { errs.push(e.name + ':' + (e instanceof DOMException)) } }
        return [btoa('hello'), atob(' aGVs\\nbG8 '), atob('aGVsbG8'), btoa(atob('/+8=')), errs]`;
      expectSuccess(await run(code), JSON.stringify(['aGVsbG8=', 'hello', 'hello', '/+8=', ['InvalidCharacterError:true', 'InvalidCharacterError:true', 'InvalidCharacterError:true']]));
    });
    it('URL and URLSearchParams: resolution, IDNA, percent-encoding, setters, TypeError', async () => {
      const code = `const u = new URL('../a/b c?x=1#h', 'https://user:pw@EXAMPLE.com:443/p/q');
        u.searchParams.append('y', 'z w'); u.pathname = '/new path'; u.port = '8443';
        let bad = ''; try { new URL('no scheme') } catch (e) { bad = e.constructor.name }
        const p = new URLSearchParams('?b=2&a=1&a=%E2%82%AC+x'); p.sort();
        return [u.href, u.origin, new URL('http://m\u00fcnchen.de/').hostname, new URL('http://xn--mnchen-3ya.de/').host, URL.canParse('x:'), bad, p.getAll('a'), String(p), [...new URLSearchParams({ k: 'v&=' })], JSON.stringify({ u: new URL('http://a/') })]`;
      expectSuccess(await run(code), JSON.stringify(['https://user:pw@example.com:8443/new%20path?x=1&y=z+w#h', 'https://example.com:8443', 'xn--mnchen-3ya.de', 'xn--mnchen-3ya.de', true, 'TypeError', ['1', '€ x'], 'a=1&a=%E2%82%AC+x&b=2', [['k', 'v&=']], '{"u":"http://a/"}']));
    });
    it('URL follows the current standard where the host parser predates it: `^` in paths, a space before ? or # in an opaque path', async () => {
      const code = `const u = new URL('foo://h/a^b?^#^'); const w = new URL('wss://h/x^'); w.pathname = '/y^z';
        const o = new URL('sc:space  ?q#f'); const before = o.href; o.search = ''; const d = new URL('data:x #f'); d.hash = '';
        return [u.href, u.pathname, w.href, before, o.href, o.pathname, d.href, new URL('sc:a b').href, new URL('foo:a^').href]`;
      expectSuccess(await run(code), JSON.stringify(['foo://h/a%5Eb?^#^', '/a%5Eb', 'wss://h/y%5Ez', 'sc:space %20?q#f', 'sc:space %20#f', 'space %20', 'data:x%20', 'sc:a b', 'foo:a^']));
    });
    it('structuredClone: cycles, shared references, Map, Set, Date, RegExp, typed arrays, errors; DataCloneError for functions', async () => {
      const code = `const shared = { s: 1 }; const o = { a: [1, , shared], b: shared, m: new Map([[shared, new Set([2])]]), d: new Date(5), r: /x/gi, t: new Uint16Array([1, 2]), e: new RangeError('bad', { cause: 7 }), n: new Number(3), big: 10n };
        o.self = o;
        const c = structuredClone(o);
        let err = []; try { structuredClone({ f() {} }) } catch (e) { err = [e.name, e.code, e instanceof DOMException, e instanceof Error] }
        let sym = ''; try { structuredClone(Symbol('s')) } catch (e) { sym = e.name }
        return [c.self === c, c !== o, c.b === c.a[2], 1 in c.a, c.m.get(c.b).has(2), c.d.getTime(), c.r.flags, c.t instanceof Uint16Array && Array.from(c.t), c.e instanceof RangeError && c.e.message, c.e.cause, +c.n, typeof c.big, err, sym]`;
      expectSuccess(await run(code), JSON.stringify([true, true, true, false, true, 5, 'gi', [1, 2], 'bad', 7, 3, 'bigint', ['DataCloneError', 25, true, true], 'DataCloneError']));
    });
    it('structuredClone: Blob, File and DOMException copied; Response, Headers, URL, AbortSignal, TextEncoder and SharedArrayBuffer refused', async () => {
      const code = `const f = new File(['hé'], 'a.txt', { type: 'Text/Plain', lastModified: 42 });
        const c = structuredClone({ f, b: new Blob([new Uint8Array([1, 2])]), x: new DOMException('gone', 'AbortError') });
        const refused = [new Response('x'), new Headers(), new URL('http://a/'), new URLSearchParams('a=1'), AbortSignal.abort(), new AbortController(), new TextEncoder(), new EventTarget(), new SharedArrayBuffer(4)]
          .map((v) => { try { structuredClone(v); return 'cloned' } catch (e) { return e.name } });
        const plain = structuredClone(Object.setPrototypeOf({ k: 1 }, Object.create(Response.prototype)));
        return [c.f instanceof File, c.f !== f, c.f.name, c.f.type, c.f.lastModified, await c.f.text(), Array.from(await c.b.bytes()), c.b instanceof File,
          c.x instanceof DOMException, c.x.name, c.x.message, c.x.code, refused, Object.getPrototypeOf(plain) === Object.prototype && plain.k]`;
      expectSuccess(await run(code), JSON.stringify([true, true, 'a.txt', 'text/plain', 42, 'hé', [1, 2], false, true, 'AbortError', 'gone', 20, Array(9).fill('DataCloneError'), 1]));
    });
    it('structuredClone: resizable buffers stay resizable, length-tracking views keep tracking; transfer detaches; out-of-bounds views refused', async () => {
      const code = `const ab = new ArrayBuffer(16, { maxByteLength: 32 }); new Uint8Array(ab).set([7, 8], 14);
        const c = structuredClone({ ab, fixed: new Uint8Array(ab, 0, 16), tracking: new Uint16Array(ab, 2), dv: new DataView(ab, 4) });
        c.ab.resize(24);
        const full = new ArrayBuffer(8, { maxByteLength: 8 }); new Uint8Array(full).set([1, 2, 3, 4, 5, 6, 7, 8]);
        const fc = structuredClone([new Uint8Array(full, 0, 8), new Uint8Array(full, 4)]);
        const fcValues = fc.map((v) => Array.from(v)); fc[0].buffer.resize(6);
        const t = new Uint8Array([1, 2, 3]); const moved = structuredClone({ t, again: t.buffer }, { transfer: [t.buffer] });
        const errors = [() => structuredClone(t.buffer), () => structuredClone(1, { transfer: [new Blob([])] }), () => structuredClone(1, { transfer: [ab, ab] }), () => structuredClone(1, { transfer: 5 })];
        const shrunk = new ArrayBuffer(8, { maxByteLength: 8 }); const oob = new Uint8Array(shrunk, 4, 4); shrunk.resize(2);
        errors.push(() => structuredClone(oob), () => structuredClone(new DataView(shrunk, 0, 2)), () => { const d = new DataView(shrunk, 1); shrunk.resize(0); return structuredClone(d) });
        return [c.ab.resizable, c.ab.maxByteLength, c.fixed.length, c.tracking.length, c.dv.byteLength, c.fixed.buffer === c.ab && c.dv.buffer === c.ab, Array.from(new Uint8Array(ab)).slice(14), ab.byteLength,
          fc.map((v) => v.length), fcValues, Array.from(new Uint8Array(full)), t.byteLength, t.buffer.detached, Array.from(moved.t), moved.again === moved.t.buffer,
          errors.map((f) => { try { f(); return 'cloned' } catch (e) { return e.name } })]`;
      expectSuccess(await run(code), JSON.stringify([true, 32, 16, 11, 20, true, [7, 8], 16, [0, 2], [[1, 2, 3, 4, 5, 6, 7, 8], [5, 6, 7, 8]], [1, 2, 3, 4, 5, 6, 7, 8], 0, true, [1, 2, 3], true,
        ['DataCloneError', 'DataCloneError', 'DataCloneError', 'TypeError', 'DataCloneError', 'cloned', 'DataCloneError']]));
    });
    it('crypto: getRandomValues (integer arrays, 65,536-byte quota), randomUUID, subtle.digest SHA-1/256/384/512', async () => {
      const code = `const a = crypto.getRandomValues(new Uint8Array(32)); const b = crypto.getRandomValues(new Uint8Array(32));
        const errs = []; for (const x of [new Uint8Array(65537), new Float64Array(2)]) { try { crypto.getRandomValues(x) } catch (e) { errs.push(e.name) } }
        const hex = async (alg, s) => Array.from(new Uint8Array(await crypto.subtle.digest(alg, new TextEncoder().encode(s))), (x) => x.toString(16).padStart(2, '0')).join('');
        let unknown = ''; try { await crypto.subtle.digest('MD5', new Uint8Array(1)) } catch (e) { unknown = e.name }
        return [a.some((x, i) => x !== b[i]), errs, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()),
          await hex('SHA-1', 'abc'), await hex('sha-256', 'abc'), (await hex({ name: 'SHA-384' }, 'abc')).slice(0, 16), (await hex('SHA-512', '')).slice(0, 16), unknown]`;
      const r = await run(code);
      expectSuccess(r, JSON.stringify([true, ['QuotaExceededError', 'TypeMismatchError'], true, 'a9993e364706816aba3e25717850c26c9cd0d89d', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'cb00753f45a35e8b', 'cf83e1357eefb8bd', 'NotSupportedError']));
    });
    it('Event, EventTarget, AbortController, AbortSignal (abort, timeout, any, reason)', async () => {
      const code = `const log = []; const t = new EventTarget();
        const h = (e) => log.push(e.type + ':' + (e.target === t)); t.addEventListener('go', h); t.addEventListener('go', h); t.addEventListener('go', () => log.push('once'), { once: true });
        t.dispatchEvent(new Event('go')); t.dispatchEvent(new CustomEvent('go', { detail: 1 }));
        const ev = new Event('c', { cancelable: true }); t.addEventListener('c', (e) => e.preventDefault()); const notCanceled = t.dispatchEvent(ev);
        const c = new AbortController(); c.signal.onabort = () => log.push('onabort'); c.abort(); c.abort('again');
        const timed = AbortSignal.timeout(5); await new Promise((r) => timed.addEventListener('abort', r));
        const any = AbortSignal.any([new AbortController().signal, AbortSignal.abort('why')]);
        let thrown = ''; try { c.signal.throwIfAborted() } catch (e) { thrown = e.name }
        let illegal = ''; try { new AbortSignal() } catch (e) { illegal = e.constructor.name }
        return [log, notCanceled, ev.defaultPrevented, c.signal.reason instanceof DOMException, c.signal.reason.name, timed.reason.name, any.aborted, any.reason, thrown, illegal]`;
      expectSuccess(await run(code), JSON.stringify([['go:true', 'once', 'go:true', 'onabort'], false, true, true, 'AbortError', 'TimeoutError', true, 'why', 'AbortError', 'TypeError']));
    });
    it('Headers, Request, Response, Blob', async () => {
      const code = `const h = new Headers([['Content-Type', 'text/plain'], ['X-A', '1']]); h.append('x-a', '2'); h.set('B', ' v ');
        let bad = ''; try { h.append('bad name', 'x') } catch (e) { bad = e.name }
        const r = new Response(JSON.stringify({ a: 1 }), { status: 201, statusText: 'Created', headers: h });
        const copy = r.clone(); const data = await r.json(); let used = ''; try { await r.text() } catch (e) { used = e.name }
        const j = Response.json({ ok: 1 }); const blob = new Blob(['ab', new Uint8Array([99]), new Blob(['d'])], { type: 'Text/Plain' });
        const q = new Request('https://example.com/x', { method: 'post', body: new URLSearchParams({ k: 'v' }) });
        let get = ''; try { new Request('https://example.com', { method: 'GET', body: 'x' }) } catch (e) { get = e.name }
        return [[...h], bad, r.status, r.ok, r.statusText, data, used, await copy.text(), j.headers.get('content-type'), await j.json(), blob.size, blob.type, await blob.slice(1, 3).text(), Array.from(new Uint8Array(await blob.arrayBuffer())), q.method, q.headers.get('content-type'), await q.text(), get]`;
      const want = [[['b', 'v'], ['content-type', 'text/plain'], ['x-a', '1, 2']], 'TypeError', 201, true, 'Created', { a: 1 }, 'TypeError', '{"a":1}', 'application/json', { ok: 1 }, 4, 'text/plain', 'bc', [97, 98, 99, 100], 'POST', 'application/x-www-form-urlencoded;charset=UTF-8', 'k=v', 'TypeError'];
      expectSuccess(await run(code), JSON.stringify(want));
    });
  });

  describe('performance', () => {
    it('now() is coarsened to 0.1 ms and moves; timeOrigin is the run start (within 2 s: a loaded machine delays the run)', async () => {
      const r = await run('const a = performance.now(); for (let i = 0; i < 1e5; i++); const b = performance.now(); return [Math.round(a * 10) === a * 10, b >= a, Math.abs(performance.timeOrigin + a - Date.now()) < 2000]');
      expectSuccess(r, '[true,true,true]');
    });
  });

  describe('console as Node prints it', () => {
    // Each line is evaluated here (in a node:vm context, for the same built-ins) and in the sandbox; the printed text must match.
    const cases = [
      "'a', 1, { b: [2] }",
      "{ a: { b: { c: { d: 1 } } } }",
      "(() => { const o = { x: 1 }; o.self = o; return o })()",
      "(() => { const a = [1]; const o = { a, b: { a } }; a.push(o); return o })()",
      "new Map([[1, { a: 2 }], ['k', 'v']]), new Set(['a', 1])",
      "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]",
      "Array.from({ length: 120 }, (_, i) => i)",
      "Array.from({ length: 30 }, (_, i) => ({ i }))",
      "['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb']",
      "'%s=%d %i %f %j %O %c %% %x', 'a', 42.5, 42.5, '3.5', { j: 1 }, { O: 1 }, 'color: red'",
      "'%s and %s', 'one'",
      "'%o', [1, [2]]",
      "[undefined, null, -0, 1n, Symbol('s'), function f() {}, class A {}, () => 1, async function g() {}, function* h() {}]",
      "{ 'a-b': 1, b: \"it's\", c: [, 1], d: new Date(0), e: /x/g, f: new Uint8Array(3), g: new ArrayBuffer(2), h: 'say \"hi\"' }",
      "Object.create(null), Object.assign(Object.create(null), { a: 1 })",
      "(() => { class P { constructor() { this.x = 1 } } return [new P(), new P()] })()",
      "'a\\nb', ['a\\nb'], 'tab\\there'",
      "new Number(3), new String('s'), new Boolean(false), Symbol.iterator, [Symbol('x')]",
      "{ get a() { return 1 }, set b(v) {}, get c() { return 1 }, set c(v) {} }",
      "-0, [-0], 0.1, 1e21, NaN, -Infinity",
      "{ [Symbol('k')]: 1, 2: 'two', 'x y': 3 }",
      "[[1, [2, [3, [4, [5]]]]]]",
      "{ s: 'x'.repeat(200) }",
      "new Map(), new Set(), [], {}, new Map([[{ a: 1 }, new Set([1])]])",
      "[1, , 3, , , 6]",
      "Object.assign([1, 2], { extra: true })",
      "new Float64Array([1.5, -0, 2])",
      "{ a: 1, b: 'two', c: [3, 4], d: { e: null, f: undefined }, g: true, h: 1.25, i: 'a longer string value here' }",
    ];
    it(`prints ${cases.length} kinds of values as this Node's util.format does`, async () => {
      const code = cases.map((c) => `console.log(${c});`).join('\n');
      const r = await run(code);
      expectSuccess(r);
      const expected = cases.map((c) => format(...(vm.runInNewContext(`[${c}]`) as unknown[])) + '\n').join('');
      const got = r.stdout.split('\n');
      const want = expected.split('\n');
      for (let i = 0; i < want.length; i++) assert.equal(got[i], want[i], `line ${i + 1}\n--- sandbox\n${r.stdout}\n--- node\n${expected}`);
    });
    it('prints errors with their stack (the guest frames, not the runtime)', async () => {
      const r = await run("function inner() { return new TypeError('bad') }\nconsole.log(inner()); console.log({ e: new Error('nested') })");
      expectSuccess(r);
      assert.match(r.stdout, /^TypeError: bad\n {4}at inner \(guest\.js:1:\d+\)\n {4}at <anonymous> \(guest\.js:2:\d+\)\n/);
      assert.match(r.stdout, /\{\n {2}e: Error: nested\n {6}at <anonymous> \(guest\.js:2:\d+\)\n\}\n$/);
      assert.doesNotMatch(r.stdout, /sandbox-prelude|<input>/);
    });
    it('console.table, time/timeEnd, count, assert, group and dir', async () => {
      const code = `console.table([{ a: 1, b: 'x' }, { a: 22, c: true }]);
        console.table([1, 's']);
        console.time('t'); console.timeEnd('t'); console.timeEnd('nope');
        console.count(); console.count(); console.count('x'); console.countReset(); console.count();
        console.assert(true, 'not printed'); console.assert(false, 'x %d', 1); console.assert(0);
        console.group('G'); console.log('in\\nside'); console.group(); console.info('deeper'); console.groupEnd(); console.groupEnd(); console.log('out');
        console.dir({ a: { b: { c: { d: 1 } } } }, { depth: 0 });`;
      const r = await run(code);
      expectSuccess(r);
      const table1 = ['┌─────────┬────┬─────┬──────┐', '│ (index) │ a  │ b   │ c    │', '├─────────┼────┼─────┼──────┤', "│ 0       │ 1  │ 'x' │      │", '│ 1       │ 22 │     │ true │', '└─────────┴────┴─────┴──────┘'];
      const table2 = ['┌─────────┬────────┐', '│ (index) │ Values │', '├─────────┼────────┤', '│ 0       │ 1      │', "│ 1       │ 's'    │", '└─────────┴────────┘'];
      const lines = r.stdout.split('\n');
      assert.deepEqual(lines.slice(0, 12), [...table1, ...table2]);
      assert.match(lines[12], /^t: \d+\.\d{3}ms$/);
      assert.deepEqual(lines.slice(13), ['default: 1', 'default: 2', 'x: 1', 'default: 1', 'G', '  in', '  side', '    deeper', 'out', '{ a: [Object] }', '']);
      assert.equal(r.stderr, "Warning: No such label 'nope' for console.timeEnd()\nAssertion failed: x 1\nAssertion failed\n");
    });
    it('prints text holding a NUL character whole, on either stream', async () => {
      const r = await run("console.log('a\\0b', 'c\\u0000'); console.error(['x\\0y']); console.log('after'); return 'a\\0b'");
      expectSuccess(r, JSON.stringify('a\0b'));
      assert.equal(r.stdout, 'a\0b c\0\nafter\n');
      assert.equal(r.stderr, "[ 'x\\x00y' ]\n");
    });
    it('keeps the output budget', async () => {
      const r = await run("const line = 'x'.repeat(1000); for (let i = 0; i < 1100; i++) console.log({ line }); for (let i = 0; i < 1e5; i++) console.log({ i }); return 'ok'", cfg({ maxExecutionTimeMs: 20_000, maxCpuPercent: 100 }));
      expectSuccess(r, '"ok"');
      assert.ok(r.stdout.length <= 1024 * 1024 + 200);
      assert.match(r.stdout, /stdout truncated/);
    });
  });
});
