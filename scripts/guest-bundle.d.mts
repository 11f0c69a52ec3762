import type { Plugin } from 'esbuild';
export declare function bundleGuest(name: string): Promise<{ source: string; inputs: string[] }>;
export declare const guestBundlePlugin: Plugin;
