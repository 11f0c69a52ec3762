/**
 * MCP resources: every episode as Markdown at `memory://episodes/{episode_id}`
 * and the learned patterns per task type or domain at
 * `memory://patterns/task-type/{task_type}` / `memory://patterns/domain/{domain}`,
 * registered with the SDK's `registerResource` (templates with completion).
 * Ours on top of the SDK:
 * - `resources/list` is paged (cursor): the task-type pattern resources, then
 *   recent episodes newest first, one store page per request;
 * - `resources/list_changed` when episodes are added, completed or removed, and
 *   `resources/updated` for subscribed episodes that receive steps or finish.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  ErrorCode,
  ListResourcesRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type ListResourcesResult,
  type ReadResourceResult,
  type Resource,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../common/logger';
import { TASK_TYPES, type EpisodeSummary, type MemoryStoreApi, type Pattern, type TaskType } from '../memory/types';
import { episodeMarkdown } from './episodeMarkdown';
import { describeStoreError, protocolError, RESOURCE_NOT_FOUND } from './errors';
import { EPISODE_URI_PREFIX, EPISODE_URI_TEMPLATE, episodeUri, MARKDOWN, PATTERNS_URI_PREFIX, PATTERNS_URI_TEMPLATES, patternsUri, type PatternScope } from './links';
import { patternsMarkdown } from './patternsMarkdown';

/** Steps an episode resource shows (one store page; get_episode pages through longer ones). */
export const RESOURCE_STEPS = 1000;
/** Episodes per `resources/list` page. */
export const RESOURCE_PAGE_SIZE = 50;
/** Recent episodes an id prefix is completed against (a bounded window, not the whole store). */
const COMPLETION_WINDOW = 200;
const MAX_COMPLETIONS = 20;

export const RESOURCE_URI_HELP = `Episodes are ${EPISODE_URI_TEMPLATE} (ids from resources/list, query_memory or list_episodes); patterns are ${PATTERNS_URI_TEMPLATES['task-type']} (one of ${TASK_TYPES.join(', ')}) or ${PATTERNS_URI_TEMPLATES.domain}.`;

export interface ResourceDeps {
  store: MemoryStoreApi;
  logger: Logger;
}

function decode(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v[0] : v;
  try {
    return decodeURIComponent(s ?? '');
  } catch {
    return s ?? '';
  }
}

function markdown(uri: string, text: string): ReadResourceResult {
  return { contents: [{ uri, mimeType: MARKDOWN, text }] };
}

/** Store errors (read-only, locked, closed…) answered with the store's explanation. */
function storeFailure(error: unknown): never {
  const message = describeStoreError(error);
  throw message ? protocolError(ErrorCode.InternalError, message) : error;
}

export function episodeResource(s: EpisodeSummary): Resource {
  const status = s.outcome ?? 'open';
  return {
    uri: episodeUri(s.id),
    name: s.id,
    title: s.task.length > 80 ? `${s.task.slice(0, 79)}…` : s.task,
    description: `${status}${s.reward !== undefined ? ` (reward ${s.reward.toFixed(2)})` : ''} · ${s.taskType} · ${s.domain} · ${s.stepCount} step${s.stepCount === 1 ? '' : 's'}`,
    mimeType: MARKDOWN,
  };
}

function taskTypeResource(t: TaskType): Resource {
  return { uri: patternsUri('task-type', t), name: `patterns-${t}`, title: `Patterns: ${t}`, description: `What worked in ${t} tasks (learned patterns and heuristics).`, mimeType: MARKDOWN };
}

/** The patterns an episode is evidence of (patterns are learned when an episode completes). */
async function patternsOf(store: MemoryStoreApi, id: string, taskType: TaskType, domain: string): Promise<Pattern[]> {
  const { patterns } = await store.analyzePatterns({ taskType, domain, minSuccessRate: 0, limit: 50 });
  return patterns.filter((p) => p.evidence.includes(id));
}

export async function readEpisode(store: MemoryStoreApi, id: string): Promise<ReadResourceResult> {
  const page = await store.getEpisodePage(id, { limit: RESOURCE_STEPS }).catch(storeFailure);
  if (!page) {
    throw protocolError(RESOURCE_NOT_FOUND, `Unknown episode "${id}": no episode has this id (it may have been deleted). Find ids with resources/list, query_memory or list_episodes.`, { uri: episodeUri(id) });
  }
  const { episode, stepCount } = page;
  const patterns = episode.outcome ? await patternsOf(store, id, episode.taskType, episode.domain).catch(storeFailure) : [];
  return markdown(episodeUri(id), episodeMarkdown(episode, stepCount, patterns));
}

async function readPatterns(store: MemoryStoreApi, scope: PatternScope, value: string): Promise<ReadResourceResult> {
  if (scope === 'task-type' && !(TASK_TYPES as readonly string[]).includes(value)) {
    throw protocolError(ErrorCode.InvalidParams, `Unknown task type "${value}" in ${patternsUri(scope, value)}: use one of ${TASK_TYPES.join(', ')}.`);
  }
  const result = await store
    .analyzePatterns({ ...(scope === 'task-type' ? { taskType: value as TaskType } : { domain: value }), minSuccessRate: 0, limit: 50 })
    .catch(storeFailure);
  return markdown(patternsUri(scope, value), patternsMarkdown(scope === 'task-type' ? `task type ${value}` : `domain ${value}`, result.patterns, result.heuristics));
}

