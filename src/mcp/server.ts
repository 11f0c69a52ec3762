/**
 * `createServer`: one MCP server (one client connection) over the memory store
 * and the sandbox. Tools are registered with `McpServer.registerTool` (so
 * enabling an advanced tool sends `notifications/tools/list_changed`), and two
 * request handlers are replaced:
 * - `tools/list` orders enabled tools by persisted usage (most used first);
 * - `tools/call` validates arguments itself so that every bad argument comes
 *   back as an `isError` result naming the field and the problem, bounds the
 *   answer, validates it against the output schema and counts the call.
 */
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Logger } from '../common/logger';
import type { MemoryStoreApi } from '../memory/types';
import type { SandboxEngine } from '../sandbox/types';
import { boundValue, DEFAULT_MAX_RESPONSE_CHARS } from './bound';
import { describeStoreError, ToolError } from './errors';
import { ALL_TOOLS } from './tools';
import type { DisclosureControl, McpTool, ServerStatus, ToolContext } from './tools/define';

/** Name in the initialize reply; VS Code derives `mcp_agent-memory_<tool>` from it (keep ≤ 13 chars). */
export const SERVER_NAME = 'agent-memory';
export const SERVER_VERSION = '0.1.0';

export const SERVER_INSTRUCTIONS = [
  'Episodic memory and a code sandbox for coding agents.',
  'Before a task: query_memory for similar past tasks and analyze_patterns for what worked.',
  'During it: create_episode, then add_episode_step for each significant action (errors too).',
  'At the end: complete_episode with the outcome, so the memory learns.',
  'execute_agent_code runs JavaScript/TypeScript in an isolated sandbox with a read-only `memory` object (memory.query, memory.getEpisode, memory.analyzePatterns) to filter memory in code.',
  'More tools (list_episodes, delete_episode, export_memory) are enabled with discover_tools.',
].join(' ');

export interface CreateServerOptions {
  store: MemoryStoreApi;
  sandbox: SandboxEngine;
  logger: Logger;
  /** Text budget per answer in characters (default 32,000, about 8k tokens). */
  maxResponseChars?: number;
  /** 'progressive' (default): advanced tools hidden until discover_tools; 'all': every tool listed. */
  disclosure?: 'progressive' | 'all';
  /** Transport label reported by health_check. */
  transport?: string;
  /** Live session count reported by health_check (HTTP host). */
  sessions?: () => number;
}

/** Registered input schema: accepts any object; the real (strict) schema is applied in the call handler. */
const PERMISSIVE_INPUT = z.looseObject({});

interface Entry {
  tool: McpTool;
  index: number;
  handle: RegisteredTool;
}

const definitionCache = new WeakMap<McpTool, Tool>();

/** The `tools/list` entry of a tool: JSON Schemas generated once from its zod schemas. */
export function toolDefinition(tool: McpTool): Tool {
  let def = definitionCache.get(tool);
  if (!def) {
    def = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: z.toJSONSchema(tool.input, { io: 'input', target: 'draft-7' }) as Tool['inputSchema'],
      outputSchema: z.toJSONSchema(tool.output, { io: 'output', target: 'draft-7' }) as Tool['outputSchema'],
      annotations: tool.annotations,
    };
    definitionCache.set(tool, def);
  }
  return def;
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

