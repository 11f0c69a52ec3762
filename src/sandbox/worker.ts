/**
 * Worker-thread entry (bundled to dist/sandbox-worker.js). Receives jobs from
 * the Sandbox, runs them on the Engine (several at once while they wait), forwards host calls.
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

const engine = new Engine({ shared: init.shared, wasmModule: init.wasmModule, wasmPath: init.wasmPath, post, onBusy: sendStaleResults, onWait: sendResults, onPause: () => started?.() });

const queue: JobSpec[] = [];
let starting = false;
/** Resolves the wait of startQueued for the run it started: that run now waits or has finished. */
let started: (() => void) | undefined;

/**
 * Starts the queued runs in the order they came, one at a time: each executes
 * on this thread until it finishes or waits (a timer, a host call). A waiting
 * run holds its own QuickJS module and the next one starts meanwhile, so runs
 * that wait do not queue behind each other.
 */
async function startQueued(): Promise<void> {
  if (starting) return;
  starting = true;
  try {
    for (let m = queue.shift(); m; m = queue.shift()) {
      const id = m.id;
      const job = m;
      await new Promise<void>((next) => {
        started = next;
        void engine
          .run(job)
          .catch((err: unknown): ExecutionResult => ({ kind: 'error', errorType: 'internal', message: `sandbox worker failure: ${(err as Error)?.message ?? String(err)}`, stdout: '', stderr: '', executionTimeMs: 0 }))
          .then((result) => {
            finished(id, result);
            next();
          });
      });
    }
  } finally {
    starting = false;
    started = undefined;
  }
  // Idle: set up the next run's context while the result travels back.
  if (engine.resident === 0) engine.prepare();
}

function finished(id: number, result: ExecutionResult): void {
  if (batch.length === 0) batchSince = performance.now();
  batch.push({ id, result });
  // Take in what arrived meanwhile (Node would deliver it only after this turn), so the queue
  // tells whether more jobs are waiting.
  receivePending();
  if (queue.length === 0 || batch.length >= RESULT_BATCH_MAX) sendResults();
  else sendStaleResults();
  engine.flush();
  if (!starting) {
    if (queue.length > 0) void startQueued();
    else if (engine.resident === 0) engine.prepare();
  }
}

function receivePending(): void {
  for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) onMessage(r.message as ToWorker);
}

function onMessage(m: ToWorker): void {
  switch (m.t) {
    case 'run':
      for (const job of m.jobs) queue.push(job);
      void startQueued();
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
