/**
 * Episodic memory store (pure: no vscode). Public entry point for src/mcp and src/views.
 * MemoryClient serves the store from a worker thread (what the extension and the server
 * use); MemoryStore is the same API in the caller's thread (tests, the worker itself).
 *
 *   const store = await MemoryClient.open({ dir, logger, onLocked: 'readonly' });
 *   const ep = await store.createEpisode({ task, taskType: 'debugging' });
 *   await store.addStep(ep.id, { tool, action, result: { status: 'success' } });
 *   await store.completeEpisode(ep.id, { outcome: { type: 'success', verdict: 'fixed' } });
 *   const { hits } = await store.query({ query: 'null pointer in config loader' });
 *   await store.close();
 */
export * from './types';
export { LIMITS } from './limits';
export { MemoryStore, defaultWasmPath } from './store';
export { MemoryClient, defaultMemoryWorkerPath } from './service/client';
export type { ServiceOptions } from './service/client';
export { ImportCancelledError, ImportFileError, MemoryError, isMemoryError } from './errors';
export {
  TaskTypeSchema,
  TaskContextSchema,
  PartialTaskContextSchema,
  StepResultSchema,
  StepSchema,
  OutcomeSchema,
  ReflectionSchema,
  EpisodeSchema,
  MemoryExportSchema,
  CreateEpisodeInputSchema,
  AddStepInputSchema,
  CompleteEpisodeInputSchema,
  QueryOptionsSchema,
  AnalyzeOptionsSchema,
  ListOptionsSchema,
  RetentionPolicySchema,
} from './schemas';
export { computeReward, deriveReflection, extractPatterns, HEURISTIC_MIN_CONFIDENCE, HEURISTIC_MIN_SAMPLES } from './learning';
export { BLEND, FIELD_WEIGHTS } from './search';
export { tokenize, porterStem } from './text';

