// esbuild plugin: `import source from 'guest-bundle:NAME'` gives the text of
// src/sandbox/guest/NAME.ts bundled for the QuickJS guest (minified, ES2022, no
// Node APIs) as a script whose completion value is the entry's default export.
// The sandbox engine evaluates these strings inside each guest context. Used by
// esbuild.config.mjs and by the sandbox tests' worker build (one definition).
import * as esbuild from 'esbuild';
import path from 'node:path';

const PREFIX = 'guest-bundle:';
const GUEST_DIR = path.resolve(import.meta.dirname, '..', 'src', 'sandbox', 'guest');
const DEFAULT_EXPORT = /export\s*\{\s*([\w$]+)\s+as\s+default\s*\}\s*;?\s*$/;

/** Bundles one guest entry into an expression-valued script. */
export async function bundleGuest(name) {
  const entry = path.join(GUEST_DIR, `${name}.ts`);
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text.trim();
  const m = DEFAULT_EXPORT.exec(code);
  if (!m) throw new Error(`guest entry ${name}.ts must end with a default export (esbuild output did not)`);
  // Strict mode for the whole module; the completion value of the script is the default export.
  const source = `(function(){"use strict";${code.slice(0, m.index)}return ${m[1]}})()`;
  return { source, inputs: Object.keys(result.metafile.inputs).map((p) => path.resolve(p)) };
}

/** The plugin: resolves `guest-bundle:NAME` imports to `export default "<source>"`. */
export const guestBundlePlugin = {
  name: 'guest-bundle',
  setup(build) {
    build.onResolve({ filter: /^guest-bundle:/ }, (args) => ({ path: args.path.slice(PREFIX.length), namespace: 'guest-bundle' }));
    build.onLoad({ filter: /.*/, namespace: 'guest-bundle' }, async (args) => {
      const { source, inputs } = await bundleGuest(args.path);
      return { contents: `export default ${JSON.stringify(source)};`, loader: 'js', watchFiles: inputs };
    });
  },
};
