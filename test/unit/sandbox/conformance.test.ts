/**
 * The guest runtime against public web-platform-tests data (test/fixtures/wpt,
 * license noted there): URL parsing (urltestdata.json), forgiving base64
 * (atob), and the UTF-8 decoder. Each suite runs inside the sandbox and prints
 * its pass count; the README quotes these counts.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Sandbox } from '../../../src/sandbox';
import { cfg, ensureWorkerBuilt, expectSuccess, WORKER_PATH } from './helpers';

const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures', 'wpt');
const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));

interface Tally {
  total: number;
  passed: number;
  failures: string[];
}

describe('sandbox runtime conformance (web-platform-tests data)', function () {
  this.timeout(60_000);
  let sb: Sandbox;
  const tally = async (code: string, input: unknown): Promise<Tally> => {
    const r = await sb.execute(code, { task: 'wpt', input }, { config: cfg({ maxExecutionTimeMs: 30_000, maxCpuPercent: 100, maxMemoryMb: 256 }) });
    expectSuccess(r);
    return JSON.parse(r.output) as Tally;
  };
  const report = (name: string, t: Tally): void => {
    console.log(`      ${name}: ${t.passed}/${t.total} passed (${((100 * t.passed) / t.total).toFixed(1)}%)${t.failures.length ? `; first failures: ${t.failures.slice(0, 5).join(' | ')}` : ''}`);
  };

  before(async () => {
    await ensureWorkerBuilt();
    sb = new Sandbox({ workers: 1, workerPath: WORKER_PATH, config: cfg() });
  });
  after(() => sb.close());

  it('URL: url/resources/urltestdata.json (target: at least 98%)', async () => {
    const cases = (fixture('urltestdata.json') as unknown[]).filter((c) => typeof c === 'object');
    const code = `const keys = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
      let passed = 0; const failures = [];
      for (const c of context.input) {
        let ok;
        try {
          const u = c.base === null ? new URL(c.input) : new URL(c.input, c.base);
          ok = !c.failure && keys.every((k) => c[k] === undefined || u[k] === c[k]);
        } catch (e) {
          ok = !!c.failure && e instanceof TypeError;
        }
        if (ok) passed++; else failures.push(JSON.stringify([c.input, c.base]));
      }
      return { total: context.input.length, passed, failures: failures.slice(0, 20) }`;
    const t = await tally(code, cases);
    report('urltestdata.json', t);
    assert.ok(t.total > 800, `only ${t.total} cases`);
    assert.ok(t.passed / t.total >= 0.98, `${t.passed}/${t.total}: ${t.failures.join(', ')}`);
  });

  it('atob: fetch/data-urls/resources/base64.json (target: 100%)', async () => {
    const code = `let passed = 0; const failures = [];
      for (const [input, want] of context.input) {
        let got;
        try { got = Array.from(atob(input), (ch) => ch.charCodeAt(0)) } catch (e) { got = e instanceof DOMException && e.name === 'InvalidCharacterError' ? null : 'wrong error ' + e }
        if (JSON.stringify(got) === JSON.stringify(want)) passed++; else failures.push(JSON.stringify(input));
      }
      return { total: context.input.length, passed, failures }`;
    const t = await tally(code, fixture('base64.json'));
    report('base64.json', t);
    assert.equal(t.total, 71);
    assert.equal(t.passed, t.total, t.failures.join(', '));
  });

  it('TextDecoder: the UTF-8 cases of encoding/textdecoder-eof.any.js, plain and fatal (target: 100%)', async () => {
    const code = `const { oneShot, streaming } = context.input;
      let passed = 0, total = 0; const failures = [];
      const check = (ok, what) => { total++; if (ok) passed++; else failures.push(what) };
      for (const [bytes, want] of oneShot) {
        check(new TextDecoder().decode(new Uint8Array(bytes)) === want, 'decode ' + bytes);
        let threw = false; try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes)) } catch (e) { threw = e instanceof TypeError }
        check(threw === want.includes('\\ufffd'), 'fatal ' + bytes);
      }
      for (const steps of streaming) {
        const d = new TextDecoder();
        for (const [bytes, stream, want] of steps) {
          const got = bytes === null ? d.decode() : d.decode(new Uint8Array(bytes), { stream });
          check(got === want, 'stream ' + JSON.stringify(steps));
        }
      }
      return { total, passed, failures }`;
    const t = await tally(code, fixture('utf8-decoder.json'));
    report('utf8-decoder.json', t);
    assert.ok(t.total >= 40);
    assert.equal(t.passed, t.total, t.failures.join(', '));
  });
});
