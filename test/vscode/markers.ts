/** Console markers shared by the extension-host suite and the headless launcher (no imports). */

/** Marks the runner's own lines so a launcher can pick them out of the host's console noise. */
export const OUTPUT_MARKER = '[mocha] ';

/** A console line the headless launcher answers with a screenshot of the workbench. */
export const SCREENSHOT_MARKER = '[screenshot] ';

/**
 * A console line `[dom-text] <name> <css selector>` the headless launcher answers by writing the
 * inner texts of the workbench elements matching the selector, as a JSON array, to
 * test-results/dom/<name>.json (what a person sees in a quick pick or a suggest list).
 */
export const DOM_TEXT_MARKER = '[dom-text] ';

/** A console line `[type] <text>` the headless launcher answers by typing the text into the focused element, as a person would. */
export const TYPE_MARKER = '[type] ';
