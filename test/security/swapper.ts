// The racing attacker: a separate local process that, inside the allowed folder,
// keeps swapping the directory `<dir>/<name>` for a symbolic link to `<target>`
// and back, as fast as it can, until killed. Usage: node --import tsx swapper.ts <dir> <name> <target>
import { renameSync, symlinkSync, mkdirSync, existsSync } from 'node:fs';
import * as path from 'node:path';

const [dir, name, target] = process.argv.slice(2);
const real = path.join(dir, name);
const parkedDir = path.join(dir, `${name}.dir`);
const parkedLink = path.join(dir, `${name}.link`);
if (!existsSync(real)) mkdirSync(real);
symlinkSync(target, parkedLink);
let swaps = 0;
process.on('SIGTERM', () => {
  process.stdout.write(`${swaps}\n`);
  process.exit(0);
});
const tryDo = (fn: () => void): void => {
  try {
    fn();
  } catch {
    // a step may fail while the sandbox holds something open; keep racing
  }
};
process.stdout.write('ready\n');
async function race(): Promise<void> {
  for (;;) {
    // directory -> link
    tryDo(() => renameSync(real, parkedDir));
    tryDo(() => renameSync(parkedLink, real));
    // link -> directory
    tryDo(() => renameSync(real, parkedLink));
    tryDo(() => renameSync(parkedDir, real));
    swaps++;
    if (swaps % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
}
void race();
