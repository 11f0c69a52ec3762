/**
 * The host's health around an attack: resident memory, event-loop delay, and
 * files outside the allowed folder. Every security-tier test ends with
 * `await health.assertUnharmed()`.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const MB = 1024 * 1024;

/** Hash of every file (name, size, content) under `dir`: "outside untouched" compares two of these. */
export function treeDigest(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      h.update(path.relative(dir, p) + '\0');
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) h.update(String(statSync(p).size)).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

export interface HealthOptions {
  /** Folders that must be unchanged afterwards. */
  outside?: string[];
  /** Largest growth of this process's RSS allowed during the attack (default 150 MB). */
  maxRssGrowthMb?: number;
  /** Largest event-loop delay allowed during the attack (default 1000 ms: these machines are shared and loaded; a stall of seconds is what an attack on the thread looks like). */
  maxLoopDelayMs?: number;
}

/** Starts watching; `assertUnharmed` checks what happened since. */
export function watchHealth(options: HealthOptions = {}): { assertUnharmed: () => Promise<void>; peakRssMb: () => number; maxDelayMs: () => number } {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const digests = (options.outside ?? []).map((d) => [d, treeDigest(d)] as const);
  const maxDelayMs = (): number => loop.max / 1e6;
  const growthMb = (): number => (peak - rss0) / MB;
  return {
    peakRssMb: growthMb,
    maxDelayMs,
    assertUnharmed: async () => {
      // A timer right now must fire promptly: the event loop is responsive.
      const t = performance.now();
      await new Promise((r) => setTimeout(r, 1));
      const late = performance.now() - t;
      clearInterval(sampler);
      loop.disable();
      for (const [d, digest] of digests) assert.equal(treeDigest(d), digest, `files outside the allowed folder changed (${d})`);
      assert.ok(growthMb() <= (options.maxRssGrowthMb ?? 150), `host RSS grew by ${growthMb().toFixed(0)} MB during the attack`);
      assert.ok(maxDelayMs() <= (options.maxLoopDelayMs ?? 1000), `the host's event loop stalled for ${maxDelayMs().toFixed(0)} ms during the attack`);
      assert.ok(late < 500, `a 1 ms timer fired after ${late.toFixed(0)} ms`);
    },
  };
}
