/**
 * Security suite: the seed's categories (file system 12, network 4, process 3,
 * infinite loops 2, code injection 2, resource exhaustion 2, path traversal 3,
 * legitimate code 4) plus the extra attacks of issue 3. Every attack test
 * checks that the attack failed and that a normal execution right after works.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Sandbox, type SandboxConfig } from '../../../src/sandbox';
import { cfg, ensureWorkerBuilt, expectError, expectHealthy, expectSuccess, expectViolation, WORKER_PATH } from './helpers';

describe('sandbox security', function () {
  this.timeout(30_000);
  let sb: Sandbox;
  let dir: string;
  let outside: string;
  let fsCfg: SandboxConfig;
  const run = (code: string, config?: SandboxConfig, input: unknown = {}) => sb.execute(code, { task: 'attack', input }, { config });

  before(async () => {
    await ensureWorkerBuilt();
    sb = new Sandbox({ workers: 2, workerPath: WORKER_PATH, config: cfg({ maxExecutionTimeMs: 2000 }) });
    dir = mkdtempSync(path.join(os.tmpdir(), 'sbx-allowed-'));
    outside = mkdtempSync(path.join(os.tmpdir(), 'sbx-outside-'));
    writeFileSync(path.join(dir, 'data.txt'), 'hello from the allowed dir');
    writeFileSync(path.join(outside, 'secret.txt'), 'TOP SECRET');
    mkdirSync(path.join(dir, 'sub'));
    symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'link-out.txt'));
    symlinkSync(outside, path.join(dir, 'dir-out'));
    fsCfg = cfg({ allowFilesystem: true, allowedPaths: [dir], maxExecutionTimeMs: 5000 });
  });
  after(async () => {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  describe('file system (12)', () => {
    it('1 require("fs") is refused', async () => {
      expectViolation(await run("const fs = require('fs'); return fs.readFileSync('/etc/passwd', 'utf8')"), 'filesystem');
      await expectHealthy(sb);
    });
    it('2 require("node:fs/promises") is refused', async () => {
      expectViolation(await run("const p = require('node:fs/promises'); return await p.readFile('/etc/hostname', 'utf8')"), 'filesystem');
      await expectHealthy(sb);
    });
    it('3 dynamic import("fs") is refused', async () => {
      expectViolation(await run("const m = await import('fs'); return m.readdirSync('/')"), 'filesystem');
      await expectHealthy(sb);
    });
    it('4 an obfuscated require reaches the runtime stub and is refused', async () => {
      expectViolation(await run("const r = globalThis['req' + 'uire']; return r(['f', 's'].join('')).readFileSync('/etc/passwd')"), 'filesystem');
      await expectHealthy(sb);
    });
    it('5 fs.readFile when the file system is disabled', async () => {
      expectViolation(await run("return await fs.readFile('/etc/passwd')"), 'filesystem');
      await expectHealthy(sb);
    });
    it('6 fs.writeFile when the file system is disabled, even if the guest catches the error', async () => {
      expectViolation(await run("try { await fs.writeFile('/tmp/pwned', 'x') } catch (e) {} return 'survived'"), 'filesystem');
      await expectHealthy(sb);
    });
    it('7 reading an absolute path outside allowedPaths', async () => {
      expectViolation(await run("return await fs.readFile('/etc/passwd')", fsCfg), 'filesystem');
      await expectHealthy(sb, fsCfg);
    });
    it('8 writing outside allowedPaths', async () => {
      const target = path.join(outside, 'written.txt');
      expectViolation(await run(`await fs.writeFile(${JSON.stringify(target)}, 'x'); return 1`, fsCfg), 'filesystem');
      assert.throws(() => execFileSync('test', ['-e', target]));
      await expectHealthy(sb, fsCfg);
    });
    it('9 listing a directory outside allowedPaths', async () => {
      expectViolation(await run("return await fs.readdir('/')", fsCfg), 'filesystem');
      await expectHealthy(sb, fsCfg);
    });
    it('10 a FIFO / device file inside allowedPaths is refused', async () => {
      execFileSync('mkfifo', [path.join(dir, 'pipe')]);
      expectViolation(await run("return await fs.readFile('pipe')", fsCfg), 'filesystem');
      await expectHealthy(sb, fsCfg);
    });
    it('11 the operation quota stops a flood of fs calls', async () => {
      const r = await run("for (let i = 0; i < 2000; i++) await fs.stat('data.txt'); return 'done'", fsCfg);
      expectViolation(r, 'resource_exhaustion');
      await expectHealthy(sb, fsCfg);
    });
    it('12 process.binding / process.env are simply absent', async () => {
      const r = await run("return process.binding('fs')");
      expectError(r, 'runtime', /process/);
      expectSuccess(await run("return [typeof process, typeof require('x') === 'undefined']".replace("require('x')", 'globalThis.Buffer')), '["undefined",true]');
      await expectHealthy(sb);
    });
    it('allowed paths work for legitimate reads, writes, readdir and stat', async () => {
      const r = await run(
        "await fs.writeFile('sub/out.txt', 'written'); const names = await fs.readdir('.'); const st = await fs.stat('data.txt'); return [await fs.readFile('data.txt'), await fs.readFile('sub/out.txt'), names.includes('data.txt'), st.size]",
        fsCfg,
      );
      expectSuccess(r, JSON.stringify(['hello from the allowed dir', 'written', true, 26]));
    });
  });

  describe('network (4)', () => {
    it('1 fetch with the network disabled', async () => {
      expectViolation(await run("return (await fetch('https://example.com')).status"), 'network');
      await expectHealthy(sb);
    });
    it('2 an obfuscated fetch with the network disabled', async () => {
      expectViolation(await run("const f = globalThis['fe' + 'tch']; return (await f('https://example.com')).status"), 'network');
      await expectHealthy(sb);
    });
    it('3 WebSocket and XMLHttpRequest', async () => {
      expectViolation(await run("new WebSocket('wss://evil.example')"), 'network');
      expectViolation(await run("const X = globalThis['XMLHttp' + 'Request']; new X()"), 'network');
      await expectHealthy(sb);
    });
    it('4 require("http") / require("net")', async () => {
      expectViolation(await run("require('http').get('http://example.com')"), 'network');
      expectViolation(await run("globalThis['req' + 'uire']('net').connect(80, 'example.com')"), 'network');
      await expectHealthy(sb);
    });

    describe('fetch capability', () => {
      let server: http.Server;
      let port: number;
      before(async () => {
        server = http.createServer((req, res) => {
          if (req.url === '/json') {
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ hello: 'world', method: req.method }));
          } else if (req.url === '/redirect-out') {
            res.statusCode = 302;
            res.setHeader('location', `http://localhost:${port}/json`);
            res.end();
          } else if (req.url === '/big') {
            res.end('x'.repeat(6 * 1024 * 1024));
          } else {
            res.statusCode = 404;
            res.end('nope');
          }
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        port = (server.address() as AddressInfo).port;
      });
      after(() => new Promise<void>((r) => server.close(() => r())));
      const net = (hosts: string[]) => cfg({ allowNetwork: true, allowedHosts: hosts });

      it('allows a listed host and answers status, headers, text() and json()', async () => {
        const r = await run(`const res = await fetch('http://127.0.0.1:${port}/json'); return [res.status, res.ok, res.headers.get('Content-Type'), await res.json()]`, net(['127.0.0.1']));
        expectSuccess(r, JSON.stringify([200, true, 'application/json', { hello: 'world', method: 'GET' }]));
      });
      it('refuses a host that is not listed', async () => {
        expectViolation(await run(`return (await fetch('http://127.0.0.1:${port}/json')).status`, net(['example.com'])), 'network');
        await expectHealthy(sb);
      });
      it('refuses a listed name that resolves to a loopback address not itself listed', async () => {
        expectViolation(await run(`return (await fetch('http://localhost:${port}/json')).status`, net(['localhost'])), 'network');
        await expectHealthy(sb);
      });
      it('re-checks redirects', async () => {
        expectViolation(await run(`return (await fetch('http://127.0.0.1:${port}/redirect-out')).status`, net(['127.0.0.1'])), 'network');
        await expectHealthy(sb);
      });
      it('caps the response size', async () => {
        expectViolation(await run(`return (await (await fetch('http://127.0.0.1:${port}/big')).text()).length`, net(['127.0.0.1'])), 'resource_exhaustion');
        await expectHealthy(sb);
      });
      it('refuses non-http schemes', async () => {
        expectViolation(await run("return (await fetch('file:///etc/passwd')).status", net(['127.0.0.1'])), 'network');
      });
    });
  });

  describe('process (3)', () => {
    it('1 require("child_process").exec', async () => {
      expectViolation(await run("require('child_process').exec('cat /etc/passwd')"), 'subprocess');
      await expectHealthy(sb);
    });
    it('2 bare spawn / execSync calls', async () => {
      expectViolation(await run("spawn('sh', ['-c', 'id'])"), 'subprocess');
      expectViolation(await run("execSync('id')"), 'subprocess');
      await expectHealthy(sb);
    });
    it('3 an obfuscated child process module at run time', async () => {
      expectViolation(await run("const r = globalThis['req' + 'uire']; r('child_' + 'process').spawnSync('id')"), 'subprocess');
      expectViolation(await run("const r = globalThis['req' + 'uire']; r('worker_' + 'threads')"), 'subprocess');
      await expectHealthy(sb);
    });
  });

  describe('infinite loops (2)', () => {
    it('1 while (true) {} is refused before running', async () => {
      expectViolation(await run('while (true) {}'), 'infinite_loop');
      await expectHealthy(sb);
    });
    it('2 for (;;) {} is refused; a disguised endless loop times out', async () => {
      expectViolation(await run('for (;;) { }'), 'infinite_loop');
      const r = await run('let i = 0; while (i >= 0) { i++ }', cfg({ maxExecutionTimeMs: 300 }));
      assert.equal(r.kind, 'timeout');
      await expectHealthy(sb);
    });
  });

  describe('code injection (2)', () => {
    it('1 eval, direct and obfuscated', async () => {
      expectViolation(await run("return eval('1 + 1')"), 'code_injection');
      expectViolation(await run("return globalThis['ev' + 'al']('1 + 1')"), 'code_injection');
      await expectHealthy(sb);
    });
    it('2 the Function constructor, direct and through prototypes', async () => {
      expectViolation(await run("return new Function('return 1')()"), 'code_injection');
      expectViolation(await run("return (() => 1).constructor('return globalThis')()"), 'code_injection');
      expectViolation(await run("return Object.getPrototypeOf(async function () {}).constructor('return 1')()"), 'code_injection');
      expectViolation(await run("return console.log.constructor('return 1')()"), 'code_injection');
      await expectHealthy(sb);
    });
  });

  describe('resource exhaustion (2)', () => {
    it('1 code over 100 KB is refused', async () => {
      expectViolation(await run('return 1;' + ' '.repeat(101 * 1024)), 'resource_exhaustion');
      await expectHealthy(sb);
    });
    it('2 a memory bomb stops at the memory limit', async () => {
      // A generous deadline: on a loaded machine the memory limit must still be what stops it.
      const r = await run('const a = []; for (let i = 0; ; i++) a.push({ i, s: "x" + i }); ', cfg({ maxMemoryMb: 32, maxExecutionTimeMs: 30_000 }));
      expectError(r, 'memory_limit');
      await expectHealthy(sb);
    });
  });

  describe('path traversal (3)', () => {
    it('1 ../ sequences are refused', async () => {
      expectViolation(await run("return await fs.readFile('../../../../etc/passwd')", fsCfg), 'path_traversal');
      expectViolation(await run(`return await fs.readFile(${JSON.stringify(dir + '/../' + path.basename(outside) + '/secret.txt')})`, fsCfg), 'path_traversal');
      await expectHealthy(sb, fsCfg);
    });
    it('2 symbolic links that lead outside are refused', async () => {
      expectViolation(await run("return await fs.readFile('link-out.txt')", fsCfg), 'path_traversal');
      expectViolation(await run("return await fs.readFile('dir-out/secret.txt')", fsCfg), 'path_traversal');
      expectViolation(await run("await fs.writeFile('link-out.txt', 'overwritten'); return 1", fsCfg), 'path_traversal');
      await expectHealthy(sb, fsCfg);
    });
    it('3 encoded traversal and NUL bytes are refused', async () => {
      expectViolation(await run("return await fs.readFile('%2e%2e/%2e%2e/etc/passwd')", fsCfg), 'path_traversal');
      expectViolation(await run("return await fs.readFile('data.txt\\u0000.png')", fsCfg), 'path_traversal');
      await expectHealthy(sb, fsCfg);
    });
  });

  describe('legitimate code (4)', () => {
    it('1 arithmetic on the context input', async () => {
      expectSuccess(await run('const { a, b } = context.input; return { sum: a + b, task: context.task }', undefined, { a: 2, b: 3 }), '{"sum":5,"task":"attack"}');
    });
    it('2 data processing with built-ins', async () => {
      const code = "const words = 'the quick brown fox jumps over the lazy dog the end'.split(' '); const freq = new Map(); for (const w of words) freq.set(w, (freq.get(w) || 0) + 1); return [...freq].sort((a, b) => b[1] - a[1])[0]";
      expectSuccess(await run(code), '["the",3]');
    });
    it('3 async/await, classes, generators, JSON and regexes', async () => {
      const code = `class P { constructor(x) { this.x = x } get double() { return this.x * 2 } }
        function* g() { yield 1; yield 2 }
        const v = await Promise.all([Promise.resolve(new P(4).double), ...g()]);
        return { v, j: JSON.parse('{"k":[1]}'), m: /(\\d+)-(\\d+)/.exec('10-20').slice(1) }`;
      expectSuccess(await run(code), '{"v":[8,1,2],"j":{"k":[1]},"m":["10","20"]}');
    });
    it('4 TypeScript with types, interfaces, enums and generics', async () => {
      const code = 'interface Item { name: string; qty: number }\nenum Kind { A, B }\nfunction total<T extends Item>(xs: T[]): number { return xs.reduce((s, x) => s + x.qty, 0) }\nconst items: Item[] = context.input as Item[];\nreturn { total: total(items), kind: Kind.B }';
      const r = await sb.execute(code, { task: 'ts', input: [{ name: 'a', qty: 2 }, { name: 'b', qty: 5 }] }, { language: 'typescript' });
      expectSuccess(r, '{"total":7,"kind":1}');
    });
  });
});