export function createServer(options: CreateServerOptions): McpServer {
  const { store, sandbox, logger } = options;
  const maxChars = Math.max(2000, options.maxResponseChars ?? DEFAULT_MAX_RESPONSE_CHARS);
  const startedAt = new Date();
  const mcp = new McpServer(
    { name: SERVER_NAME, title: 'Agent Memory', version: SERVER_VERSION },
    {
      capabilities: { tools: { listChanged: true } },
      instructions: SERVER_INSTRUCTIONS,
      debouncedNotificationMethods: ['notifications/tools/list_changed'],
    },
  );

  const entries = new Map<string, Entry>();
  ALL_TOOLS.forEach((tool, index) => {
    const handle = mcp.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: PERMISSIVE_INPUT, annotations: tool.annotations },
      // Never reached: tools/call is handled below. Kept so the SDK's registration stays valid.
      () => errorResult('unreachable'),
    );
    if (tool.tier === 'advanced' && options.disclosure !== 'all') handle.disable();
    entries.set(tool.name, { tool, index, handle });
  });

  const disclosure: DisclosureControl = {
    advanced: () =>
      [...entries.values()]
        .filter((e) => e.tool.tier === 'advanced')
        .map((e) => ({ name: e.tool.name, title: e.tool.title, description: e.tool.description, enabled: e.handle.enabled })),
    enable: (names) => {
      const newly: string[] = [];
      for (const e of entries.values()) {
        if (e.tool.tier !== 'advanced' || e.handle.enabled) continue;
        if (names && !names.includes(e.tool.name)) continue;
        e.handle.enable(); // sends notifications/tools/list_changed (debounced)
        newly.push(e.tool.name);
      }
      if (newly.length) logger.info(`MCP: advanced tools enabled: ${newly.join(', ')}`);
      return newly;
    },
  };

  const serverStatus = (): ServerStatus => ({
    name: SERVER_NAME,
    version: SERVER_VERSION,
    transport: options.transport ?? 'unknown',
    startedAt: startedAt.toISOString(),
    uptimeS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    toolsEnabled: [...entries.values()].filter((e) => e.handle.enabled).length,
    ...(options.sessions ? { sessions: options.sessions() } : {}),
  });

  const ctx: ToolContext = { store, sandbox, logger, maxResponseChars: maxChars, disclosure, serverStatus };

  mcp.server.setRequestHandler(ListToolsRequestSchema, async () => {
    let usage: Record<string, number> = {};
    try {
      usage = await store.toolUsage();
    } catch (error) {
      logger.debug('MCP: tool usage unavailable for ordering', error);
    }
    const enabled = [...entries.values()].filter((e) => e.handle.enabled);
    enabled.sort((a, b) => (usage[b.tool.name] ?? 0) - (usage[a.tool.name] ?? 0) || a.index - b.index);
    return { tools: enabled.map((e) => toolDefinition(e.tool)) };
  });

  mcp.server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name;
    const entry = entries.get(name);
    if (!entry) {
      const listed = [...entries.values()].filter((e) => e.handle.enabled).map((e) => e.tool.name);
      return errorResult(`Unknown tool "${name}". Available tools: ${listed.join(', ')}.`);
    }
    if (!entry.handle.enabled) {
      return errorResult(`Tool "${name}" is an advanced tool and is not enabled yet: call discover_tools (optionally with {"tools": ["${name}"]}) first.`);
    }
    return callTool(entry.tool, request.params.arguments, extra.signal);
  });

  async function callTool(tool: McpTool, args: unknown, signal: AbortSignal): Promise<CallToolResult> {
    const started = performance.now();
    try {
      const reply = await tool.run(args, { ...ctx, signal });
      const checked = tool.output.safeParse(reply.structured);
      if (!checked.success) {
        logger.error(`MCP: ${tool.name} produced an answer outside its output schema: ${checked.error.message}`);
        return errorResult(`Internal error in ${tool.name}: the answer did not match the tool's output schema.`);
      }
      const note = 200;
      const bounded = boundValue(reply.structured, maxChars - reply.text.length - note);
      const structured: Record<string, unknown> = bounded.cuts.length ? { ...bounded.value, truncated: bounded.cuts } : bounded.value;
      const json = bounded.cuts.length ? JSON.stringify(structured) : bounded.json;
      const text = `${reply.text}${bounded.cuts.length ? ` (Answer shortened to stay bounded: ${bounded.cuts.join('; ')}; use the paging parameters for more.)` : ''}\n${json}`;
      try {
        await store.recordToolCall(tool.name);
      } catch (error) {
        logger.debug(`MCP: could not record usage of ${tool.name}`, error);
      }
      logger.trace(`MCP: ${tool.name} ok in ${(performance.now() - started).toFixed(1)} ms`);
      return { content: [{ type: 'text', text }], structuredContent: structured };
    } catch (error) {
      if (error instanceof ToolError) {
        logger.debug(`MCP: ${tool.name} refused: ${error.message}`);
        return errorResult(error.message);
      }
      const storeMessage = describeStoreError(error);
      if (storeMessage) {
        logger.warn(`MCP: ${tool.name} failed in the store: ${storeMessage}`);
        return errorResult(storeMessage);
      }
      logger.error(`MCP: ${tool.name} failed unexpectedly`, error);
      return errorResult(`Internal error in ${tool.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  return mcp;
}
