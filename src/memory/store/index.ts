/** The in-process store (see memoryStore.ts). */
export { MemoryStore, _schemaVersion } from './memoryStore';
export { defaultWasmPath } from './schema';
