import { strict as assert } from 'node:assert';
import { PRESETS, SandboxConfigError, resolveConfig, validateConfig } from '../../../src/sandbox';

describe('sandbox config', () => {
  it('has the seed presets', () => {
    assert.deepEqual(
      [PRESETS.restrictive, PRESETS.default, PRESETS.permissive].map((p) => [p.maxExecutionTimeMs, p.maxMemoryMb, p.maxCpuPercent, p.allowFilesystem, p.allowNetwork, p.allowSubprocesses]),
      [
        [3000, 64, 30, false, false, false],
        [5000, 128, 50, false, false, false],
        [10000, 256, 80, true, false, false],
      ],
    );
    assert.ok(Object.isFrozen(PRESETS.default));
  });

  it('resolves a preset with overrides', () => {
    const c = resolveConfig('restrictive', { maxExecutionTimeMs: 1000 });
    assert.equal(c.maxExecutionTimeMs, 1000);
    assert.equal(c.maxMemoryMb, 64);
  });

  it('refuses allowSubprocesses: true', () => {
    assert.throws(() => resolveConfig('default', { allowSubprocesses: true }), (e: unknown) => e instanceof SandboxConfigError && /allowSubprocesses/.test(e.message));
  });

  it('reports every out-of-range value clearly', () => {
    try {
      validateConfig({ ...PRESETS.default, maxExecutionTimeMs: 0, maxMemoryMb: 100000, maxCpuPercent: 101, maxStackKb: 4096 });
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof SandboxConfigError);
      assert.equal(e.issues.length, 4);
      assert.match(e.message, /maxExecutionTimeMs must be between 10 and 300000 \(got 0\)/);
      assert.match(e.message, /maxMemoryMb/);
      assert.match(e.message, /maxCpuPercent/);
      assert.match(e.message, /maxStackKb/);
    }
  });

  it('refuses wrong types, relative paths, roots and malformed hosts', () => {
    assert.throws(() => validateConfig(null), SandboxConfigError);
    assert.throws(() => validateConfig({ ...PRESETS.default, maxMemoryMb: '64' }), /maxMemoryMb must be an integer/);
    assert.throws(() => validateConfig({ ...PRESETS.default, allowedPaths: ['relative/dir'] }), /absolute/);
    assert.throws(() => validateConfig({ ...PRESETS.default, allowedPaths: ['/'] }), /root/);
    assert.throws(() => validateConfig({ ...PRESETS.default, allowedHosts: ['http://example.com'] }), /allowedHosts/);
    assert.deepEqual(validateConfig({ ...PRESETS.default, allowedHosts: ['API.Example.com'] }).allowedHosts, ['api.example.com']);
  });

  it('refuses unknown presets', () => {
    assert.throws(() => resolveConfig('yolo' as never), /unknown preset/);
  });
});
