/**
 * Size limits of what the store accepts, stated once and all in characters (String.length,
 * UTF-16 code units) or counts. The MCP tools import these where the fact is the store's
 * and state their own only where a model-facing bound is tighter.
 */
export const LIMITS = {
  /** A task, an action, an error message, an outcome's reason or details. */
  text: 20_000,
  /** A tool, domain, language, framework or tag name. */
  short: 200,
  /** An episode id. */
  id: 100,
  /** Items in an outcome list or a reflection list. */
  list: 200,
  /** One outcome list item (artifact, completed, failed). */
  item: 2000,
  /** One reflection line. */
  reflectionLine: 4000,
  /** A successful step's output. */
  output: 100_000,
  /** A step's parameters, as JSON text. */
  parametersJson: 20_000,
  /** Steps one episode may hold. */
  steps: 10_000,
  /** Tags in a task context. */
  tags: 50,
  /** Alternative phrasings kept per task (sampling, see TaskContext.phrasings). */
  phrasings: 5,
  /** A query or one of its expansions. */
  query: 4000,
} as const;
