/**
 * The export format, JSON Lines: a header line
 *   {"format":"agent-memory-export","version":1,"exported_at":…,"episodes":N}
 * then one episode a line, with the field names of get_episode's output (snake_case; the
 * mapping is defined here once and the MCP tools use it too). The older whole-JSON export
 * ({format, version, episodes: [...]}, camelCase) still imports.
 */
import type { Episode, Step } from './types';
import { EpisodeSchema } from './schemas';

export const EXPORT_FORMAT = 'agent-memory-export';
export const EXPORT_VERSION = 1;

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** A step with get_episode's field names. */
export function stepToWire(s: Step) {
  return {
    n: s.n,
    timestamp: s.timestamp,
    tool: s.tool,
    action: s.action,
    ...(s.parameters !== undefined ? { parameters: s.parameters } : {}),
    result: { ...s.result },
    ...(s.latencyMs !== undefined ? { latency_ms: s.latencyMs } : {}),
    ...(s.tokensUsed !== undefined ? { tokens_used: s.tokensUsed } : {}),
  };
}

/** An episode with get_episode's field names (the steps from `stepsOffset`, at most `stepsLimit`). */
export function episodeToWire(e: Episode, stepsOffset = 0, stepsLimit = Infinity) {
  return {
    episode_id: e.id,
    task: e.task,
    domain: e.domain,
    task_type: e.taskType,
    context: { ...e.context, tags: e.context.tags ?? [] },
    started_at: e.startedAt,
    ...(e.endedAt !== undefined ? { ended_at: e.endedAt } : {}),
    step_count: e.steps.length,
    steps: e.steps.slice(stepsOffset, stepsOffset + stepsLimit).map(stepToWire),
    ...(e.outcome !== undefined ? { outcome: { ...e.outcome } } : {}),
    ...(e.reward !== undefined ? { reward: round(e.reward) } : {}),
    ...(e.reflection !== undefined ? { reflection: e.reflection } : {}),
  };
}

export function headerLine(episodes: number): string {
  return JSON.stringify({ format: EXPORT_FORMAT, version: EXPORT_VERSION, exported_at: new Date().toISOString(), episodes }) + '\n';
}

export function episodeLine(e: Episode): string {
  return JSON.stringify(episodeToWire(e)) + '\n';
}

/** Export lines (episodeLine's, as ExportLines.lines holds them) as get_episode-shaped objects, in one parse. */
export function parseExportLines(lines: string): ReturnType<typeof episodeToWire>[] {
  const body = lines.trimEnd();
  return body ? (JSON.parse(`[${body.split('\n').join(',')}]`) as ReturnType<typeof episodeToWire>[]) : [];
}

/** Whether a file's first line is a JSON Lines export header (the older whole-JSON export has `episodes` as an array). */
export function isHeader(text: string): boolean {
  try {
    const h = JSON.parse(text) as Record<string, unknown>;
    return h !== null && typeof h === 'object' && h.format === EXPORT_FORMAT && !Array.isArray(h.episodes);
  } catch {
    return false;
  }
}

/** An export line (get_episode's field names) as the store's Episode, validated; throws an Error saying what is wrong. */
export function episodeFromLine(text: string): Episode {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message})`, { cause: e });
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error('not a JSON object');
  const r = o as Record<string, unknown>;
  const steps = Array.isArray(r.steps)
    ? r.steps.map((s: unknown) => {
        if (!s || typeof s !== 'object') return s;
        const { latency_ms, tokens_used, ...rest } = s as Record<string, unknown>;
        return { ...rest, ...(latency_ms !== undefined ? { latencyMs: latency_ms } : {}), ...(tokens_used !== undefined ? { tokensUsed: tokens_used } : {}) };
      })
    : r.steps;
  const candidate = Object.fromEntries(
    Object.entries({
      id: r.episode_id,
      task: r.task,
      domain: r.domain,
      taskType: r.task_type,
      context: r.context,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      steps,
      outcome: r.outcome,
      reward: r.reward,
      reflection: r.reflection,
    }).filter(([, v]) => v !== undefined),
  );
  const parsed = EpisodeSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}
