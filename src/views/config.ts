/** Reads the extension's settings at point of use (never cached), including workspace trust. */
import * as vscode from 'vscode';
import type { RetentionPolicy } from '../memory';
import { effectiveSandboxConfig, type EffectiveSandboxConfig } from './settings';

export const SECTION = 'agentMemory';

/** Settings whose change alters the server the MCP provider offers. */
export const SERVER_SETTINGS = [`${SECTION}.sandbox`, `${SECTION}.server`];

export function readSandboxConfig(): EffectiveSandboxConfig {
  const c = vscode.workspace.getConfiguration(`${SECTION}.sandbox`);
  return effectiveSandboxConfig(
    {
      preset: c.get('preset'),
      timeoutMs: c.get<number | null>('timeoutMs'),
      memoryMb: c.get<number | null>('memoryMb'),
      cpuPercent: c.get<number | null>('cpuPercent'),
      allowedPaths: c.get<string[]>('allowedPaths', []),
      allowedHosts: c.get<string[]>('allowedHosts', []),
    },
    { trusted: vscode.workspace.isTrusted, workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath) },
  );
}

export function readRetention(): RetentionPolicy {
  const c = vscode.workspace.getConfiguration(`${SECTION}.memory`);
  const maxEpisodes = c.get<number>('maxEpisodes', 0);
  const maxAgeDays = c.get<number>('maxAgeDays', 0);
  return { maxEpisodes: maxEpisodes > 0 ? maxEpisodes : undefined, maxAgeDays: maxAgeDays > 0 ? maxAgeDays : undefined };
}

/** Whether to ask the MCP client's model for phrasings of each completed task (off by default). */
export function readSamplePhrasings(): boolean {
  return vscode.workspace.getConfiguration(`${SECTION}.memory`).get<boolean>('samplePhrasings', false);
}

export function serverEnabled(): boolean {
  return vscode.workspace.getConfiguration(`${SECTION}.server`).get<boolean>('enabled', true);
}
