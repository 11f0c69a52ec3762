/** Guest runtime bundles (src/sandbox/guest/NAME.ts), inlined as text at build time by scripts/guest-bundle.mjs. */
declare module 'guest-bundle:*' {
  const source: string;
  export default source;
}
