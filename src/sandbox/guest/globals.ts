/**
 * What the first touch of a global the prelude installed as an accessor does
 * (compiled then, once per run): kept out of the prelude, which is compiled in
 * every context. A lazily installed global compiles its module and replaces the
 * accessors of all the module's globals with plain, writable values; a host
 * global compiles the host module, which replaces its accessors with locked values.
 */
import type { Globals, HostModule, Intrinsics, Setup } from './types';

export default function globals(I: Intrinsics): Globals {
  const { G, defineProperty, getOwnPropertyDescriptor, hasOwn, need } = I;
  return {
    lazy(name: string, [module, names]: readonly [string, readonly string[]]): unknown {
      const exports = need<Record<string, unknown>>(module);
      for (let i = 0; i < names.length; i++) {
        const d = getOwnPropertyDescriptor(G, names[i]);
        // Only globals still untouched: a value the guest assigned meanwhile stays.
        if (d && d.get && !hasOwn(d, 'value')) defineProperty(G, names[i], { __proto__: null, value: exports[names[i]], writable: true, enumerable: false, configurable: true } as PropertyDescriptor);
      }
      return exports[name];
    },
    host(name: string, setup: Setup): unknown {
      if (!I.settle) {
        const host = need<HostModule>('host');
        I.settle = host.settle;
        host.install(setup);
      }
      // A touch that finds no value (the install failed) gets undefined.
      const d = getOwnPropertyDescriptor(G, name);
      return d && hasOwn(d, 'value') ? (d.value as unknown) : undefined;
    },
  };
}
