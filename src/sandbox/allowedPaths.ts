/**
 * Allowed paths are resolved (symbolic links and all) when a configuration is
 * accepted, not when the guest uses them, and refused when what they resolve
 * to is the file-system root, a home folder itself (or a folder holding home
 * folders), or a system tree: an allowed path that is a link to `/` would
 * otherwise hand the guest `/etc/passwd`. Used by the Sandbox (construction,
 * setConfig, a run's own config), the CLI's --allow-path and the extension's
 * settings; health_check shows the resolved paths.
 */
import { realpathSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SandboxConfigError } from './config';
import type { SandboxConfig } from './types';

/** System trees guest code must never be given, nor any folder that holds one. */
function systemTrees(): string[] {
  if (process.platform === 'win32') {
    const env = process.env;
    return [env.SystemRoot ?? 'C:\\Windows', env.ProgramFiles ?? 'C:\\Program Files', env['ProgramFiles(x86)'] ?? 'C:\\Program Files (x86)', env.ProgramData ?? 'C:\\ProgramData'];
  }
  const trees = ['/etc', '/proc', '/sys', '/dev', '/boot', '/var', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/run', '/snap'];
  if (process.platform === 'darwin') trees.push('/System', '/Library', '/private/etc', '/private/var', '/cores');
  return trees;
}

const HOME_PARENTS = ['/home', '/Users'];

function real(p: string): string | undefined {
  try {
    return realpathSync.native(p);
  } catch {
    return undefined;
  }
}

const isWithin = (parent: string, p: string): boolean => {
  const rel = path.relative(parent, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};
const sameOrAbove = (p: string, target: string): boolean => isWithin(p, target);

/** Why `resolved` (a real path) may not be an allowed path, or undefined when it may. */
export function refusal(resolved: string): string | undefined {
  if (resolved === path.parse(resolved).root) return 'the file-system root';
  const home = real(os.homedir()) ?? os.homedir();
  if (sameOrAbove(resolved, home)) return resolved === home ? 'your home folder itself (allow a project folder inside it)' : `a folder that holds your home folder (${home})`;
  if (HOME_PARENTS.includes(path.dirname(resolved))) return 'a home folder itself';
  if (HOME_PARENTS.includes(resolved)) return 'the folder that holds the home folders';
  // The temporary folder may sit in a system tree (macOS: /private/var/folders/…): what is below it is fine.
  const tmp = real(os.tmpdir());
  const underTmp = tmp !== undefined && tmp !== path.parse(tmp).root && isWithin(tmp, resolved) && resolved !== tmp;
  for (const tree of systemTrees()) {
    const t = real(tree) ?? tree;
    if (resolved === t) return `the system tree ${t}`;
    if (sameOrAbove(resolved, t)) return `a folder that holds the system tree ${t}`;
    if (isWithin(t, resolved) && !underTmp) return `inside the system tree ${t}`;
  }
  return undefined;
}

/**
 * The real paths of `paths` (absolute), or a SandboxConfigError naming every
 * one that does not exist or may not be allowed, with what it resolved to.
 */
export function resolveAllowedPaths(paths: readonly string[]): string[] {
  const issues: string[] = [];
  const out: string[] = [];
  for (const p of paths) {
    const r = real(p);
    if (r === undefined) {
      issues.push(`the allowed path ${JSON.stringify(p)} does not exist (create the folder first)`);
      continue;
    }
    const why = refusal(r);
    if (why) issues.push(`the allowed path ${JSON.stringify(p)}${r !== p ? ` resolves to ${JSON.stringify(r)}, which is` : ' is'} ${why}; sandboxed code may not be given it`);
    else if (!out.includes(r)) out.push(r);
  }
  if (issues.length) throw new SandboxConfigError(issues);
  return out;
}

/** The config with its allowed paths resolved (the same object when it has none). */
export function withResolvedPaths(config: SandboxConfig): SandboxConfig {
  if (config.allowedPaths.length === 0) return config;
  return { ...config, allowedPaths: resolveAllowedPaths(config.allowedPaths) };
}
