/**
 * Weakness 1: a local process racing inside the allowed folder. While a
 * separate process keeps swapping the directory `a` for a symbolic link to a
 * folder outside, guest code reads, lists, stats, writes, creates, removes and
 * renames through `a` in parallel, run after run. Nothing outside may be read
 * or changed.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Sandbox, SandboxConfig } from '../../src/sandbox';
import { cfg, cleanup, expectHealthy, newSandbox, startSwapper, tempDir } from './common';
import { watchHealth } from './health';

const SECRET = 'TOP-SECRET-' + 'x'.repeat(1000);

describe('security: file access racing a symlink swapper', function () {
  let sb: Sandbox;
  let allowed: string;
  let outside: string;
  let fsCfg: SandboxConfig;

  before(async () => {
    sb = await newSandbox();
    allowed = tempDir('sbx-race-in-');
    outside = tempDir('sbx-race-out-');
    writeFileSync(path.join(outside, 'f.txt'), SECRET);
    writeFileSync(path.join(outside, 'victim.txt'), 'keep me');
    writeFileSync(path.join(outside, 'victim2.txt'), 'keep me too');
    writeFileSync(path.join(outside, 'w0.txt'), 'original');
    writeFileSync(path.join(outside, 'outside-only-name.txt'), 'x');
    mkdirSync(path.join(allowed, 'a'));
    writeFileSync(path.join(allowed, 'a', 'f.txt'), 'inside');
    fsCfg = cfg({ allowFilesystem: true, allowedPaths: [allowed], maxExecutionTimeMs: 5000, maxCpuPercent: 100 });
  });
  after(async () => {
    await sb.close();
    cleanup();
  });

  it('reads, lists, stats, writes, mkdir, rm and rename never reach the link target', async () => {
    const health = watchHealth({ outside: [outside] });
    const swapper = await startSwapper(allowed, 'a', outside);
    const code = `
      const out = [];
      const ops = [];
      for (let i = 0; i < 16; i++) {
        ops.push(fs.readFile('a/f.txt').then((v) => out.push('read:' + v), () => 0));
        ops.push(fs.readdir('a').then((v) => out.push('list:' + v.join(',')), () => 0));
        ops.push(fs.stat('a/f.txt').then((v) => out.push('size:' + v.size), () => 0));
        ops.push(fs.writeFile('a/w' + (i % 4) + '.txt', 'pwned').catch(() => 0));
        ops.push(fs.mkdir('a/made' + i).catch(() => 0));
        ops.push(fs.rm('a/victim.txt').catch(() => 0));
        ops.push(fs.rename('a/victim2.txt', 'moved' + i + '.txt').catch(() => 0));
      }
      await Promise.all(ops);
      return out;`;
    const kinds: Record<string, number> = {};
    let reads = 0;
    try {
      for (let round = 0; round < 40; round++) {
        const r = await sb.execute(code, { task: 'race' }, { config: fsCfg });
        kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
        if (r.kind === 'success') {
          const out = JSON.parse(r.output) as string[];
          reads += out.filter((o) => o.startsWith('read:')).length;
          assert.ok(!r.output.includes('TOP-SECRET'), 'a read returned the file outside');
          assert.ok(!r.output.includes('outside-only-name'), 'a listing showed the folder outside');
          assert.ok(!out.includes(`size:${SECRET.length}`), 'stat described the file outside');
        } else {
          assert.equal(r.kind, 'security_violation', JSON.stringify(r));
          if (r.kind === 'security_violation') assert.equal(r.violationType, 'path_traversal', r.reason);
        }
      }
    } finally {
      const swaps = await swapper.stop();
      assert.ok(swaps > 100, `the swapper raced (${swaps} swaps)`);
    }
    // The race was real: runs met the link (and were refused). How many got through the real
    // directory meanwhile depends on the machine's timing, so it is reported, not asserted.
    assert.ok((kinds.security_violation ?? 0) > 0, `some runs met the link: ${JSON.stringify(kinds)}`);
    console.log(`      ${JSON.stringify(kinds)}, ${reads} reads, loop max ${health.maxDelayMs().toFixed(0)} ms, RSS +${health.peakRssMb().toFixed(0)} MB`);
    await health.assertUnharmed();
    await expectHealthy(sb, fsCfg);
  });
});
