/** Resource URIs (episodes, patterns) and the `resource_link`s tool results carry for the episodes they name. */
import type { ResourceLink } from '@modelcontextprotocol/sdk/types.js';

export const EPISODE_URI_PREFIX = 'memory://episodes/';
export const EPISODE_URI_TEMPLATE = `${EPISODE_URI_PREFIX}{episode_id}`;
export const MARKDOWN = 'text/markdown';

export const PATTERNS_URI_PREFIX = 'memory://patterns/';
export type PatternScope = 'task-type' | 'domain';
export const PATTERNS_URI_TEMPLATES: Record<PatternScope, string> = {
  'task-type': `${PATTERNS_URI_PREFIX}task-type/{task_type}`,
  domain: `${PATTERNS_URI_PREFIX}domain/{domain}`,
};

export function patternsUri(scope: PatternScope, value: string): string {
  return `${PATTERNS_URI_PREFIX}${scope}/${encodeURIComponent(value)}`;
}

export function episodeUri(id: string): string {
  return `${EPISODE_URI_PREFIX}${encodeURIComponent(id)}`;
}

export function episodeLink(id: string, task?: string): ResourceLink {
  return {
    type: 'resource_link',
    uri: episodeUri(id),
    name: `episode ${id}`,
    ...(task ? { title: task.length > 80 ? `${task.slice(0, 79)}…` : task } : {}),
    mimeType: MARKDOWN,
  };
}

/** Most links one result carries (a page of query hits or list entries). */
const MAX_LINKS = 10;

/**
 * Links for the episodes a structured answer names: its own `episode_id`, an
 * `episode` object, and the entries of `hits` or `episodes` lists.
 */
export function episodeLinks(structured: Record<string, unknown>): ResourceLink[] {
  const found = new Map<string, string | undefined>();
  const take = (v: unknown): void => {
    if (!v || typeof v !== 'object' || found.size >= MAX_LINKS) return;
    const { episode_id: id, task } = v as { episode_id?: unknown; task?: unknown };
    if (typeof id === 'string' && !found.has(id)) found.set(id, typeof task === 'string' ? task : undefined);
  };
  take(structured);
  take(structured.episode);
  for (const key of ['hits', 'episodes']) {
    const list = structured[key];
    if (Array.isArray(list)) list.forEach(take);
  }
  return [...found].map(([id, task]) => episodeLink(id, task));
}
