/**
 * The `tools/list` entry of a tool, kept compact because a client puts the
 * whole listing in every model request's context:
 * - the input schema is the zod schema's JSON Schema without `$schema`, the
 *   nested `additionalProperties: false` and the string and list length limits
 *   (the server still enforces them, and its error names the field and limit);
 * - the output schema names the top-level fields and their types only (the
 *   answer is validated against the full zod schema on the server), less the
 *   `truncated` note every answer may carry;
 * - annotations leave out what `title` or the spec's defaults already say.
 */
import type { Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { McpTool } from './tools/define';

type JsonSchema = Record<string, unknown>;

const LENGTH_LIMITS = new Set(['minLength', 'maxLength', 'minItems', 'maxItems']);

function withoutNoise(schema: unknown, top: boolean): unknown {
  if (Array.isArray(schema)) return schema.map((s) => withoutNoise(s, false));
  if (!schema || typeof schema !== 'object') return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema as JsonSchema)) {
    if (key === '$schema') continue;
    if (key === 'additionalProperties' && value === false && !top) continue;
    if (LENGTH_LIMITS.has(key)) continue;
    if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value as JsonSchema).map(([name, s]) => [name, withoutNoise(s, false)]));
      continue;
    }
    out[key] = withoutNoise(value, false);
  }
  return out;
}

function topLevelOnly(schema: JsonSchema): JsonSchema {
  const properties = Object.fromEntries(
    Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)
      .filter(([name]) => name !== 'truncated') // explained once in the server instructions
      .map(([name, s]) => [name, s.type ? { type: s.type, ...(s.enum ? { enum: s.enum } : {}) } : {}]),
  );
  const required = schema.required as string[] | undefined;
  return { type: 'object', properties, ...(required?.length ? { required } : {}) };
}

/** Annotations without what `title` says or the spec's defaults imply (destructive/idempotent only matter when not read-only). */
function compactAnnotations(a: ToolAnnotations): ToolAnnotations {
  const out: ToolAnnotations = { readOnlyHint: a.readOnlyHint === true };
  if (!a.readOnlyHint) {
    out.destructiveHint = a.destructiveHint !== false;
    if (a.idempotentHint) out.idempotentHint = true;
  }
  if (a.openWorldHint === false) out.openWorldHint = false;
  return out;
}

const cache = new WeakMap<McpTool, Tool>();

export function toolDefinition(tool: McpTool): Tool {
  let def = cache.get(tool);
  if (!def) {
    def = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: withoutNoise(z.toJSONSchema(tool.input, { io: 'input', target: 'draft-7' }), true) as Tool['inputSchema'],
      outputSchema: topLevelOnly(z.toJSONSchema(tool.output, { io: 'output', target: 'draft-7' })) as Tool['outputSchema'],
      annotations: compactAnnotations(tool.annotations),
    };
    cache.set(tool, def);
  }
  return def;
}
