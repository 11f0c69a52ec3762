/**
 * The shape every tool file exports: zod input and output schemas, a title, a
 * description written for a model, annotations, and a typed handler. The server
 * registers them with the SDK (which validates arguments and answers); when the
 * arguments are bad, `explainInvalid` words the error result: each field, the
 * problem, the value received and the tool's parameters.
 */
import { z } from 'zod';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../common/logger';
import type { MemoryStoreApi } from '../../memory/types';
import type { SandboxEngine } from '../../sandbox/types';
import { formatIssues } from '../errors';
import type { PhrasingTask } from '../phrasingSampler';

export type ToolTier = 'core' | 'advanced';

export interface ToolReply<O> {
  /** The machine-readable answer (becomes `structuredContent`). */
  structured: O;
  /** One or two readable lines summing the answer up. */
  text: string;
}

export interface DisclosureControl {
  /** The advanced tools, hidden until enabled, with their state in this session. */
  advanced(): { name: string; title: string; description: string; enabled: boolean }[];
  /** Enables the named advanced tools (all when omitted); returns the names newly enabled. */
  enable(names?: string[]): string[];
}

export interface ServerStatus {
  name: string;
  version: string;
  transport: string;
  startedAt: string;
  uptimeS: number;
  toolsEnabled: number;
  sessions?: number;
}

export interface ToolContext {
  store: MemoryStoreApi;
  sandbox: SandboxEngine;
  logger: Logger;
  maxResponseChars: number;
  disclosure: DisclosureControl;
  serverStatus: () => ServerStatus;
  /** Asks the client's model for phrasings of a completed task, after the answer (never waits, never throws). */
  phrasings?: { suggest(task: PhrasingTask): void };
  /** Aborted when the client cancels the call. */
  signal?: AbortSignal;
}

export interface ToolSpec<I extends z.ZodObject, O extends z.ZodObject> {
  name: string;
  title: string;
  description: string;
  tier: ToolTier;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  handler(args: z.output<I>, ctx: ToolContext): Promise<ToolReply<z.output<O>>>;
}

/** A tool with its types erased, as the server registers it. */
export interface McpTool {
  name: string;
  title: string;
  description: string;
  tier: ToolTier;
  input: z.ZodObject;
  output: z.ZodObject;
  annotations: ToolAnnotations;
  /** Runs the tool on arguments already validated by `input`. */
  handler(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolReply<Record<string, unknown>>>;
  /** The error text for arguments `input` rejects, or undefined when they are valid. */
  explainInvalid(raw: unknown): string | undefined;
}

/** Added to every output schema: notes of what the size bound cut from the answer (explained once in the server instructions). */
export const truncatedField = z.array(z.string()).optional();

function parameterHint(schema: z.ZodObject): string {
  const parts = Object.entries(schema.shape).map(([key, s]) => {
    const optional = (s as z.ZodType).safeParse(undefined).success;
    return optional ? `${key}?` : key;
  });
  return parts.length ? `Parameters: ${parts.join(', ')}.` : 'This tool takes no parameters: pass {}.';
}

export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(spec: ToolSpec<I, O>): McpTool {
  const hint = parameterHint(spec.input);
  const output = spec.output.extend({ truncated: truncatedField });
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    tier: spec.tier,
    input: spec.input,
    output,
    annotations: spec.annotations,
    handler: (args, ctx) => spec.handler(args as z.output<I>, ctx),
    explainInvalid(raw) {
      const parsed = spec.input.safeParse(raw ?? {});
      if (parsed.success) return undefined;
      return `Invalid arguments for ${spec.name}: ${formatIssues(parsed.error.issues, raw ?? {}).join('; ')}. ${hint}`;
    },
  };
}
