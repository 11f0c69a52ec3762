/**
 * Alternative phrasings of a completed task from the client's own model (MCP sampling), so a
 * later query worded differently still finds the episode (doc2query-style document expansion).
 *
 * Off the write path: `complete_episode` calls `suggest` and answers at once; the request runs
 * afterwards and its phrasings land through `store.addPhrasings`. Opt-in twice: the user's
 * setting (read at each completion) and the client's `sampling` capability (VS Code also asks
 * the user before the first request). Bounded: one request in flight per session, a short
 * queue, a rate per minute, a timeout, a token budget, a count and a length per phrasing.
 * The answer is model text, so it is validated (zod) and cleaned again by the store. Every
 * failure is logged and changes nothing.
 */
import { z } from 'zod';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CreateMessageRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../common/logger';
import { LIMITS } from '../memory/limits';
import type { MemoryStoreApi } from '../memory/types';

export interface PhrasingLimits {
  /** Phrasings asked for (the store keeps at most LIMITS.phrasings). */
  count: number;
  /** Token budget of one answer. */
  maxTokens: number;
  /** How long one request may take, the user's approval of the first one included. */
  timeoutMs: number;
  /** Requests started per rolling minute and session. */
  perMinute: number;
  /** Completions waiting while a request is in flight; more are dropped. */
  queue: number;
}

export const DEFAULT_PHRASING_LIMITS: PhrasingLimits = { count: 3, maxTokens: 300, timeoutMs: 60_000, perMinute: 10, queue: 4 };

/** A phrasing shorter than this is not a rewording of a task. */
const MIN_CHARS = 8;

/** The longest task text sent: phrasings of a long task are about its opening anyway. */
const TASK_CHARS = 1000;

const SYSTEM_PROMPT =
  'You help a search index for a coding agent\'s memory. Given a software task, write different ways another developer could describe the same problem: ' +
  'the symptoms a user would report, other technical terms, the likely error message or component. Keep each under 20 words. ' +
  'Answer with one phrasing per line and nothing else: no numbering, no quotes, no commentary.';

/** The answer as we accept it: a text block whose lines are the phrasings. */
const Block = z.object({ type: z.string(), text: z.unknown().optional() }).passthrough();
const SampledAnswer = z.object({ content: z.union([Block, z.array(Block).max(20)]) });
const Phrasings = z.array(z.string().min(MIN_CHARS).max(LIMITS.short)).min(1);

export interface PhrasingTask {
  episodeId: string;
  task: string;
  domain?: string;
}

/** The request sent for one task (exported for the tests that check what the client receives). */
export function phrasingRequest(task: PhrasingTask, limits: Pick<PhrasingLimits, 'count' | 'maxTokens'>): CreateMessageRequest['params'] {
  const text = task.task.length > TASK_CHARS ? `${task.task.slice(0, TASK_CHARS)}…` : task.task;
  return {
    messages: [
      {
        role: 'user',
        content: { type: 'text', text: `Task${task.domain && task.domain !== 'general' ? ` (${task.domain})` : ''}: ${text}\n\nWrite ${limits.count} different phrasings of this problem, one per line.` },
      },
    ],
    systemPrompt: SYSTEM_PROMPT,
    includeContext: 'none',
    maxTokens: limits.maxTokens,
    temperature: 0.7,
    modelPreferences: { costPriority: 0.8, speedPriority: 0.8, intelligencePriority: 0.2 },
  };
}

