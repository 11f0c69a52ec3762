import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AgentMemoryApi } from '../../src/extension';
import { SCREENSHOT_MARKER } from './markers';

export const EXTENSION_ID = 'agent-memory.agent-memory';

export async function activateApi(): Promise<AgentMemoryApi> {
  const ext = vscode.extensions.getExtension<AgentMemoryApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not known to the host`);
  return ext.activate();
}

/** Asks the headless launcher (if any) for a screenshot, then gives it time to take it. */
export async function screenshot(name: string): Promise<void> {
  console.log(`${SCREENSHOT_MARKER}${name}`);
  await new Promise((r) => setTimeout(r, 2000));
}
