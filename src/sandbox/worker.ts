/**
 * Worker-thread entry (bundled to dist/sandbox-worker.js). Receives jobs from
 * the Sandbox, runs them one at a time on the Engine, forwards host calls.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Engine } from './engine';
import type { ExecutionResult } from './types';
import { RESULT_BATCH_MAX, RESULT_BATCH_MAX_AGE_MS, type DoneMessage, type FromWorker, type JobSpec, type ToWorker, type WorkerInit } from './protocol';

if (!parentPort) throw new Error('sandbox-worker must run in a worker thread');
const port = parentPort;
const init = workerData as WorkerInit;
const maxAgeMs = init.resultBatchMaxAgeMs ?? RESULT_BATCH_MAX_AGE_MS;
const post = (m: FromWorker): void => port.postMessage(m);

/**
 * Results waiting to be sent together. They are sent when the worker has no
 * more queued jobs, when RESULT_BATCH_MAX have gathered, before the engine
 * waits for anything (a host call, a duty-cycle sleep, a new module), and once
 * the oldest is maxAgeMs old (checked after each run and, while a long run is
 * busy, from the engine's interrupt handler).
 */
let batch: DoneMessage['results'] = [];
let batchSince = 0;
function sendResults(): void {
  if (batch.length === 0) return;
  const results = batch;
  batch = [];
  post({ t: 'done', results });
}
function sendStaleResults(): void {
  if (batch.length > 0 && performance.now() - batchSince >= maxAgeMs) sendResults();
}

const engine = new Engine({ shared: init.shared, wasmModule: init.wasmModule, wasmPath: init.wasmPath, post, onBusy: sendStaleResults, onWait: sendResults });

const queue: JobSpec[] = [];
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
      if (batch.length === 0) batchSince = performance.now();
      batch.push({ id: m.id, result });
      // Take in what arrived meanwhile (Node would deliver it only after this loop ends), so the
      // queue tells whether more jobs are waiting.
      receivePending();
      if (queue.length === 0 || batch.length >= RESULT_BATCH_MAX) sendResults();
      else sendStaleResults();
      engine.flush();
    }
  } finally {
    busy = false;
  }
  // Idle: set up the next run's context while the result travels back.
  engine.prepare();
}

function receivePending(): void {
  for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) onMessage(r.message as ToWorker);
}

function onMessage(m: ToWorker): void {
  switch (m.t) {
    case 'run':
      for (const job of m.jobs) queue.push(job);
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
}

port.on('message', onMessage);

void engine
  .warm(init.warmMemoryMb ?? 128)
  .catch(() => undefined)
  .then(() => post({ t: 'ready' }));
