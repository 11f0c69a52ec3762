/**
 * Run by the headless launcher's second pass, in a workspace VS Code does not trust, with user
 * settings asking for the permissive preset and an allowed host.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ExecutionResult } from '../../src/sandbox';
import { activateApi } from './helpers';

describe('in an untrusted workspace', function () {
  this.timeout(60_000);

  it('the extension runs (limited support) with the sandbox capped at restrictive and no allowlists', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'this pass expects an untrusted workspace');
    assert.equal(vscode.workspace.getConfiguration('agentMemory.sandbox').get('preset'), 'permissive', 'the user setting asks for permissive');
    const api = await activateApi();
    const config = api.services.sandbox().config;
    assert.equal(config.maxExecutionTimeMs, 3000);
    assert.equal(config.maxMemoryMb, 64);
    assert.equal(config.maxCpuPercent, 30);
    assert.equal(config.allowNetwork, false);
    assert.deepEqual(config.allowedHosts, []);
    assert.equal(config.allowFilesystem, false);
    const result = await vscode.commands.executeCommand<ExecutionResult>('agentMemory.runInSandbox', "const r = await fetch('https://example.com/'); return r.status;");
    assert.equal(result.kind, 'security_violation', JSON.stringify(result));
    const ok = await vscode.commands.executeCommand<ExecutionResult>('agentMemory.runInSandbox', 'return 2 * 21;');
    assert.equal(ok.kind, 'success');
  });
});