/** The phrasings in a sampled answer: one per line, list markers and quotes taken off, at most `count`. */
export function parsePhrasings(answer: unknown, count: number): string[] {
  const parsed = SampledAnswer.safeParse(answer);
  if (!parsed.success) throw new Error(`the answer is not a sampling result: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const blocks = Array.isArray(parsed.data.content) ? parsed.data.content : [parsed.data.content];
  const text = blocks.map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('\n');
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s*(?:[-*•]|\d{1,2}[.)])\s+/, '').replace(/^["'“”‘’`]+|["'“”‘’`]+$/g, '').trim())
    .filter((l) => l.length >= MIN_CHARS && l.length <= LIMITS.short)
    .slice(0, count);
  const checked = Phrasings.safeParse(lines);
  if (!checked.success) throw new Error('the answer holds no usable phrasing (one per line, 8 to 200 characters)');
  return checked.data;
}

export interface PhrasingSamplerOptions {
  server: Server;
  store: MemoryStoreApi;
  logger: Logger;
  /** The user's opt-in, read at each completion (a setting, a CLI flag). */
  enabled: () => boolean;
  limits?: Partial<PhrasingLimits>;
}

/** One per MCP session: asks that session's client for phrasings of the tasks completed in it. */
export class PhrasingSampler {
  private readonly limits: PhrasingLimits;
  private readonly waiting: PhrasingTask[] = [];
  private readonly started: number[] = [];
  private busy = false;
  private failures = 0;
  private closed = false;
  /** Settles when nothing is in flight or waiting (tests, orderly shutdown). */
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;

  constructor(private readonly options: PhrasingSamplerOptions) {
    this.limits = { ...DEFAULT_PHRASING_LIMITS, ...options.limits };
  }

  /** Whether a completion now would ask the client (the setting is on and the client can sample). */
  active(): boolean {
    if (this.closed || !this.options.enabled()) return false;
    return Boolean(this.options.server.getClientCapabilities()?.sampling);
  }

  /** Queues a request for the task's phrasings and returns at once; never throws. */
  suggest(task: PhrasingTask): void {
    try {
      if (!this.active()) return;
      if (this.waiting.length >= this.limits.queue) {
        this.options.logger.debug(`MCP sampling: phrasings of ${task.episodeId} skipped (${this.waiting.length} waiting)`);
        return;
      }
      this.waiting.push(task);
      if (!this.busy) {
        this.busy = true;
        this.idle = new Promise((resolve) => (this.markIdle = resolve));
        void this.drain();
      }
    } catch (error) {
      this.options.logger.debug('MCP sampling: could not queue a phrasing request', error);
    }
  }

  /** Settles once every queued request has finished (whatever its result). */
  settled(): Promise<void> {
    return this.idle;
  }

  close(): void {
    this.closed = true;
    this.waiting.length = 0;
  }

  private async drain(): Promise<void> {
    try {
      for (let task = this.waiting.shift(); task && !this.closed; task = this.waiting.shift()) {
        const now = Date.now();
        while (this.started.length && now - this.started[0] > 60_000) this.started.shift();
        if (this.started.length >= this.limits.perMinute) {
          this.options.logger.debug(`MCP sampling: phrasings of ${task.episodeId} skipped (${this.limits.perMinute} requests this minute)`);
          continue;
        }
        this.started.push(now);
        await this.sample(task);
      }
    } finally {
      this.busy = false;
      this.markIdle();
    }
  }

  private async sample(task: PhrasingTask): Promise<void> {
    const { server, store, logger } = this.options;
    const started = performance.now();
    try {
      const answer = await server.createMessage(phrasingRequest(task, this.limits), { timeout: this.limits.timeoutMs, maxTotalTimeout: this.limits.timeoutMs });
      const phrasings = parsePhrasings(answer, this.limits.count);
      const kept = await store.addPhrasings(task.episodeId, phrasings);
      logger.debug(`MCP sampling: ${phrasings.length} phrasings for ${task.episodeId} ${kept ? 'added' : 'dropped (the episode is gone)'} in ${(performance.now() - started).toFixed(0)} ms`);
    } catch (error) {
      // The first failure of a session is worth a warning (a setting on that cannot work); repeats are noise.
      const message = `MCP sampling: no phrasings for ${task.episodeId}: ${error instanceof Error ? error.message : String(error)}`;
      if (this.failures++ === 0) logger.warn(message);
      else logger.debug(message);
    }
  }
}
