/**
 * Turns the extension's settings into the sandbox config the server applies. Kept free of the
 * `vscode` import so the rules (workspace trust caps, workspace-relative paths, bad overrides)
 * are unit-tested under plain Node; `readSandboxSettings` in config.ts feeds it.
 */
import path from 'node:path';
import { PRESETS, isPresetName, resolveAllowedPaths, resolveConfig, SandboxConfigError, type PresetName, type SandboxConfig } from '../sandbox';

export interface RawSandboxSettings {
  preset: unknown;
  timeoutMs?: number | null;
  memoryMb?: number | null;
  cpuPercent?: number | null;
  allowedPaths?: string[];
  allowedHosts?: string[];
}

export interface EffectiveSandboxConfig {
  preset: PresetName;
  config: SandboxConfig;
  /** Why the result differs from what the settings asked for (trust cap, invalid values). */
  notes: string[];
}

export function effectiveSandboxConfig(raw: RawSandboxSettings, env: { trusted: boolean; workspaceFolders: string[] }): EffectiveSandboxConfig {
  const notes: string[] = [];
  let preset: PresetName = isPresetName(raw.preset) ? raw.preset : 'default';
  if (!isPresetName(raw.preset)) notes.push(`Unknown preset ${JSON.stringify(raw.preset)}; using "default".`);
  if (!env.trusted) {
    if (preset !== 'restrictive' || raw.allowedPaths?.length || raw.allowedHosts?.length) {
      notes.push('Untrusted workspace: the sandbox is capped at "restrictive" and the allowlists are ignored.');
    }
    return { preset: 'restrictive', config: resolveConfig('restrictive'), notes };
  }
  const overrides: Partial<SandboxConfig> = {};
  if (typeof raw.timeoutMs === 'number') overrides.maxExecutionTimeMs = raw.timeoutMs;
  if (typeof raw.memoryMb === 'number') overrides.maxMemoryMb = raw.memoryMb;
  if (typeof raw.cpuPercent === 'number') overrides.maxCpuPercent = raw.cpuPercent;
  const base = PRESETS[preset];
  const root = env.workspaceFolders[0];
  const allowedPaths = (raw.allowedPaths ?? [])
    .filter((p) => p.trim() !== '')
    .flatMap((p) => {
      if (path.isAbsolute(p)) return [path.normalize(p)];
      if (root) return [path.resolve(root, p)];
      notes.push(`Ignored the relative allowed path "${p}": no workspace folder is open.`);
      return [];
    });
  const allowedHosts = (raw.allowedHosts ?? []).map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  if (base.allowFilesystem) {
    // Resolved now (links and all): one that is, or leads to, the root, a home folder or a system tree is refused.
    overrides.allowedPaths = allowedPaths.flatMap((p) => {
      try {
        return resolveAllowedPaths([p]);
      } catch (err) {
        if (!(err instanceof SandboxConfigError)) throw err;
        notes.push(`Refused: ${err.issues.join('; ')}.`);
        return [];
      }
    });
  } else if (allowedPaths.length) {
    notes.push(`The "${preset}" preset grants no file system access; allowedPaths apply only to "permissive".`);
  }
  if (allowedHosts.length) {
    if (preset === 'permissive') {
      overrides.allowNetwork = true;
      overrides.allowedHosts = allowedHosts;
    } else {
      notes.push(`The "${preset}" preset grants no network access; allowedHosts apply only to "permissive".`);
    }
  }
  try {
    return { preset, config: resolveConfig(preset, overrides), notes };
  } catch (err) {
    if (!(err instanceof SandboxConfigError)) throw err;
    notes.push(`Ignored invalid sandbox overrides: ${err.issues.join('; ')}.`);
    preset = isPresetName(preset) ? preset : 'default';
    return { preset, config: resolveConfig(preset), notes };
  }
}
