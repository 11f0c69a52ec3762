/**
 * Tampering before the first touch of a lazily installed global. The runtime
 * compiles a global's module (and the host module behind fetch and the host
 * functions) on first touch, after guest code has run: by then the guest may
 * have replaced or trapped anything shared. Each run here first plants
 * recording traps everywhere the runtime's code could look (an accessor on
 * Object.prototype for every property name the guest runtime's source uses;
 * wrappers around the methods of Object, Array, String, Function, Promise,
 * Map, Set, JSON and Reflect; Symbol.iterator, Symbol.species and constructor
 * getters), then touches one lazy global and uses it, then walks everything
 * the traps saw. It must find no function of the host (the bridge is a native
 * function no built-in walk reaches), the run must answer as usual, the next
 * run in the same worker must see a clean environment, and the host must be
 * unharmed. A hostile variant (traps that throw) must end as an ordinary
 * result, never as an internal failure.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { ExecutionResult, Sandbox, SandboxConfig } from '../../src/sandbox';
import { cfg, expectHealthy, expectSuccess, newSandbox } from './common';
import { watchHealth } from './health';

const GUEST_DIR = path.resolve(__dirname, '..', '..', 'src', 'sandbox', 'guest');

/** Every identifier in the guest runtime's sources: the property names its code may read from an object the guest can reach. */
function guestPropertyNames(): string[] {
  const names = new Set<string>();
  for (const f of readdirSync(GUEST_DIR).filter((n) => n.endsWith('.ts'))) {
    for (const m of readFileSync(path.join(GUEST_DIR, f), 'utf8').matchAll(/[A-Za-z_$][\w$]*/g)) names.add(m[0]);
  }
  return [...names].sort();
}

/** Property-descriptor fields: an inherited one turns every plain `{ value }` descriptor into an invalid one, so only the hostile variant traps them. */
const DESCRIPTOR_FIELDS = ['get', 'set', 'value', 'writable', 'enumerable', 'configurable'];

/**
 * Guest code run before the tampering: the built-in functions reachable from
 * globalThis without calling any getter (the lazy globals are accessors), and
 * the originals the traps and the walk use.
 */
const BASELINE = `
  const O = { apply: Reflect.apply, construct: Reflect.construct, ownKeys: Reflect.ownKeys, gopd: Object.getOwnPropertyDescriptor,
    getProto: Object.getPrototypeOf, defineProperty: Object.defineProperty, fnToString: Function.prototype.toString,
    setHas: Set.prototype.has, setAdd: Set.prototype.add, isArray: Array.isArray, Set, String };
  const builtins = new Set();
  const walkBuiltins = (root) => {
    const stack = [root];
    const seen = new Set();
    while (stack.length) {
      const v = stack.pop();
      if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) continue;
      seen.add(v);
      if (typeof v === 'function') builtins.add(v);
      stack.push(Object.getPrototypeOf(v));
      for (const k of Reflect.ownKeys(v)) {
        const d = Object.getOwnPropertyDescriptor(v, k);
        stack.push(d.value, d.get, d.set);
      }
    }
  };
  walkBuiltins(globalThis);
  for (const extra of [[][Symbol.iterator](), ''[Symbol.iterator](), new Map()[Symbol.iterator](), new Set()[Symbol.iterator](), /a/[Symbol.matchAll]('a'),
    (function* () {})(), (async function* () {})(), async () => {}, new Uint8Array(1), function () { return arguments }()]) walkBuiltins(extra);
  const isNative = (f) => { try { return O.apply(O.fnToString, f, []).includes('[native code]') } catch { return true } };
`;

