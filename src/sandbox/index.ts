/** Public surface of the sandbox engine (pure: no vscode). */
export * from './types';
export { Sandbox, defaultWorkerPath, BACKSTOP_GRACE_MS } from './sandbox';
export { PRESETS, CONFIG_LIMITS, resolveConfig, validateConfig, isPresetName, SandboxConfigError } from './config';
export { screenCode, tokenize, MAX_CODE_BYTES, type ScreenHit } from './screen';
export { stripTypes } from './transpile';
export { CapabilityViolation, QUOTAS, isPrivateAddress } from './capabilities';
export { resolveAllowedPaths, withResolvedPaths } from './allowedPaths';
export { HOST_CALLS } from './sandbox';
export { CONSOLE_CAP, OUTPUT_CAP, SLICE_MS } from './protocol';
