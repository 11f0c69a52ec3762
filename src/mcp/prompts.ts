/**
 * MCP prompts (slash commands in VS Code chat), registered with the SDK's
 * `registerPrompt`, arguments with completion:
 * - `recall` (task): runs the retrieval and the pattern analysis itself and
 *   hands the agent the relevant past episodes (attached as resources) and what worked;
 * - `retrospective` (episode_id): the recorded episode and how to complete it
 *   with an honest outcome and reflection;
 * - `start_task` (task, task_type?, domain?): how to record the task being started.
 */
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, type GetPromptRequest, type GetPromptResult, type PromptMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Logger } from '../common/logger';
import { TASK_TYPES, type MemoryStoreApi, type TaskType } from '../memory/types';
import { protocolError } from './errors';
import { episodeUri } from './links';
import { completeDomain, completeEpisodeId, readEpisode, RESOURCE_STEPS } from './resources';
import type { HandlerWrapper } from './sdkHandlers';

export const PROMPT_NAMES = ['recall', 'retrospective', 'start_task'] as const;

/** Past episodes `recall` attaches in full (as Markdown resources), each cut to this many characters. */
const ATTACHED_EPISODES = 3;
const ATTACHED_CHARS = 6000;

export interface PromptDeps {
  store: MemoryStoreApi;
  logger: Logger;
}

function user(text: string): PromptMessage {
  return { role: 'user', content: { type: 'text', text } };
}

/** The episode's Markdown as a resource inside a prompt message (VS Code attaches it as chat context). */
async function attachedEpisode(store: MemoryStoreApi, id: string): Promise<PromptMessage> {
  const read = await readEpisode(store, id);
  const full = (read.contents[0] as { text: string }).text;
  const text = full.length > ATTACHED_CHARS ? `${full.slice(0, ATTACHED_CHARS)}\n\n… (cut; read ${episodeUri(id)} for the rest)\n` : full;
  return { role: 'user', content: { type: 'resource', resource: { uri: episodeUri(id), mimeType: 'text/markdown', text } } };
}

async function completeTask(store: MemoryStoreApi, value: string): Promise<string[]> {
  if (value.trim().length < 2) return [];
  const { hits } = await store.query({ query: value.slice(0, 200), limit: 10 });
  return [...new Set(hits.map((h) => h.episode.task))];
}

async function recall(store: MemoryStoreApi, task: string): Promise<GetPromptResult> {
  const { hits, total } = await store.query({ query: task, limit: 5 });
  const taskType = hits[0]?.episode.taskType;
  const analysis = await store.analyzePatterns({ ...(taskType ? { taskType } : {}), minSuccessRate: 0.5, limit: 8 });
  const lines = [`I am about to work on: ${task}`, '', 'What my memory holds for it:', ''];
  if (hits.length) {
    lines.push(`Relevant past episodes (${hits.length} of ${total} matching):`);
    for (const h of hits) {
      const e = h.episode;
      const result = e.outcome ? `${e.outcome}${e.reward !== undefined ? `, reward ${e.reward.toFixed(2)}` : ''}` : 'still open';
      lines.push(`- "${e.task}" (${result}; ${e.taskType}, ${e.domain})${e.gist ? ` — lesson: ${e.gist}` : ''} [${episodeUri(e.id)}]`);
    }
  } else lines.push('No past episode matches this task.');
  lines.push('');
  if (analysis.patterns.length) {
    lines.push(`What worked${taskType ? ` in ${taskType} tasks` : ''}:`);
    for (const p of analysis.patterns) lines.push(`- ${p.description} (${Math.round(p.successRate * 100)}% over ${p.occurrences})`);
  } else lines.push('No learned patterns yet with a success rate of 50% or more.');
  if (analysis.heuristics.length) {
    lines.push('', 'Heuristics:');
    for (const h of analysis.heuristics) lines.push(`- When ${h.condition}: ${h.action}`);
  }
  lines.push(
    '',
    'Use what applies (and avoid what failed before). Then record this task: create_episode, add_episode_step for each significant action, complete_episode at the end.',
  );
  const attached = await Promise.all(hits.slice(0, ATTACHED_EPISODES).map((h) => attachedEpisode(store, h.episode.id)));
  return { description: `Memory recall for: ${task.slice(0, 80)}`, messages: [user(lines.join('\n')), ...attached] };
}