/** The recording traps (transparent: the runtime must keep working through them) and the walk of what they saw. */
const TRAPS = `
  const seen = []; let recording = true; let traps = 0;
  const record = (v) => { if ((typeof v === 'object' || typeof v === 'function') && v !== null) seen[seen.length] = v };
  const recordAll = (self, args) => { if (!recording) return; recording = false; try { record(self); for (let i = 0; i < args.length; i++) record(args[i]) } finally { recording = true } };
  const wrap = (owner, key) => {
    const d = O.gopd(owner, key);
    if (!d || typeof d.value !== 'function' || !d.configurable && !d.writable) return;
    const orig = d.value;
    const wrapper = function () { recordAll(this, arguments); return new.target ? O.construct(orig, arguments, new.target) : O.apply(orig, this, arguments) };
    wrapper.prototype = orig.prototype;
    O.defineProperty(owner, key, { __proto__: null, ...d, value: wrapper });
    traps++;
  };
  const wrapAll = (owner) => { for (const k of O.ownKeys(owner)) if (k !== 'constructor') wrap(owner, k) };
  const getter = (owner, key, value) => {
    const d = O.gopd(owner, key);
    if (d && !d.configurable) return;
    const current = d ? ('value' in d ? d.value : undefined) : value;
    O.defineProperty(owner, key, { __proto__: null, configurable: true, enumerable: false, get() { recordAll(this, []); return current }, set(v) { recordAll(this, [v]); O.defineProperty(this, key, { __proto__: null, value: v, writable: true, enumerable: true, configurable: true }) } });
    traps++;
  };
  const descriptorFields = context.input.descriptorFields;
  for (const name of context.input.names) if (!(name in Object.prototype) && !descriptorFields.includes(name)) getter(Object.prototype, name, undefined);
  const typedArray = O.getProto(Uint8Array.prototype);
  const arrayIterator = O.getProto([][Symbol.iterator]());
  for (const owner of [Object.prototype, Array.prototype, String.prototype, Function.prototype, Promise.prototype, Map.prototype, Set.prototype,
    WeakMap.prototype, WeakSet.prototype, typedArray, arrayIterator, Error.prototype, RegExp.prototype, Symbol.prototype]) wrapAll(owner);
  for (const owner of [Object, Array, Promise, JSON, Reflect, String, Number, Symbol, Math, ArrayBuffer, Uint8Array, Date, Error]) wrapAll(owner);
  for (const owner of [Object.prototype, Array.prototype, String.prototype, Map.prototype, Set.prototype, typedArray]) getter(owner, Symbol.iterator);
  for (const owner of [Object.prototype]) for (const s of [Symbol.toPrimitive, Symbol.toStringTag, Symbol.asyncIterator, Symbol.isConcatSpreadable]) getter(owner, s, undefined);
  for (const owner of [Array, Promise, Map, Set, ArrayBuffer, O.getProto(Uint8Array), RegExp]) getter(owner, Symbol.species);
  for (const owner of [Array.prototype, Promise.prototype, ArrayBuffer.prototype, typedArray, Map.prototype, Set.prototype, Error.prototype]) getter(owner, 'constructor');

  /** Everything reachable from what the traps saw, through own properties and prototypes (never calling a getter): host functions found. */
  const findLeaks = () => {
    recording = false;
    const leaks = [];
    const visited = new O.Set();
    const stack = [];
    for (let i = 0; i < seen.length; i++) stack[stack.length] = seen[i];
    let nodes = 0;
    while (stack.length && nodes < 200000) {
      const v = stack.pop();
      if ((typeof v !== 'object' && typeof v !== 'function') || v === null || O.apply(O.setHas, visited, [v])) continue;
      O.apply(O.setAdd, visited, [v]);
      nodes++;
      if (typeof v === 'function' && !O.apply(O.setHas, builtins, [v]) && isNative(v) && O.gopd(v, 'name')?.value !== '') leaks[leaks.length] = 'native function ' + O.String(O.gopd(v, 'name')?.value);
      if (typeof O.gopd(v, 'need')?.value === 'function' || typeof O.gopd(v, 'h')?.value === 'function') leaks[leaks.length] = 'the runtime intrinsics: ' + O.ownKeys(v).slice(0, 8).join(',');
      stack[stack.length] = O.getProto(v);
      for (const k of O.ownKeys(v)) {
        const d = O.gopd(v, k);
        stack[stack.length] = d.value; stack[stack.length] = d.get; stack[stack.length] = d.set;
      }
    }
    return { traps, seen: seen.length, nodes, leaks: [...new O.Set(leaks)] };
  };
`;

/** Hostile traps: the same places, but every trap throws. */
const HOSTILE = `
  const boom = (what) => { throw new Error('trap ' + String(what)) };
  for (const name of context.input.names.concat(context.input.descriptorFields)) {
    if (name in Object.prototype) continue;
    Object.defineProperty(Object.prototype, name, { __proto__: null, configurable: true, get() { boom(name) }, set() { boom(name) } });
  }
  for (const owner of [Array.prototype, String.prototype, Map.prototype, Set.prototype]) Object.defineProperty(owner, Symbol.iterator, { __proto__: null, configurable: true, get() { boom('iterator') } });
  JSON.parse = JSON.stringify = () => boom('JSON');
  Function.prototype.call = Function.prototype.apply = Function.prototype.bind = () => boom('call');
  Reflect.apply = Reflect.construct = () => boom('Reflect');
  Object.defineProperty = Object.freeze = Object.getOwnPropertyDescriptor = () => boom('Object');
  Array.prototype.push = Array.prototype.map = Array.prototype.join = Array.prototype.slice = Array.prototype.includes = () => boom('Array');
  String.prototype.slice = String.prototype.split = String.prototype.replace = String.prototype.toLowerCase = String.prototype.trim = () => boom('String');
`;