/** Episode ids starting with `value` among recent episodes, then episodes whose task matches its words. */
export async function completeEpisodeId(store: MemoryStoreApi, value: string): Promise<string[]> {
  const prefix = value.trim().toLowerCase();
  const found = new Set<string>();
  const recent = await store.listEpisodes({ limit: prefix ? COMPLETION_WINDOW : MAX_COMPLETIONS });
  for (const e of recent.episodes) if (e.id.toLowerCase().startsWith(prefix) && found.size < MAX_COMPLETIONS) found.add(e.id);
  if (prefix.length >= 2 && found.size < MAX_COMPLETIONS) {
    const { hits } = await store.query({ query: value.slice(0, 200), limit: MAX_COMPLETIONS });
    for (const h of hits) if (found.size < MAX_COMPLETIONS) found.add(h.episode.id);
  }
  return [...found];
}

/** Domains that have patterns, starting with `value`. */
export async function completeDomain(store: MemoryStoreApi, value: string): Promise<string[]> {
  const v = value.toLowerCase();
  const domains = new Set((await store.listPatterns({ limit: 500 })).map((p) => p.domain));
  return [...domains].filter((d) => d.toLowerCase().startsWith(v)).sort().slice(0, MAX_COMPLETIONS);
}

function parseCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const n = /^\d{1,9}$/.test(cursor) ? Number(cursor) : NaN;
  if (!Number.isSafeInteger(n)) throw protocolError(ErrorCode.InvalidParams, `Invalid cursor "${cursor.slice(0, 40)}": pass the nextCursor of the previous resources/list answer unchanged, or none for the first page.`);
  return n;
}

/** Refuses a URI no resource can have, before the SDK's generic "not found". */
export function checkResourceUri(uri: string): void {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw protocolError(ErrorCode.InvalidParams, `"${uri.slice(0, 200)}" is not a valid URI. ${RESOURCE_URI_HELP}`);
  }
  const s = parsed.toString();
  const known = (s.startsWith(EPISODE_URI_PREFIX) && s.length > EPISODE_URI_PREFIX.length) || s.startsWith(`${PATTERNS_URI_PREFIX}task-type/`) || s.startsWith(`${PATTERNS_URI_PREFIX}domain/`);
  if (!known) throw protocolError(RESOURCE_NOT_FOUND, `Unknown resource "${uri.slice(0, 200)}". ${RESOURCE_URI_HELP}`);
}

/** Registers the resources on `mcp`; returns the disposer of the store subscription. */
export function registerResources(mcp: McpServer, { store, logger }: ResourceDeps): () => void {
  mcp.registerResource(
    'episode',
    new ResourceTemplate(EPISODE_URI_TEMPLATE, { list: undefined, complete: { episode_id: (v) => completeEpisodeId(store, v) } }),
    { title: 'Episode', description: 'One recorded episode as Markdown: task, context, steps, errors and recoveries, outcome, reflection, patterns.', mimeType: MARKDOWN },
    (_uri, vars) => readEpisode(store, decode(vars.episode_id)),
  );
  mcp.registerResource(
    'patterns-by-task-type',
    new ResourceTemplate(PATTERNS_URI_TEMPLATES['task-type'], { list: undefined, complete: { task_type: (v) => TASK_TYPES.filter((t) => t.startsWith(v)) } }),
    { title: 'Patterns by task type', description: 'Learned patterns and heuristics for one task type, as Markdown.', mimeType: MARKDOWN },
    (_uri, vars) => readPatterns(store, 'task-type', decode(vars.task_type)),
  );
  mcp.registerResource(
    'patterns-by-domain',
    new ResourceTemplate(PATTERNS_URI_TEMPLATES.domain, { list: undefined, complete: { domain: (v) => completeDomain(store, v) } }),
    { title: 'Patterns by domain', description: 'Learned patterns and heuristics for one domain, as Markdown.', mimeType: MARKDOWN },
    (_uri, vars) => readPatterns(store, 'domain', decode(vars.domain)),
  );

  // Paged listing instead of the SDK's (which has no cursor): one store page per request.
  mcp.server.setRequestHandler(ListResourcesRequestSchema, async (request): Promise<ListResourcesResult> => {
    const offset = parseCursor(request.params?.cursor);
    const page = await store.listEpisodes({ limit: RESOURCE_PAGE_SIZE, offset }).catch(storeFailure);
    const end = offset + page.episodes.length;
    return {
      resources: [...(offset === 0 ? TASK_TYPES.map(taskTypeResource) : []), ...page.episodes.map(episodeResource)],
      ...(end < page.total && page.episodes.length > 0 ? { nextCursor: String(end) } : {}),
    };
  });

  const subscribed = new Set<string>();
  mcp.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  mcp.server.setRequestHandler(SubscribeRequestSchema, (request) => {
    checkResourceUri(request.params.uri);
    subscribed.add(new URL(request.params.uri).toString());
    return {};
  });
  mcp.server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    subscribed.delete(request.params.uri);
    return {};
  });

  const updated = (uri: string): void => {
    if (subscribed.has(uri)) mcp.server.sendResourceUpdated({ uri }).catch((e: unknown) => logger.debug(`MCP: resources/updated for ${uri} not sent`, e));
  };
  const subscription = store.onDidChange((change) => {
    if (!mcp.isConnected()) return;
    if (change.type === 'episode_updated') return updated(episodeUri(change.episodeId));
    if ('episodeId' in change) updated(episodeUri(change.episodeId));
    if (change.type === 'episode_completed' || change.type === 'imported' || change.type === 'cleared') {
      for (const uri of subscribed) if (uri.startsWith(PATTERNS_URI_PREFIX)) updated(uri);
    }
    mcp.sendResourceListChanged();
  });
  return () => subscription.dispose();
}
