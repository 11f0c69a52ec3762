/**
 * Weakness 2: an allowed path that is itself a link to `/` (or leads to a home
 * folder or a system tree) is refused when the configuration is accepted,
 * wherever it comes from: Sandbox construction, setConfig, a run's own config,
 * and the standalone server's --allow-path. Guest code never reads /etc/passwd.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Sandbox, SandboxConfigError, type Sandbox as SandboxType } from '../../src/sandbox';
import { WORKER_PATH } from '../unit/sandbox/helpers';
import { cfg, cleanup, expectError, expectHealthy, expectSuccess, newSandbox, tempDir } from './common';
import { watchHealth } from './health';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

describe('security: allowed paths resolved and checked at configuration time', function () {
  let sb: SandboxType;
  let dir: string;
  const links: Record<string, string> = {};

  before(async () => {
    sb = await newSandbox();
    dir = tempDir('sbx-allowed-links-');
    for (const [name, target] of [['to-root', '/'], ['to-etc', '/etc'], ['to-home', os.homedir()], ['to-proc', '/proc/self'], ['to-tmp-parent', path.dirname(dir)]] as const) {
      links[name] = path.join(dir, name);
      symlinkSync(target, links[name]);
    }
    mkdirSync(path.join(dir, 'project'));
    symlinkSync(path.join(dir, 'project'), (links.toProject = path.join(dir, 'to-project')));
  });
  after(async () => {
    await sb.close();
    cleanup();
  });

  it('refuses a link to /, /etc, /proc or the home folder, saying what it resolved to', () => {
    const health = watchHealth();
    for (const name of ['to-root', 'to-etc', 'to-home', 'to-proc']) {
      const config = cfg({ allowFilesystem: true, allowedPaths: [links[name]] });
      assert.throws(() => new Sandbox({ workerPath: WORKER_PATH, config }), (e: unknown) => e instanceof SandboxConfigError && /resolves to/.test(e.message) && /may not be given it/.test(e.message), name);
      assert.throws(() => sb.setConfig(config), SandboxConfigError, name);
    }
    assert.throws(() => sb.setConfig(cfg({ allowFilesystem: true, allowedPaths: ['/'] })), /file-system root/);
    assert.throws(() => sb.setConfig(cfg({ allowFilesystem: true, allowedPaths: ['/etc'] })), /system tree \/etc/);
    assert.throws(() => sb.setConfig(cfg({ allowFilesystem: true, allowedPaths: [os.homedir()] })), /home folder itself/);
    // The sandbox kept its previous (default) configuration.
    assert.equal(sb.config.allowFilesystem, false);
    return health.assertUnharmed();
  });

  it('a run given such a config is refused before any guest code runs; /etc/passwd is never read', async () => {
    const health = watchHealth();
    for (const name of ['to-root', 'to-etc']) {
      const r = await sb.execute("return await fs.readFile('etc/passwd')", { task: 'attack' }, { config: cfg({ allowFilesystem: true, allowedPaths: [links[name]] }) });
      expectError(r, 'internal', /may not be given it/);
      assert.ok(!JSON.stringify(r).includes('root:'), 'nothing of /etc/passwd came back');
    }
    await health.assertUnharmed();
    await expectHealthy(sb);
  });

  it('accepts a link to a project folder and works on its real path', async () => {
    const config = cfg({ allowFilesystem: true, allowedPaths: [links.toProject] });
    const r = await sb.execute("await fs.writeFile('x.txt', 'ok'); return await fs.readFile('x.txt')", { task: 'legit' }, { config });
    expectSuccess(r, '"ok"');
    const s = new Sandbox({ workerPath: WORKER_PATH, config });
    assert.deepEqual(s.config.allowedPaths, [path.join(dir, 'project')]);
    await s.close();
  });

  it('memory-mcp --allow-path refuses such a folder with a clear error and does not start', function () {
    this.timeout(30_000);
    const r = spawnSync(process.execPath, [CLI, '--db', tempDir('sbx-cli-db-'), '--allow-path', links['to-root']], { encoding: 'utf8', timeout: 20_000, input: '' });
    assert.notEqual(r.status, 0, 'the server must not start');
    assert.match(r.stderr, /resolves to "\/", which is the file-system root/);
  });
});
