/**
 * Worker-thread entry (bundled to dist/sandbox-worker.js). Receives jobs from
 * the Sandbox, runs them one at a time on the Engine, forwards host calls.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Engine } from './engine';
import type { ExecutionResult } from './types';
import type { FromWorker, RunMessage, ToWorker, WorkerInit } from './protocol';

const port = parentPort;
if (!port) throw new Error('sandbox-worker must run in a worker thread');
const init = workerData as WorkerInit & { warmMemoryMb?: number };
const post = (m: FromWorker): void => port.postMessage(m);
const engine = new Engine({ shared: init.shared, wasmModule: init.wasmModule, wasmPath: init.wasmPath, post });

const queue: RunMessage[] = [];
let busy = false;

async function drain(): Promise<void> {
  busy = true;
  try {
    for (let m = queue.shift(); m; m = queue.shift()) {
      let result: ExecutionResult;
      try {
        result = await engine.run(m);
      } catch (err) {
        result = { kind: 'error', errorType: 'internal', message: `sandbox worker failure: ${(err as Error)?.message ?? String(err)}`, stdout: '', stderr: '', executionTimeMs: 0 };
      }
      post({ t: 'done', id: m.id, result });
      engine.flush();
    }
  } finally {
    busy = false;
  }
  // Idle: set up the next run's context while the result travels back.
  engine.prepare();
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'run':
      queue.push(m);
      if (!busy) void drain();
      break;
    case 'reply':
      engine.onReply(m);
      break;
    case 'cancel':
      engine.onCancel(m.id);
      break;
    case 'crash':
      // Test hook: die the way a worker whose WASM module aborted would.
      setImmediate(() => {
        throw new Error('sandbox worker crash requested');
      });
      break;
  }
});

void engine
  .warm(init.warmMemoryMb ?? 128)
  .catch(() => undefined)
  .then(() => post({ t: 'ready' }));
