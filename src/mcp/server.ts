/**
 * `createServer`: one MCP server (one client connection) over the memory store
 * and the sandbox. Tools, resources and prompts are registered with the SDK's
 * `registerTool`/`registerResource`/`registerPrompt`: the SDK validates tool
 * arguments against each tool's zod schema and its answer against the output
 * schema, and sends the list_changed notifications. Ours on top:
 * - `tools/list` orders enabled tools by persisted usage (most used first) and
 *   lists compact schemas (see listing.ts);
 * - the SDK's `tools/call` answers for unknown tools, tools not enabled yet and
 *   bad arguments, and its `resources/read` answer for impossible URIs, are
 *   reworded to say what was wrong and what to do (see sdkHandlers.ts);
 * - paged `resources/list`, subscriptions and change notifications (resources.ts).
 */
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type CallToolRequest,
  type CallToolResult,
  type ReadResourceRequest,
  type ResourceLink,
} from '@modelcontextprotocol/sdk/types.js';
import { version as packageVersion } from '../../package.json';
import type { Logger } from '../common/logger';
import type { MemoryStoreApi } from '../memory/types';
import type { SandboxEngine } from '../sandbox/types';
import { boundValue, DEFAULT_MAX_RESPONSE_CHARS } from './bound';
import { describeStoreError, ToolError } from './errors';
import { toolDefinition } from './listing';
import { episodeLinks } from './links';
import { clearPromptErrors, registerPrompts } from './prompts';
import { checkResourceUri, registerResources } from './resources';
import { PhrasingSampler, type PhrasingLimits } from './phrasingSampler';
import { wrapSdkHandlers, type Extra, type HandlerWrapper } from './sdkHandlers';
import { ALL_TOOLS } from './tools';
import type { DisclosureControl, McpTool, ServerStatus, ToolContext } from './tools/define';

/** Name in the initialize reply; VS Code derives `mcp_agent-memory_<tool>` from it (keep ≤ 13 chars). */
export const SERVER_NAME = 'agent-memory';
/** The extension's version (package.json is the one source; the bundles inline it). */
export const SERVER_VERSION: string = packageVersion;

/** Guidance shared by every tool, said once here instead of in each description. */
export const SERVER_INSTRUCTIONS = [
  'Episodic memory and a code sandbox for coding agents.',
  'Before a task: query_memory for similar past tasks and analyze_patterns for what worked (the recall prompt does both).',
  'During it: create_episode, then add_episode_step for each significant action (errors too).',
  'At the end: complete_episode with the outcome and an honest reflection, so the memory learns.',
  'An episode_id comes from create_episode, query_memory or list_episodes; the episode reads as Markdown at memory://episodes/{episode_id}.',
  'Paged answers carry next_offset while more remain: pass it as offset. A `truncated` field lists what was cut to keep an answer small.',
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
  /**
   * Whether to ask the client's model (MCP sampling) for alternative phrasings of each completed
   * task; read at every completion. Default: never. Only clients that declare sampling are asked.
   */
  samplePhrasings?: () => boolean;
  /** Bounds of those requests (defaults in phrasingSampler.ts). */
  phrasingLimits?: Partial<PhrasingLimits>;
}