interface Entry {
  /** What is touched first. */
  name: string;
  /** Guest code using it: expressions (await allowed), separated by commas. */
  use: string;
  /** Their values in a clean run. */
  want: unknown[];
  config?: () => SandboxConfig;
  hostApi?: Record<string, (...args: unknown[]) => unknown>;
}

describe('security: tampering before the first touch of a lazy global', function () {
  this.timeout(120_000);
  let sb: Sandbox;
  let server: http.Server;
  let port = 0;
  const names = guestPropertyNames();
  const echo = { 'memory.echo': (x: unknown) => x, 'memory.stats.count': () => 3 };
  const entries: Entry[] = [
    { name: 'TextEncoder', use: "[...new TextEncoder().encode('é')].join(), new TextDecoder().decode(new Uint8Array([104, 105]))", want: ['195,169', 'hi'] },
    { name: 'atob', use: "atob(btoa('hé'))", want: ['hé'] },
    { name: 'URL', use: "new URL('../b?q=1#h', 'https://a.example/x/y').href, new URLSearchParams('a=1&b=2').get('b')", want: ['https://a.example/b?q=1#h', '2'] },
    { name: 'structuredClone', use: 'structuredClone({ a: [1, { b: new Map([[1, 2]]) }], d: new Date(0) }).a[1].b.get(1)', want: [2] },
    { name: 'crypto', use: "crypto.getRandomValues(new Uint8Array(4)).length, crypto.randomUUID().length, new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array([1])))[0]", want: [4, 36, 75] },
    { name: 'setTimeout', use: "await new Promise((r) => setTimeout(() => r('timer'), 1)), typeof performance.now()", want: ['timer', 'number'] },
    { name: 'queueMicrotask', use: "await new Promise((r) => queueMicrotask(() => r('micro')))", want: ['micro'] },
    { name: 'AbortController', use: "(() => { const c = new AbortController(); let n = 0; c.signal.addEventListener('abort', () => n++); c.abort(); return [n, c.signal.reason.name] })()", want: [[1, 'AbortError']] },
    { name: 'EventTarget', use: "(() => { const t = new EventTarget(); let got = ''; t.addEventListener('x', (e) => (got = e.type)); t.dispatchEvent(new Event('x')); return got })()", want: ['x'] },
    { name: 'DOMException', use: "new DOMException('m', 'AbortError').code", want: [20] },
    { name: 'Response', use: "(await new Response('{\"a\":1}').json()).a, new Headers({ A: '1' }).get('a'), await new Blob(['x', 'y']).text()", want: [1, '1', 'xy'] },
    { name: 'console', use: "console.log({ a: [1, 2] }, new Map([[1, 2]])), console.table([{ a: 1 }]), 'logged'", want: [null, null, 'logged'] },
    { name: 'require', use: "(() => { try { require('lodash') } catch (e) { return e.constructor === Error } })()", want: [true] },
    { name: 'memory', use: "await memory.echo({ a: [1] }), await memory.stats.count()", want: [{ a: [1] }, 3], hostApi: echo },
    {
      name: 'fetch',
      use: `await (await fetch('http://127.0.0.1:' + context.input.port + '/')).text()`,
      want: ['hello'],
      config: () => cfg({ allowNetwork: true, allowedHosts: ['127.0.0.1'], maxExecutionTimeMs: 20_000, maxCpuPercent: 100 }),
    },
  ];
  const baseConfig = (): SandboxConfig => cfg({ maxExecutionTimeMs: 20_000, maxCpuPercent: 100, maxMemoryMb: 128 });
  const run = (e: Entry, code: string): Promise<ExecutionResult> =>
    sb.execute(code, { task: 'tamper', input: { names, descriptorFields: DESCRIPTOR_FIELDS, port } }, { config: (e.config ?? baseConfig)(), hostApi: e.hostApi });
  /** What a fresh environment looks like: the own keys (and kinds) of the shared built-ins a tampering run changes. */
  const shape = `const shapeOf = (o) => Reflect.ownKeys(o).map((k) => { const d = Object.getOwnPropertyDescriptor(o, k); return String(k) + ':' + (d.get ? 'get' : typeof d.value) }).sort().join(',');
    const shape = [Object.prototype, Array.prototype, String.prototype, Function.prototype, Promise.prototype, Promise, JSON, Reflect, Object, Map.prototype, Object.getPrototypeOf([][Symbol.iterator]())].map(shapeOf).join('|');`;
  let cleanShape = '';
  const hostShape = (): string => [Object.prototype, Array.prototype, Function.prototype, Promise.prototype, JSON, Reflect].map((o) => Reflect.ownKeys(o).map(String).sort().join(',')).join('|');
  let hostShape0 = '';

  before(async () => {
    server = http.createServer((_req, res) => res.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    sb = await newSandbox({ workers: 1 });
    const r = await sb.execute(`${shape} return shape`, { task: 'shape' });
    expectSuccess(r);
    cleanShape = JSON.parse(r.output) as string;
    hostShape0 = hostShape();
  });
  after(async () => {
    await sb.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('the traps see the runtime at work and the runtime works through them (a clean run answers the same)', async () => {
    for (const e of entries) {
      const clean = await run(e, `return [${e.use}]`);
      expectSuccess(clean);
      assert.deepEqual(JSON.parse(clean.output), e.want, `${e.name} in a clean run`);
    }
  });

  it('transparent traps planted first: touching each lazy global hands out no host function, answers as usual, and the next run is clean', async () => {
    const health = watchHealth({ maxRssGrowthMb: 200 });
    const report: string[] = [];
    for (const e of entries) {
      const r = await run(e, `${BASELINE}${TRAPS}\n const answer = [${e.use}];\n return { answer, ...findLeaks() }`);
      expectSuccess(r);
      const out = JSON.parse(r.output) as { answer: unknown[]; traps: number; seen: number; nodes: number; leaks: string[] };
      report.push(`${e.name}: ${out.seen} values seen by ${out.traps} traps, ${out.nodes} objects walked`);
      assert.deepEqual(out.leaks, [], `touching ${e.name} after tampering reached: ${out.leaks.join('; ')}`);
      assert.ok(out.seen > 10 && out.traps > 300, `the traps saw too little for ${e.name}: ${JSON.stringify(out).slice(0, 200)}`);
      assert.deepEqual(out.answer, e.want, `${e.name} answers as in a clean run`);
      const next = await run(e, `${shape} return [shape === ${JSON.stringify(cleanShape)}, ${e.use}]`);
      expectSuccess(next);
      assert.equal((JSON.parse(next.output) as unknown[])[0], true, `the run after tampering with ${e.name} saw a changed environment`);
    }
    console.log(`      ${report.join('\n      ')}`);
    assert.equal(hostShape(), hostShape0, "the host's own built-ins are unchanged");
    await health.assertUnharmed();
    await expectHealthy(sb);
  });

  it('hostile traps planted first (every trap throws): each lazy global ends the run as an ordinary result, and the next run is clean', async () => {
    const health = watchHealth({ maxRssGrowthMb: 200 });
    const kinds: string[] = [];
    for (const e of entries) {
      const r = await run(e, `${BASELINE}${HOSTILE}\n return [${e.use}]`);
      kinds.push(`${e.name}: ${r.kind}${r.kind === 'error' ? ` (${r.errorType}: ${r.message.slice(0, 80)})` : ''}`);
      assert.ok(r.kind === 'success' || (r.kind === 'error' && r.errorType === 'runtime'), `${e.name}: ${JSON.stringify(r).slice(0, 400)}`);
      const next = await run(e, `${shape} return [shape === ${JSON.stringify(cleanShape)}, ${e.use}]`);
      expectSuccess(next);
      assert.equal((JSON.parse(next.output) as unknown[])[0], true, `the run after hostile tampering with ${e.name} saw a changed environment`);
    }
    console.log(`      ${kinds.join('\n      ')}`);
    // A throwing Promise.prototype.then or Symbol.species may break the run's own ending (so the traps above leave them alone): never an internal failure.
    for (const trap of ["Object.defineProperty(Promise, Symbol.species, { get() { throw new Error('species') } })", "Object.defineProperty(Promise.prototype, 'then', { get() { throw new Error('then') } })"]) {
      const r = await sb.execute(`${trap}; await new Promise((r) => setTimeout(r, 1)); return 1`, { task: 'tamper' });
      assert.ok(r.kind === 'success' || (r.kind === 'error' && r.errorType === 'runtime'), JSON.stringify(r));
    }
    assert.equal(hostShape(), hostShape0, "the host's own built-ins are unchanged");
    await health.assertUnharmed();
    await expectHealthy(sb);
  });
});
