import * as assert from 'node:assert/strict';
import path from 'node:path';
import { effectiveSandboxConfig } from '../../../src/views/settings';

const ws = path.resolve('/work/project');

describe('views/settings: effective sandbox config from settings', () => {
  it('uses the chosen preset in a trusted workspace', () => {
    const r = effectiveSandboxConfig({ preset: 'permissive' }, { trusted: true, workspaceFolders: [ws] });
    assert.equal(r.preset, 'permissive');
    assert.equal(r.config.maxExecutionTimeMs, 10_000);
    assert.equal(r.config.maxMemoryMb, 256);
    assert.deepEqual(r.notes, []);
  });

  it('caps an untrusted workspace at restrictive and ignores the allowlists', () => {
    const r = effectiveSandboxConfig(
      { preset: 'permissive', allowedPaths: ['data'], allowedHosts: ['example.com'], timeoutMs: 60_000 },
      { trusted: false, workspaceFolders: [ws] },
    );
    assert.equal(r.preset, 'restrictive');
    assert.equal(r.config.maxExecutionTimeMs, 3000);
    assert.equal(r.config.maxMemoryMb, 64);
    assert.equal(r.config.allowFilesystem, false);
    assert.equal(r.config.allowNetwork, false);
    assert.deepEqual(r.config.allowedPaths, []);
    assert.deepEqual(r.config.allowedHosts, []);
    assert.match(r.notes.join(' '), /Untrusted workspace/);
  });

  it('resolves workspace-relative allowed paths and grants them only under permissive', () => {
    const permissive = effectiveSandboxConfig({ preset: 'permissive', allowedPaths: ['data', '/abs/dir'], allowedHosts: ['API.example.com'] }, { trusted: true, workspaceFolders: [ws] });
    assert.deepEqual(permissive.config.allowedPaths, [path.join(ws, 'data'), '/abs/dir']);
    assert.equal(permissive.config.allowNetwork, true);
    assert.deepEqual(permissive.config.allowedHosts, ['api.example.com']);
    const def = effectiveSandboxConfig({ preset: 'default', allowedPaths: ['data'], allowedHosts: ['example.com'] }, { trusted: true, workspaceFolders: [ws] });
    assert.equal(def.config.allowFilesystem, false);
    assert.equal(def.config.allowNetwork, false);
    assert.equal(def.notes.length, 2);
  });

  it('applies valid overrides and ignores invalid ones with a note, keeping the preset', () => {
    const ok = effectiveSandboxConfig({ preset: 'default', timeoutMs: 1234, memoryMb: 96, cpuPercent: 25 }, { trusted: true, workspaceFolders: [] });
    assert.equal(ok.config.maxExecutionTimeMs, 1234);
    assert.equal(ok.config.maxMemoryMb, 96);
    assert.equal(ok.config.maxCpuPercent, 25);
    const bad = effectiveSandboxConfig({ preset: 'default', memoryMb: 1e9 }, { trusted: true, workspaceFolders: [] });
    assert.equal(bad.config.maxMemoryMb, 128);
    assert.match(bad.notes.join(' '), /maxMemoryMb/);
  });

  it('falls back to default for an unknown preset, and drops relative paths with no folder open', () => {
    const r = effectiveSandboxConfig({ preset: 'yolo', allowedPaths: ['rel'] }, { trusted: true, workspaceFolders: [] });
    assert.equal(r.preset, 'default');
    assert.match(r.notes.join(' '), /Unknown preset/);
    const p = effectiveSandboxConfig({ preset: 'permissive', allowedPaths: ['rel'] }, { trusted: true, workspaceFolders: [] });
    assert.deepEqual(p.config.allowedPaths, []);
    assert.match(p.notes.join(' '), /no workspace folder/);
  });
});