interface Entry {
  tool: McpTool;
  index: number;
  handle: RegisteredTool;
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function resultText(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

export function createServer(options: CreateServerOptions): McpServer {
  const { store, sandbox, logger } = options;
  const maxChars = Math.max(2000, options.maxResponseChars ?? DEFAULT_MAX_RESPONSE_CHARS);
  const startedAt = new Date();
  const mcp = new McpServer(
    { name: SERVER_NAME, title: 'Agent Memory', version: SERVER_VERSION },
    {
      // No `tools` capability here: the first registerTool declares it (listChanged) and installs
      // the SDK's tools handlers, which withClearToolErrors must see being installed.
      instructions: SERVER_INSTRUCTIONS,
      debouncedNotificationMethods: ['notifications/tools/list_changed', 'notifications/resources/list_changed'],
    },
  );

  const entries = new Map<string, Entry>();
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

  const phrasings = new PhrasingSampler({ server: mcp.server, store, logger, enabled: options.samplePhrasings ?? (() => false), limits: options.phrasingLimits });
  const ctx: ToolContext = { store, sandbox, logger, maxResponseChars: maxChars, disclosure, serverStatus, phrasings };

  async function callTool(tool: McpTool, args: Record<string, unknown>, extra: Extra): Promise<CallToolResult> {
    const started = performance.now();
    try {
      const reply = await tool.handler(args, { ...ctx, signal: extra.signal });
      const links: ResourceLink[] = tool.annotations.destructiveHint ? [] : episodeLinks(reply.structured);
      const note = 200;
      const bounded = boundValue(reply.structured, maxChars - reply.text.length - note);
      const structured: Record<string, unknown> = bounded.cuts.length ? { ...bounded.value, truncated: bounded.cuts } : bounded.value;
      const json = bounded.cuts.length ? JSON.stringify(structured) : bounded.json;
      const text = `${reply.text}${bounded.cuts.length ? ` (Answer shortened to stay bounded: ${bounded.cuts.join('; ')}; use the paging parameters for more.)` : ''}\n${json}`;
      // Counted without waiting (the store keeps call order, so a later read sees it): the answer
      // does not depend on it, and with the store in a worker each wait is a thread round trip.
      store.recordToolCall(tool.name).catch((error: unknown) => logger.debug(`MCP: could not record usage of ${tool.name}`, error));
      logger.trace(`MCP: ${tool.name} ok in ${(performance.now() - started).toFixed(1)} ms`);
      return { content: [{ type: 'text', text }, ...links], structuredContent: structured };
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

  const wrappers = new Map<unknown, HandlerWrapper>([
    [CallToolRequestSchema, clearToolErrors(entries, logger)],
    [ReadResourceRequestSchema, clearResourceErrors],
    [GetPromptRequestSchema, clearPromptErrors],
  ]);
  let disposeResources = (): void => undefined;
  wrapSdkHandlers(mcp.server, wrappers, () => {
    ALL_TOOLS.forEach((tool, index) => {
      const handle = mcp.registerTool(
        tool.name,
        { title: tool.title, description: tool.description, inputSchema: tool.input, outputSchema: tool.output, annotations: tool.annotations },
        (args: Record<string, unknown>, extra: Extra) => callTool(tool, args, extra),
      );
      if (tool.tier === 'advanced' && options.disclosure !== 'all') handle.disable();
      entries.set(tool.name, { tool, index, handle });
    });
    disposeResources = registerResources(mcp, { store, logger });
    registerPrompts(mcp, { store, logger });
  });

  // Replaces the SDK's tools/list: same enabled tools, ordered by use, with compact schemas.
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

  const previousOnClose = mcp.server.onclose;
  mcp.server.onclose = () => {
    phrasings.close();
    disposeResources();
    previousOnClose?.();
  };
  return mcp;
}

/**
 * The SDK's tools/call, wrapped: a call to an unknown tool or to an advanced
 * tool not enabled yet is answered with what to call instead, and the SDK's
 * argument error ("Input validation error: … at query") is replaced by the
 * tool's own wording (each field, the value received, the parameters).
 */
function clearToolErrors(entries: Map<string, Entry>, logger: Logger): HandlerWrapper {
  return (sdkHandler) => async (request: CallToolRequest, extra) => {
    const name = request.params.name;
    const entry = entries.get(name);
    if (!entry) {
      const listed = [...entries.values()].filter((e) => e.handle.enabled).map((e) => e.tool.name);
      return errorResult(`Unknown tool "${name}". Available tools: ${listed.join(', ')}.`);
    }
    if (!entry.handle.enabled) {
      return errorResult(`Tool "${name}" is an advanced tool and is not enabled yet: call discover_tools (optionally with {"tools": ["${name}"]}) first.`);
    }
    const result = (await sdkHandler(request, extra)) as CallToolResult;
    if (!result.isError) return result;
    const text = resultText(result);
    if (text.includes('Input validation error')) {
      const explained = entry.tool.explainInvalid(request.params.arguments);
      if (explained) return errorResult(explained);
    }
    if (text.includes('Output validation error')) {
      logger.error(`MCP: ${name} produced an answer outside its output schema: ${text}`);
      return errorResult(`Internal error in ${name}: the answer did not match the tool's output schema.`);
    }
    return result;
  };
}

/** The SDK's resources/read, wrapped: a URI no resource can have is refused with the URI forms. */
const clearResourceErrors: HandlerWrapper = (sdkHandler) => (request: ReadResourceRequest, extra) => {
  checkResourceUri(request.params.uri);
  return sdkHandler(request, extra);
};
