/**
 * Sandbox configuration: the seed's three presets and validation of custom
 * configs. Pure (no I/O).
 */
import * as path from 'node:path';
import type { PresetName, SandboxConfig } from './types';

/** Error thrown for an invalid sandbox configuration; `issues` lists every problem found. */
export class SandboxConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid sandbox configuration: ${issues.join('; ')}`);
    this.name = 'SandboxConfigError';
  }
}

/** Inclusive bounds for the numeric settings. */
export const CONFIG_LIMITS = {
  maxExecutionTimeMs: { min: 10, max: 300_000 },
  maxMemoryMb: { min: 8, max: 1024 },
  maxCpuPercent: { min: 1, max: 100 },
  /**
   * Above ~256 KiB QuickJS's own overflow check comes after the host's, and a
   * host-side overflow leaves the runtime impossible to dispose (see LIBRARY_FACTS).
   */
  maxStackKb: { min: 16, max: 256 },
} as const;

const base = {
  maxStackKb: 256,
  allowedPaths: [] as string[],
  allowedHosts: [] as string[],
  allowNetwork: false,
  allowSubprocesses: false,
};

/** The seed's presets. Frozen: copy before changing. */
export const PRESETS: Readonly<Record<PresetName, Readonly<SandboxConfig>>> = Object.freeze({
  restrictive: Object.freeze({ ...base, maxExecutionTimeMs: 3000, maxMemoryMb: 64, maxCpuPercent: 30, allowFilesystem: false, allowedPaths: [], allowedHosts: [] }),
  default: Object.freeze({ ...base, maxExecutionTimeMs: 5000, maxMemoryMb: 128, maxCpuPercent: 50, allowFilesystem: false, allowedPaths: [], allowedHosts: [] }),
  permissive: Object.freeze({ ...base, maxExecutionTimeMs: 10000, maxMemoryMb: 256, maxCpuPercent: 80, allowFilesystem: true, allowedPaths: [], allowedHosts: [] }),
});

export function isPresetName(name: unknown): name is PresetName {
  return name === 'restrictive' || name === 'default' || name === 'permissive';
}

const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/;

/**
 * Checks a config (possibly from settings or an MCP client) and returns a clean
 * copy. Throws SandboxConfigError listing every problem.
 */
export function validateConfig(input: unknown): SandboxConfig {
  const issues: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SandboxConfigError(['config must be an object']);
  }
  const c = input as Record<string, unknown>;
  const num = (key: keyof typeof CONFIG_LIMITS): number => {
    const v = c[key];
    const { min, max } = CONFIG_LIMITS[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isInteger(v)) {
      issues.push(`${key} must be an integer between ${min} and ${max} (got ${JSON.stringify(v) ?? String(v)})`);
      return min;
    }
    if (v < min || v > max) issues.push(`${key} must be between ${min} and ${max} (got ${v})`);
    return v;
  };
  const bool = (key: string): boolean => {
    const v = c[key];
    if (typeof v !== 'boolean') {
      issues.push(`${key} must be a boolean`);
      return false;
    }
    return v;
  };
  const strings = (key: string): string[] => {
    const v = c[key];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
      issues.push(`${key} must be an array of strings`);
      return [];
    }
    return [...v] as string[];
  };
  const maxExecutionTimeMs = num('maxExecutionTimeMs');
  const maxMemoryMb = num('maxMemoryMb');
  const maxCpuPercent = num('maxCpuPercent');
  const maxStackKb = num('maxStackKb');
  const allowFilesystem = bool('allowFilesystem');
  const allowNetwork = bool('allowNetwork');
  const allowSubprocesses = bool('allowSubprocesses');
  if (allowSubprocesses) issues.push('allowSubprocesses cannot be true: the sandbox has no subprocess capability');
  const allowedPaths = strings('allowedPaths');
  for (const p of allowedPaths) {
    if (!path.isAbsolute(p)) issues.push(`allowedPaths entries must be absolute paths (got ${JSON.stringify(p)})`);
    else if (p.includes('\0')) issues.push('allowedPaths entries must not contain NUL');
    else if (path.resolve(p) === path.parse(path.resolve(p)).root) issues.push(`allowedPaths must not include a file-system root (${p})`);
  }
  const allowedHosts = strings('allowedHosts').map((h) => h.trim().toLowerCase());
  for (const h of allowedHosts) {
    if (!HOST_RE.test(h)) issues.push(`allowedHosts entries must be bare host names or IP addresses, optionally with :port (got ${JSON.stringify(h)})`);
  }
  if (issues.length) throw new SandboxConfigError(issues);
  return {
    maxExecutionTimeMs,
    maxMemoryMb,
    maxCpuPercent,
    maxStackKb,
    allowedPaths: allowedPaths.map((p) => path.resolve(p)),
    allowedHosts,
    allowFilesystem,
    allowNetwork,
    allowSubprocesses: false,
  };
}

/** A preset, optionally with overrides, validated. */
export function resolveConfig(preset: PresetName | SandboxConfig = 'default', overrides: Partial<SandboxConfig> = {}): SandboxConfig {
  if (typeof preset === 'string') {
    if (!isPresetName(preset)) throw new SandboxConfigError([`unknown preset ${JSON.stringify(preset)} (expected restrictive, default or permissive)`]);
    return validateConfig({ ...PRESETS[preset], ...overrides });
  }
  return validateConfig({ ...preset, ...overrides });
}
