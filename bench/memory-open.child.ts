/**
 * Opens a store in a fresh process and prints how long MemoryStore.open took (sql.js load,
 * snapshot read and check, index load, journal replay), as the extension or memory-mcp would on start.
 *   node --import tsx bench/memory-open.child.ts DIR
 */
import { performance } from 'node:perf_hooks';
import { MemoryStore } from '../src/memory';

async function main(): Promise<void> {
  const dir = process.argv[2];
  const t0 = performance.now();
  const store = await MemoryStore.open({ dir, snapshotDebounceMs: 3_600_000 });
  const openMs = performance.now() - t0;
  const { episodes } = await store.stats();
  // Close without writing a snapshot of our own would be ideal; close() is what a user does.
  await store.close();
  process.stdout.write(JSON.stringify({ openMs, episodes }) + '\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
