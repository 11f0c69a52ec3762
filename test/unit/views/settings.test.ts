import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import path from 'node:path';
import { effectiveSandboxConfig } from '../../../src/views/settings';

// A real workspace folder: allowed paths are resolved (real paths) when the settings are read.
const ws = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'settings-ws-')));
const abs = path.join(ws, 'abs', 'dir');
mkdirSync(path.join(ws, 'data'));
mkdirSync(abs, { recursive: true });
after(() => rmSync(ws, { recursive: true, force: true }));

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
    const permissive = effectiveSandboxConfig({ preset: 'permissive', allowedPaths: ['data', abs], allowedHosts: ['API.example.com'] }, { trusted: true, workspaceFolders: [ws] });
    assert.deepEqual(permissive.config.allowedPaths, [path.join(ws, 'data'), abs]);
    assert.equal(permissive.config.allowNetwork, true);
    assert.deepEqual(permissive.config.allowedHosts, ['api.example.com']);
    const def = effectiveSandboxConfig({ preset: 'default', allowedPaths: ['data'], allowedHosts: ['example.com'] }, { trusted: true, workspaceFolders: [ws] });
    assert.equal(def.config.allowFilesystem, false);
    assert.equal(def.config.allowNetwork, false);
    assert.equal(def.notes.length, 2);
  });

  it('refuses, with a note, an allowed path that is or leads to the root, the home folder or a system tree, and one that does not exist', () => {
    symlinkSync('/', path.join(ws, 'to-root'));
    symlinkSync('/etc', path.join(ws, 'to-etc'));
    const r = effectiveSandboxConfig({ preset: 'permissive', allowedPaths: ['to-root', 'to-etc', os.homedir(), 'missing', 'data'] }, { trusted: true, workspaceFolders: [ws] });
    assert.deepEqual(r.config.allowedPaths, [path.join(ws, 'data')]);
    const notes = r.notes.join('\n');
    assert.match(notes, /to-root" resolves to "\/", which is the file-system root/);
    assert.match(notes, /to-etc" resolves to "\/etc", which is the system tree \/etc/);
    assert.match(notes, /home folder/);
    assert.match(notes, /missing" does not exist/);
    assert.equal(r.notes.filter((n) => n.startsWith('Refused: the allowed path')).length, 4);
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
