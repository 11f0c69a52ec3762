/** Shared set-up for the security tier: a sandbox built from the current sources, temp folders, the swapper process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Sandbox, type SandboxOptions } from '../../src/sandbox';
import { ensureWorkerBuilt, WORKER_PATH } from '../unit/sandbox/helpers';

export { cfg, expectHealthy, expectSuccess, expectViolation, expectError } from '../unit/sandbox/helpers';

export async function newSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  await ensureWorkerBuilt();
  const sb = new Sandbox({ workers: 2, workerPath: WORKER_PATH, ...options });
  await sb.warmUp();
  return sb;
}

/** A fresh temp folder (real path); removed by `cleanup`. */
const made: string[] = [];
export function tempDir(prefix: string): string {
  const d = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  made.push(d);
  return d;
}
export function cleanup(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Starts the racing swapper (a child process) and resolves once it races; `stop` resolves with its swap count. */
export async function startSwapper(dir: string, name: string, target: string): Promise<{ stop: () => Promise<number>; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'swapper.ts'), dir, name, target], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready\n')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`the swapper exited early (${code})`)));
  });
  return {
    proc,
    stop: () =>
      new Promise<number>((resolve) => {
        proc.once('exit', () => resolve(Number(out.split('\n').filter(Boolean).pop()) || 0));
        proc.kill('SIGTERM');
      }),
  };
}
