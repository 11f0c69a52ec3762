import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AgentMemoryApi } from '../../src/extension';

export const EXTENSION_ID = 'agent-memory.agent-memory';

export async function activateApi(): Promise<AgentMemoryApi> {
  const ext = vscode.extensions.getExtension<AgentMemoryApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not known to the host`);
  return ext.activate();
}