async function retrospective(store: MemoryStoreApi, id: string): Promise<GetPromptResult> {
  const page = await store.getEpisodePage(id, { limit: RESOURCE_STEPS });
  if (!page) throw protocolError(ErrorCode.InvalidParams, `Unknown episode "${id}": no episode has this id. Complete the episode_id argument, or find ids with query_memory or resources/list.`);
  const { episode, stepCount } = page;
  const failed = episode.steps.filter((s) => s.result.status !== 'success').length;
  const errors = `${failed} failed${stepCount > episode.steps.length ? ` among the first ${episode.steps.length}` : ''}`;
  const intro = episode.outcome
    ? `Episode ${id} ("${episode.task}") is already completed as ${episode.outcome.type}. Review it honestly: what would you do differently? It cannot be completed again; record a lesson in your next episode instead.`
    : [
        `Let us complete episode ${id}: "${episode.task}" (${stepCount} steps recorded, ${errors}). Its record is attached.`,
        '',
        'Judge the outcome honestly, from what was actually achieved rather than what was attempted:',
        '- success: the task is done and verified (say how: tests, a run, a review);',
        '- partial_success: list what was completed and what failed;',
        '- failure: the reason, and details that would help next time;',
        '- abstained: you stopped on purpose (say why).',
        '',
        'Then reflect: successes (what helped), improvements (what cost time or went wrong, including recovered errors), insights (what to do first next time on a similar task). Be specific; one line each.',
        '',
        `Finally call complete_episode with {"episode_id": "${id}", "outcome": {...}, "reflection": {"successes": [...], "improvements": [...], "insights": [...]}}.`,
      ].join('\n');
  return { description: `Retrospective of ${episode.task.slice(0, 80)}`, messages: [user(intro), await attachedEpisode(store, id)] };
}

function startTask(task: string, taskType: TaskType | undefined, domain: string | undefined): GetPromptResult {
  const create = JSON.stringify({ task, task_type: taskType ?? 'other', ...(domain ? { domain } : {}) });
  const text = [
    `I am starting this task: ${task}`,
    '',
    'Record it in Agent Memory as you work, so that later tasks can learn from it:',
    `1. First call query_memory with {"query": ${JSON.stringify(task.slice(0, 200))}} (and analyze_patterns) to see what worked on similar tasks.`,
    `2. Call create_episode with ${create}${taskType ? '' : ` (choose task_type from ${TASK_TYPES.join(', ')})`}; add context (language, framework, tags) if known. Keep the episode_id it returns.`,
    '3. After each significant action (reading code, an edit, a test run, a command), call add_episode_step with the tool, what it did and its result: {"status": "success", "output"} or {"status": "error", "message"}. Record errors too: recoveries are learned from them.',
    '4. When done (or stopped), call complete_episode with the honest outcome and a short reflection (the retrospective prompt walks through it).',
  ].join('\n');
  return { description: `How to record: ${task.slice(0, 80)}`, messages: [user(text)] };
}

/** A new schema each time: `completable` marks the schema it is given, and each server (session) registers its own. */
const taskArg = (): z.ZodString => z.string().trim().min(1, 'must not be empty').max(2000).describe('The task, in a sentence.');

export function registerPrompts(mcp: McpServer, { store }: PromptDeps): void {
  mcp.registerPrompt(
    'recall',
    {
      title: 'Recall from memory',
      description: 'Past episodes like this task and the patterns that worked, from the memory, before starting.',
      argsSchema: { task: completable(taskArg(), (v) => completeTask(store, v)) },
    },
    ({ task }) => recall(store, task),
  );
  mcp.registerPrompt(
    'retrospective',
    {
      title: 'Episode retrospective',
      description: 'Complete an episode with an honest outcome and reflection, with its record attached.',
      argsSchema: { episode_id: completable(z.string().trim().min(1, 'must not be empty').max(200).describe('The episode to complete.'), (v) => completeEpisodeId(store, v)) },
    },
    ({ episode_id }) => retrospective(store, episode_id),
  );
  mcp.registerPrompt(
    'start_task',
    {
      title: 'Record a new task',
      description: 'How to record the task you are starting in the memory (episode, steps, completion).',
      argsSchema: {
        task: taskArg(),
        task_type: completable(z.enum(TASK_TYPES).optional().describe(`One of ${TASK_TYPES.join(', ')}.`), (v) => TASK_TYPES.filter((t) => t.startsWith(v ?? ''))),
        domain: completable(z.string().trim().max(100).optional().describe('Area of work, e.g. "web-api".'), (v) => completeDomain(store, v ?? '')),
      },
    },
    ({ task, task_type, domain }) => startTask(task, task_type, domain || undefined),
  );
}

/** The SDK's prompts/get, wrapped: unknown prompts and bad arguments are answered with what to send instead. */
export const clearPromptErrors: HandlerWrapper = (sdkHandler) => async (request: GetPromptRequest, extra) => {
  const name = request.params.name;
  if (!(PROMPT_NAMES as readonly string[]).includes(name)) {
    throw protocolError(ErrorCode.InvalidParams, `Unknown prompt "${name}". The prompts are ${PROMPT_NAMES.join(', ')}.`);
  }
  try {
    return await sdkHandler(request, extra);
  } catch (error) {
    if (error instanceof McpError && error.message.includes(`Invalid arguments for prompt ${name}`)) {
      const needs = { recall: '"task" (the task you are about to start)', retrospective: '"episode_id" (the episode to complete)', start_task: '"task" and optionally "task_type" and "domain"' }[name as (typeof PROMPT_NAMES)[number]];
      throw protocolError(ErrorCode.InvalidParams, `Invalid arguments for prompt ${name}: ${error.message.replace(/^.*Invalid arguments for prompt [^:]+: /s, '').replace(/\n/g, '; ')}. It takes ${needs}.`);
    }
    throw error;
  }
};
