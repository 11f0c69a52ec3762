/**
 * QuickJS module instances for the worker: each has its own capped
 * WebAssembly.Memory (QuickJS's own memory limit is no byte cap under
 * emscripten: the memory's maximum is), made from the worker's one compiled
 * WebAssembly.Module.
 */
import { readFileSync } from 'node:fs';
import { newQuickJSWASMModuleFromVariant, newVariant, type CustomizeVariantOptions, type QuickJSWASMModule } from 'quickjs-emscripten-core';
import { QuickJSFFI } from '@jitl/quickjs-wasmfile-release-sync/ffi';
import type { QuickJSSyncVariant } from '@jitl/quickjs-ffi-types';

/** The WebAssembly JS API as used here (the project's TS lib has no DOM/WebAssembly value types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WebAssembly.Module;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * The release-sync variant, assembled here rather than imported from the
 * package's index: its loader uses `import()`, which makes a CommonJS bundle
 * pick the ESM build (that needs import.meta.url). `require` selects the CJS
 * build, which is what runs inside dist/sandbox-worker.js. The WASM bytes are
 * never read by it: the compiled module is passed in.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const emscriptenModuleLoader = require('@jitl/quickjs-wasmfile-release-sync/emscripten-module') as { default: unknown };
const RELEASE_SYNC = {
  type: 'sync',
  importFFI: () => Promise.resolve(QuickJSFFI),
  importModuleLoader: () => Promise.resolve(emscriptenModuleLoader.default),
} as unknown as QuickJSSyncVariant;

export const MB = 1024 * 1024;
/** WASM pages (64 KiB) the module starts with: 16 MiB, its measured baseline. */
const BASE_PAGES = 256;
export const BASE_BYTES = BASE_PAGES * 65536;
/** Recycle a module whose memory grew by more than this (WASM memory never shrinks). */
export const RECYCLE_GROWTH_BYTES = 24 * MB;

/**
 * One QuickJS module instance with its own capped WebAssembly.Memory. A run
 * holds one for its whole life, so runs waiting side by side in a worker each
 * keep their own cap; an idle one serves the next run.
 */
export interface Holder {
  mod: QuickJSWASMModule;
  memory: WasmMemory;
  memoryMb: number;
  broken: boolean;
  /** The last run's clean-up, done when the result has been sent (see Engine.flush) or before the next run here. */
  deferred?: () => void;
}

/** Compiles the QuickJS WebAssembly module from the file (when the pool did not pass one in). */
export function compileWasm(wasmPath: string): WebAssembly.Module {
  return new WA.Module(readFileSync(wasmPath));
}

/** A new module instance whose memory is capped for a `memoryMb` limit (plus the module's own 16 MB). */
export function createHolder(wasmModule: WebAssembly.Module, memoryMb: number): { memoryMb: number; promise: Promise<Holder> } {
  const memory = new WA.Memory({ initial: BASE_PAGES, maximum: Math.ceil(((memoryMb + 16) * MB) / 65536) });
  // The variant's typings name WebAssembly.Memory, which this project's TS lib does not declare.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
  const variant = newVariant(RELEASE_SYNC, { wasmModule, wasmMemory: memory as unknown as CustomizeVariantOptions['wasmMemory'] });
  const promise = newQuickJSWASMModuleFromVariant(variant).then((mod) => ({ mod, memory, memoryMb, broken: false }));
  return { memoryMb, promise };
}

/** The memory a holder may grow to, in bytes. */
export function holderMaxBytes(h: Holder): number {
  return Math.ceil(((h.memoryMb + 16) * MB) / 65536) * 65536;
}
