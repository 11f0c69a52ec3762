/** Console markers shared by the extension-host suite and the headless launcher (no imports). */

/** Marks the runner's own lines so a launcher can pick them out of the host's console noise. */
export const OUTPUT_MARKER = '[mocha] ';

/** A console line the headless launcher answers with a screenshot of the workbench. */
export const SCREENSHOT_MARKER = '[screenshot] ';
