/**
 * The globals a run may use, installed before any guest code runs (compiled
 * only for a run whose code can reach one of them: see the prelude and
 * ../mentions.ts): `console`, the denial stubs, `require` and, as accessors,
 * the host functions and the lazily installed globals. Several calls may
 * install more globals in the same context (the engine layers a run's needs
 * on a context prepared ahead); a global already installed is left as it is.
 */
import type { Cold, Globals, Install, Intrinsics, Setup } from './types';

export default function install(I: Intrinsics): Install {
  const { G, defineProperty, getOwnPropertyDescriptor, lock, need, stub, freeze } = I;
  const descriptor = (value: unknown): PropertyDescriptor => ({ __proto__: null, value, writable: true, enumerable: false, configurable: true }) as PropertyDescriptor;
  const absent = (name: string): boolean => getOwnPropertyDescriptor(G, name) === undefined;
  /** Not yet locked by an earlier install (`eval` is the built-in until then). */
  const unlocked = (name: string): boolean => getOwnPropertyDescriptor(G, name)?.configurable !== false;
  /**
   * An accessor until first touched; the touch is answered by the globals
   * module (compiled then, see globals.ts): a lazily installed global's module
   * (`arg`: its name and globals), or the host module (`arg`: the setup). Only
   * lazy globals take an assignment before their first touch.
   */
  const accessor = (name: string, kind: keyof Globals, arg: unknown): void => {
    if (!absent(name)) return;
    defineProperty(G, name, {
      configurable: true,
      get: () => need<Globals>('globals')[kind](name, arg as never),
      set: kind === 'lazy' ? (v: unknown) => defineProperty(G, name, descriptor(v)) : undefined,
    });
  };
  return (setup: Setup) => {
    if (setup.k && absent('console')) {
      let konsole: unknown;
      defineProperty(G, 'console', { get: () => (konsole ??= need('console')) });
    }
    const denied = setup.d;
    for (let i = 0; i < denied.length; i++) if (unlocked(denied[i])) lock(G, denied[i], stub(denied[i]));
    if (setup.s && absent('fs')) {
      const fs: Record<string, unknown> = {};
      for (let i = 0; i < setup.f.length; i++) fs[setup.f[i]] = stub('fs.' + setup.f[i]);
      lock(G, 'fs', freeze(fs));
    }
    if (setup.r && absent('require')) lock(G, 'require', (name: unknown) => need<Cold>('cold').req(name));
    const lazies = setup.l;
    for (let i = 0; i < lazies.length; i++) {
      const names = lazies[i][1];
      for (let j = 0; j < names.length; j++) accessor(names[j], 'lazy', lazies[i]);
    }
    for (let i = 0; i < setup.h.length; i++) accessor(setup.h[i], 'host', setup);
  };
}
