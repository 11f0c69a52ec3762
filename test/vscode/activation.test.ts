import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'agent-memory.agent-memory';

describe('extension activation (real extension host)', () => {
  it('is installed, activates, and registers its commands', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not known to the host`);
    await ext.activate();
    assert.equal(ext.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    const contributed = (ext.packageJSON as { contributes: { commands: Array<{ command: string }> } }).contributes.commands.map((c) => c.command);
    assert.ok(contributed.length > 0);
    for (const id of contributed) assert.ok(commands.includes(id), `command ${id} is not registered`);
  });

  it('runs in a real VS Code with the MCP definition API available', () => {
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof vscode.lm.registerMcpServerDefinitionProvider, 'function');
  });
});
