/**
 * The memory service's worker thread (bundled as dist/memory-worker.js): opens the store
 * and serves the client's calls (protocol.ts). Nothing here runs on the client's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from '../../common/logger';
import { MemoryStore } from '../store';
import { ImportFileError, MemoryError } from '../errors';
import type { CallName, FromWorker, LogLevel, ToWorker, WireError, WorkerInit } from './protocol';
import { CALLS, EXCHANGE_CALLS, TEXT_CALLS, TRANSFER_MIN_CHARS } from './protocol';

const port = parentPort;
if (!port) throw new Error('memory-worker.js runs as a worker thread of the memory service');
const init = workerData as WorkerInit;
const post = (m: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);

function wire(e: unknown): WireError {
  if (e instanceof ImportFileError) return { code: e.code, message: e.message, invalid: e.invalid };
  if (e instanceof MemoryError) return { code: e.code, message: e.message };
  return { message: e instanceof Error ? e.message : String(e) };
}

const log =
  (level: LogLevel) =>
  (message: string | Error, ...args: unknown[]): void => {
    const text = message instanceof Error ? (message.stack ?? message.message) : message;
    post({ t: 'log', level, message: args.length ? `${text} ${args.map(String).join(' ')}` : text });
  };
const logger: Logger = { trace: log('trace'), debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

const known = new Set<string>(CALLS);
const encoder = new TextEncoder();
let store: MemoryStore | undefined;
const early: ToWorker[] = [];
/** Import and export calls in flight, by call id (a cancel message aborts them). */
const cancels = new Map<number, AbortController>();

/** An import or export: its options get an onProgress that posts progress messages and a signal the client can abort. */
function exchangeArgs(id: number, args: unknown[]): unknown[] {
  const abort = new AbortController();
  cancels.set(id, abort);
  const options = (args[1] ?? {}) as Record<string, unknown>;
  return [args[0], { ...options, signal: abort.signal, onProgress: (done: number, total?: number) => post({ t: 'progress', id, done, total }) }];
}

async function handle(m: ToWorker): Promise<void> {
  if (!store) {
    early.push(m);
    return;
  }
  switch (m.t) {
    case 'call': {
      try {
        if (!known.has(m.method)) throw new MemoryError('invalid', `Unknown memory call "${m.method}"`);
        const calls = store as unknown as Record<CallName, (...args: unknown[]) => Promise<unknown>>;
        const value = await calls[m.method](...(EXCHANGE_CALLS.has(m.method) ? exchangeArgs(m.id, m.args) : m.args));
        if (TEXT_CALLS.has(m.method)) post({ t: 'result', id: m.id, value });
        else send(m.id, value);
      } catch (e) {
        post({ t: 'error', id: m.id, error: wire(e) });
      } finally {
        cancels.delete(m.id);
      }
      return;
    }
    case 'cancel':
      cancels.get(m.id)?.abort();
      return;
    case 'retention':
      try {
        store.setRetention(m.policy);
      } catch (e) {
        logger.warn(`memory: retention policy refused: ${wire(e).message}`);
      }
      return;
    case 'lockLost':
      store.markLockLost(new Error(m.message));
      return;
    case 'close':
      await store.close().catch((e: unknown) => logger.error(`memory: close failed: ${wire(e).message}`));
      post({ t: 'closed', id: m.id });
      return;
    case 'crash':
      if (m.how === 'oom') {
        const hog: number[][] = [];
        for (;;) hog.push(new Array<number>(1 << 20).fill(hog.length));
      }
      process.exit(70);
  }
}

/** Small results are cloned; large ones travel as JSON bytes in a transferred buffer. */
function send(id: number, value: unknown): void {
  if (value !== undefined && value !== null && typeof value === 'object') {
    const json = JSON.stringify(value);
    if (json.length >= TRANSFER_MIN_CHARS) {
      const bytes = encoder.encode(json); // its own ArrayBuffer, exactly this long: safe to transfer
      post({ t: 'resultJson', id, bytes }, [bytes.buffer]);
      return;
    }
  }
  post({ t: 'result', id, value });
}

port.on('message', (m: ToWorker) => void handle(m));

MemoryStore.open({ ...init.options, logger, access: init.readOnly ? 'readonly' : 'held' }).then(
  (s) => {
    store = s;
    if (init.lockLost) s.markLockLost(new Error(init.lockLost));
    s.onDidChange((change) => post({ t: 'change', change }));
    post({ t: 'ready', readOnly: s.readOnly });
    for (const m of early.splice(0)) void handle(m);
  },
  (e: unknown) => post({ t: 'openFailed', error: wire(e) }),
);
