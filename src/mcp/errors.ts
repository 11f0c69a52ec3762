/**
 * Error helpers: every failure a tool can meet becomes a short, exact message a
 * model can act on (which field, what was wrong, what to do next).
 */
import type { z } from 'zod';
import { MEMORY_ERROR_CODES } from '../memory/types';

/** A failure the caller caused or can fix; its message is returned verbatim as an `isError` result. */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

const STORE_CODES = new Set<string>(MEMORY_ERROR_CODES);

/** Duck-typed check for the store's `MemoryError` (the MCP layer codes against types only). */
export function storeErrorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = (error).code;
    if (typeof code === 'string' && STORE_CODES.has(code)) return code;
  }
  return undefined;
}

/** Turns a store error into a message that says what happened and what to do. */
export function describeStoreError(error: unknown, what?: string): string | undefined {
  const code = storeErrorCode(error);
  if (!code) return undefined;
  const detail = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'not_found':
      return `${what ?? 'Not found'}: ${detail}`;
    case 'invalid':
      return `Invalid request: ${detail}`;
    case 'conflict':
      return `Conflict: ${detail}`;
    case 'read_only':
      return `The memory store is open read-only (another process owns it), so nothing was written: ${detail}`;
    case 'closed':
      return `The memory store is closed: ${detail}`;
    case 'locked':
      return `The memory store is locked by another process: ${detail}`;
    case 'corrupt':
      return `The memory store is damaged: ${detail}`;
    case 'unavailable':
      return `The memory store's worker stopped: ${detail}`;
    default:
      return detail;
  }
}

export function unknownEpisode(id: string): ToolError {
  return new ToolError(`Unknown episode_id "${id}": no episode has this id. Use query_memory or list_episodes to find episode ids.`);
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : `"${v}"`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${v}`;
  return typeof v;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

export function dotPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** One line per zod issue, each naming the field, the problem and the value received. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  return issues.slice(0, 8).map((issue) => {
    const field = dotPath(issue.path);
    const where = field ? `"${field}"` : 'arguments';
    switch (issue.code) {
      case 'unrecognized_keys':
        return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      case 'invalid_type': {
        const got = valueAt(input, issue.path);
        if (got === undefined) return `${where}: required (${issue.expected}) but missing`;
        return `${where}: expected ${issue.expected}, got ${describeValue(got)}`;
      }
      case 'invalid_value':
        return `${where}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(valueAt(input, issue.path))}`;
      case 'too_big':
      case 'too_small': {
        if (!/^Too (big|small)/.test(issue.message)) return `${where}: ${issue.message}`;
        const got = valueAt(input, issue.path);
        const limit = Number(issue.code === 'too_big' ? issue.maximum : issue.minimum);
        const most = issue.code === 'too_big';
        if (issue.origin === 'string' && typeof got === 'string') return `${where}: is too ${most ? 'long' : 'short'} (${most ? 'max' : 'min'} ${limit} characters, got ${got.length})`;
        if (issue.origin === 'array' && Array.isArray(got)) return `${where}: has too ${most ? 'many' : 'few'} items (${most ? 'max' : 'min'} ${limit}, got ${got.length})`;
        return `${where}: must be ${most ? 'at most' : 'at least'} ${limit}, got ${describeValue(got)}`;
      }
      default:
        return `${where}: ${issue.message}`;
    }
  });
}

/** JSON-RPC code for a resource that does not exist (MCP specification). */
export const RESOURCE_NOT_FOUND = -32002;

/**
 * An error the SDK answers as a JSON-RPC error with this code and exactly this
 * message (an `McpError` would carry its "MCP error <code>:" prefix, which the
 * client adds again).
 */
export function protocolError(code: number, message: string, data?: unknown): Error {
  return Object.assign(new Error(message), { code, ...(data !== undefined ? { data } : {}) });
}
