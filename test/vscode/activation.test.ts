import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, activateApi } from './helpers';
import { OUTPUT_MARKER } from './markers';

describe('extension activation (real extension host)', () => {
  it('is installed, activates, and registers every contributed command', async () => {
    const api = await activateApi();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.equal(ext.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    const contributed = (ext.packageJSON as { contributes: { commands: Array<{ command: string }> } }).contributes.commands.map((c) => c.command);
    assert.ok(contributed.length >= 12, `only ${contributed.length} commands contributed`);
    for (const id of contributed) assert.ok(commands.includes(id), `command ${id} is not registered`);
    // Reported in the run's output (budget: 50 ms; WASM modules load on first use, not here).
    console.log(`${OUTPUT_MARKER}      activation took ${api.activationMs.toFixed(2)} ms`);
  });

  it('activates cheaply: no store, sandbox or server is started by activation', async () => {
    const api = await activateApi();
    assert.equal(api.services.peekStore(), undefined, 'the store was opened during activation');
    assert.equal(api.services.peekSandbox(), undefined, 'the sandbox was created during activation');
    assert.equal(api.services.peekServer(), undefined, 'the MCP server was started during activation');
  });

  it('runs in a real VS Code with the MCP definition API available', () => {
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof vscode.lm.registerMcpServerDefinitionProvider, 'function');
  });
});
