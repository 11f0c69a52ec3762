import { z } from 'zod';
import type { ExecutionResult } from '../../sandbox/types';
import type { StepResult } from '../../memory/types';
import { defineTool } from './define';
import { episodeIdInput, rethrowStore, requireEpisode } from './common';
import { ToolError } from '../errors';
import { memoryHostApi } from '../guestMemory';

/** Largest program accepted (the seed's 100 KB input limit). */
export const MAX_CODE_CHARS = 100_000;

export const executeAgentCodeInput = z.strictObject({
  code: z
    .string()
    .min(1, 'must not be empty')
    .max(MAX_CODE_CHARS, `is too long (max ${MAX_CODE_CHARS} characters)`)
    .describe('Function body: `return` a JSON value; `await` works; console.log goes to stdout; `context` and `memory` are in scope.'),
  context: z
    .strictObject({
      task: z.string().min(1, 'must not be empty').max(4000).describe('What the code is for (recorded with the run).'),
      input: z.unknown().optional().describe('Any JSON value, visible to the code as context.input.'),
    })
    .describe('{task, input}: the run\'s purpose and its input data.'),
  language: z.enum(['javascript', 'typescript']).default('javascript'),
  episode_id: episodeIdInput.optional().describe('Open episode to record this run in as a step.'),
});

export const executeAgentCodeOutput = z.object({
  kind: z.enum(['success', 'error', 'timeout', 'security_violation']),
  output: z.string().optional().describe('JSON text of the returned value (success).'),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  execution_time_ms: z.number().optional(),
  message: z.string().optional(),
  error_type: z.string().optional(),
  line: z.number().optional(),
  column: z.number().optional(),
  elapsed_ms: z.number().optional(),
  partial_output: z.string().optional(),
  reason: z.string().optional(),
  violation_type: z.string().optional(),
  episode_id: z.string().optional(),
  step_number: z.number().optional(),
});
type Out = z.output<typeof executeAgentCodeOutput>;

/** Largest JSON text accepted for `context.input`. */
const MAX_INPUT_CHARS = 1_000_000;

/** Console output, left out when empty (the model reads every field). */
function logs(r: { stdout: string; stderr: string }): Pick<Out, 'stdout' | 'stderr'> {
  return { ...(r.stdout ? { stdout: r.stdout } : {}), ...(r.stderr ? { stderr: r.stderr } : {}) };
}

const ms = (n: number): number => Math.round(n * 10) / 10;

function toOut(r: ExecutionResult): Out {
  switch (r.kind) {
    case 'success':
      return { kind: r.kind, output: r.output, ...logs(r), execution_time_ms: ms(r.executionTimeMs) };
    case 'error':
      return {
        kind: r.kind,
        message: r.message,
        error_type: r.errorType,
        ...(r.line !== undefined ? { line: r.line } : {}),
        ...(r.column !== undefined ? { column: r.column } : {}),
        ...logs(r),
        execution_time_ms: ms(r.executionTimeMs),
      };
    case 'timeout':
      return { kind: r.kind, elapsed_ms: ms(r.elapsedMs), ...(r.partialOutput ? { partial_output: r.partialOutput } : {}) };
    case 'security_violation':
      return { kind: r.kind, reason: r.reason, violation_type: r.violationType };
  }
}

function toStepResult(r: ExecutionResult): StepResult {
  switch (r.kind) {
    case 'success':
      return { status: 'success', output: r.output.slice(0, 2000) };
    case 'error':
      return { status: 'error', message: `${r.errorType}: ${r.message}`.slice(0, 2000) };
    case 'timeout':
      return { status: 'timeout', message: `timed out after ${r.elapsedMs} ms` };
    case 'security_violation':
      return { status: 'error', message: `security violation (${r.violationType}): ${r.reason}`.slice(0, 2000) };
  }
}

function summary(r: ExecutionResult): string {
  switch (r.kind) {
    case 'success':
      return `Success in ${Math.round(r.executionTimeMs * 10) / 10} ms; returned ${r.output.length > 200 ? `${r.output.slice(0, 200)}…` : r.output}`;
    case 'error':
      return `Error (${r.errorType})${r.line !== undefined ? ` at line ${r.line}${r.column !== undefined ? `:${r.column}` : ''}` : ''}: ${r.message.slice(0, 300)}`;
    case 'timeout':
      return `Timed out after ${r.elapsedMs} ms.`;
    case 'security_violation':
      return `Refused: security violation (${r.violationType}): ${r.reason.slice(0, 300)}`;
  }
}

export const executeAgentCodeTool = defineTool({
  name: 'execute_agent_code',
  title: 'Run code in the sandbox',
  tier: 'core',
  description:
    'Run a short JavaScript/TypeScript program in an isolated QuickJS sandbox (time and memory limited; no filesystem or network unless configured) and get its returned value. ' +
    'A read-only `memory` object is in scope: `await memory.query({query, domain?, task_type?, limit?})`, `memory.getEpisode(id)`, `memory.analyzePatterns({task_type?, min_success_rate?})`; filter there and return only what matters. ' +
    'Standard web APIs: timers, URL, TextEncoder, crypto.subtle, fetch (allowlisted); Node-style console. ' +
    'With episode_id the run is recorded as a step of that open episode.',
  input: executeAgentCodeInput,
  output: executeAgentCodeOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(args, { store, sandbox, signal }) {
    if (args.context.input !== undefined) {
      const size = JSON.stringify(args.context.input)?.length ?? 0;
      if (size > MAX_INPUT_CHARS) throw new ToolError(`Invalid arguments for execute_agent_code: "context.input" is too large (${size} characters of JSON; max ${MAX_INPUT_CHARS}).`);
    }
    if (args.episode_id !== undefined) {
      const episode = await requireEpisode(store, args.episode_id).catch((e: unknown) => rethrowStore(e, args.episode_id));
      if (episode.endedAt !== undefined || episode.outcome !== undefined) {
        throw new ToolError(`Episode "${args.episode_id}" is already completed; steps can only be added to an open episode. Start a new one with create_episode.`);
      }
      if (store.readOnly) throw new ToolError('The memory store is open read-only (another process owns it), so the run could not be recorded; nothing was executed.');
    }
    let result: ExecutionResult;
    try {
      result = await sandbox.execute(args.code, { task: args.context.task, input: args.context.input }, { language: args.language, signal, hostApi: memoryHostApi(store) });
    } catch (error) {
      throw new ToolError(`The sandbox could not run the code: ${error instanceof Error ? error.message : String(error)}`);
    }
    const out = toOut(result);
    if (args.episode_id !== undefined) {
      const step = await store
        .addStep(args.episode_id, {
          tool: 'execute_agent_code',
          action: args.context.task.slice(0, 200),
          parameters: { language: args.language, code: args.code.length > 2000 ? `${args.code.slice(0, 2000)}…` : args.code },
          result: toStepResult(result),
          latencyMs: result.kind === 'timeout' ? result.elapsedMs : result.kind === 'security_violation' ? 0 : result.executionTimeMs,
        })
        .catch((e: unknown) => rethrowStore(e, args.episode_id));
      out.episode_id = args.episode_id;
      out.step_number = step.n;
    }
    return { structured: out, text: summary(result) + (out.step_number !== undefined ? ` Recorded as step ${out.step_number} of episode ${args.episode_id}.` : '') };
  },
});
