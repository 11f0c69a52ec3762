/**
 * Weakness 3: quotas reserved before the I/O, not checked per call. Many
 * parallel reads, writes and fetches, from guest code and straight at the
 * capability layer, never together go past the read, write or fetch-body
 * quota, and the host's memory stays bounded.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { QUOTAS, type Sandbox, type SandboxConfig } from '../../src/sandbox';
import { Capabilities } from '../../src/sandbox/capabilities';
import { ConfinedFs } from '../../src/sandbox/confinedFs';
import { cfg, cleanup, expectHealthy, expectViolation, newSandbox, tempDir } from './common';
import { watchHealth } from './health';

const MiB = 1024 * 1024;

describe('security: quotas are reserved, so concurrency cannot exceed them', function () {
  let sb: Sandbox;
  let dir: string;
  let fsCfg: SandboxConfig;
  let server: http.Server;
  let port: number;
  let bodiesStarted = 0;

  before(async () => {
    sb = await newSandbox();
    dir = tempDir('sbx-quota-');
    for (let i = 0; i < 8; i++) writeFileSync(path.join(dir, `big${i}.bin`), Buffer.alloc(4 * MiB, 97 + i));
    fsCfg = cfg({ allowFilesystem: true, allowedPaths: [dir], maxExecutionTimeMs: 10_000, maxCpuPercent: 100 });
    const body = Buffer.alloc(4 * MiB, 98);
    server = http.createServer((_req, res) => {
      bodiesStarted++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await sb.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    cleanup();
  });

  it('40 parallel 4 MiB reads from guest code: refused at the 16 MiB quota, host memory bounded', async () => {
    const health = watchHealth({ maxRssGrowthMb: 150 });
    const r = await sb.execute("const all = []; for (let i = 0; i < 40; i++) all.push(fs.readFile('big' + (i % 8) + '.bin')); return (await Promise.all(all)).length", { task: 'read flood' }, { config: fsCfg });
    expectViolation(r, 'resource_exhaustion');
    await health.assertUnharmed();
    await expectHealthy(sb, fsCfg);
  });

  it('100 parallel reads at the capability layer: the bytes read never exceed the read quota', async () => {
    const files = new ConfinedFs([dir], { ops: 1000, readBytes: QUOTAS.readBytes, writeBytes: QUOTAS.writeBytes }, new AbortController().signal);
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => files.call('readFile', [`big${i % 8}.bin`])));
    const bytes = results.reduce((n, r) => n + (r.status === 'fulfilled' ? (r.value as string).length : 0), 0);
    assert.ok(bytes <= QUOTAS.readBytes, `read ${bytes} bytes`);
    assert.equal(bytes, 4 * 4 * MiB, 'exactly what fits was read');
    assert.ok(results.filter((r) => r.status === 'rejected').every((r) => /read quota/.test(String((r).reason))));
    assert.ok(files.readBudget.reserved <= QUOTAS.readBytes);
  });

  it('40 parallel ~1 MB writes: at most the 16 MiB write quota lands on disk, no temporary files left', async () => {
    const health = watchHealth();
    const r = await sb.execute("const s = 'w'.repeat(1000000); const all = []; for (let i = 0; i < 40; i++) all.push(fs.writeFile('out' + i + '.txt', s)); await Promise.all(all); return 1", { task: 'write flood' }, { config: fsCfg });
    expectViolation(r, 'resource_exhaustion');
    // The run is over: give any write that was in flight time to settle, then count.
    await new Promise((res) => setTimeout(res, 200));
    const names = readdirSync(dir);
    const written = names.filter((n) => n.startsWith('out')).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
    assert.ok(written <= QUOTAS.writeBytes, `${written} bytes written`);
    assert.ok(written > 0, 'the writes within the quota landed');
    assert.deepEqual(names.filter((n) => n.endsWith('.sbx-tmp')), []);
    await health.assertUnharmed();
    await expectHealthy(sb, fsCfg);
  });

  it('20 parallel 4 MiB fetches: the bodies kept never exceed the 16 MiB fetch budget, host memory bounded', async () => {
    const netCfg = cfg({ allowNetwork: true, allowedHosts: [`127.0.0.1:${port}`], maxExecutionTimeMs: 10_000, maxCpuPercent: 100 });
    const health = watchHealth({ maxRssGrowthMb: 150 });
    const r = await sb.execute(`const all = []; for (let i = 0; i < 20; i++) all.push(fetch('http://127.0.0.1:${port}/b' + i).then((x) => x.text())); return (await Promise.all(all)).length`, { task: 'fetch flood' }, { config: netCfg });
    expectViolation(r, 'resource_exhaustion');
    await health.assertUnharmed();
    // Straight at the capability layer: count what was kept.
    const aborter = new AbortController();
    const caps = new Capabilities(netCfg, aborter.signal);
    bodiesStarted = 0;
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => caps.call('fetch', [`http://127.0.0.1:${port}/c${i}`])));
    aborter.abort();
    const kept = results.filter((x) => x.status === 'fulfilled').length;
    assert.ok(kept * 4 * MiB <= QUOTAS.fetchBodyBytes, `${kept} bodies of 4 MiB kept`);
    assert.ok(kept >= 1, 'a body within the budget is delivered');
    assert.ok(caps.fetchBodies.reserved <= QUOTAS.fetchBodyBytes);
    assert.ok(bodiesStarted >= kept);
    await expectHealthy(sb, netCfg);
  });
});
