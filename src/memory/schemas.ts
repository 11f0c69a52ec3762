/**
 * Zod schemas for everything that crosses the store's boundary. The store
 * validates every input with these (the MCP layer validates too, but the store
 * must not trust its callers) and every imported file.
 */
import { z } from 'zod';
import { OUTCOME_TYPES, TASK_TYPES } from './types';
import type { Episode, MemoryExport, Outcome, OutcomeType, Reflection, Step, StepResult, TaskContext } from './types';
import { MemoryError } from './errors';
import { LIMITS } from './limits';


const shortText = z.string().trim().min(1).max(LIMITS.short);
const text = z.string().max(LIMITS.text);
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO 8601 date' });

export const TaskTypeSchema = z.enum(TASK_TYPES);

export const TaskContextSchema = z.object({
  language: shortText.optional(),
  framework: shortText.optional(),
  complexity: z.enum(['simple', 'moderate', 'complex']).optional(),
  tags: z.array(shortText).max(LIMITS.tags).default([]),
  phrasings: z.array(shortText).max(LIMITS.phrasings).optional(),
});

export const PartialTaskContextSchema = z.object({
  language: shortText.optional(),
  framework: shortText.optional(),
  complexity: z.enum(['simple', 'moderate', 'complex']).optional(),
  tags: z.array(shortText).max(LIMITS.tags).optional(),
});

export const StepResultSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), output: z.string().max(LIMITS.output).optional() }),
  z.object({ status: z.literal('error'), message: z.string().max(LIMITS.text) }),
  z.object({ status: z.literal('timeout'), message: z.string().max(LIMITS.text).optional() }),
]);

/** Any JSON value (what step parameters may hold). */
export const JsonValueSchema: z.ZodType<unknown> = z.unknown().refine(
  (v) => {
    try {
      return v === undefined || JSON.stringify(v) !== undefined;
    } catch {
      return false;
    }
  },
  { message: 'must be JSON-serialisable' },
);

export const StepSchema = z.object({
  n: z.number().int().min(1),
  timestamp: isoDate,
  tool: shortText,
  action: text,
  parameters: JsonValueSchema,
  result: StepResultSchema,
  latencyMs: z.number().finite().min(0).optional(),
  tokensUsed: z.number().int().min(0).optional(),
});

export const OutcomeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('success'), verdict: text, artifacts: z.array(z.string().max(LIMITS.item)).max(LIMITS.list).optional() }),
  z.object({
    type: z.literal('partial_success'),
    verdict: text,
    completed: z.array(z.string().max(LIMITS.item)).max(LIMITS.list),
    failed: z.array(z.string().max(LIMITS.item)).max(LIMITS.list),
  }),
  z.object({ type: z.literal('failure'), reason: text, details: text.optional() }),
  z.object({ type: z.literal('abstained'), reason: text }),
]);

export const ReflectionSchema = z.object({
  successes: z.array(z.string().max(LIMITS.reflectionLine)).max(LIMITS.list),
  improvements: z.array(z.string().max(LIMITS.reflectionLine)).max(LIMITS.list),
  insights: z.array(z.string().max(LIMITS.reflectionLine)).max(LIMITS.list),
});

export const EpisodeSchema = z.object({
  id: z.string().min(1).max(LIMITS.id).regex(/^[A-Za-z0-9_.:-]+$/, 'ids are letters, digits and _ . : -'),
  task: z.string().trim().min(1).max(LIMITS.text),
  domain: shortText,
  taskType: TaskTypeSchema,
  context: TaskContextSchema,
  startedAt: isoDate,
  endedAt: isoDate.optional(),
  steps: z.array(StepSchema).max(LIMITS.steps),
  outcome: OutcomeSchema.optional(),
  reward: z.number().min(0).max(1).optional(),
  reflection: ReflectionSchema.optional(),
});

export const MemoryExportSchema = z.object({
  format: z.literal('agent-memory-export'),
  version: z.literal(1),
  exportedAt: isoDate,
  episodes: z.array(EpisodeSchema),
});

export const CreateEpisodeInputSchema = z.object({
  task: z.string().trim().min(1, 'task must not be empty').max(LIMITS.text),
  domain: shortText.default('general'),
  taskType: TaskTypeSchema,
  context: PartialTaskContextSchema.optional(),
});

/** Step parameters: any JSON of at most LIMITS.parametersJson characters. */
const StepParametersSchema = JsonValueSchema.superRefine((v, ctx) => {
  const size = v === undefined ? 0 : (JSON.stringify(v)?.length ?? 0);
  if (size > LIMITS.parametersJson) ctx.addIssue({ code: 'custom', message: `is too large (${size} characters of JSON; max ${LIMITS.parametersJson})` });
});

export const AddStepInputSchema = z.object({
  tool: shortText,
  action: text,
  parameters: StepParametersSchema.optional(),
  result: StepResultSchema,
  latencyMs: z.number().finite().min(0).optional(),
  tokensUsed: z.number().int().min(0).optional(),
});

export const CompleteEpisodeInputSchema = z.object({
  outcome: OutcomeSchema,
  reflection: ReflectionSchema.optional(),
});

export const QueryOptionsSchema = z.object({
  query: z.string().max(LIMITS.query),
  expansions: z.array(z.string().max(LIMITS.query)).max(10).optional(),
  domain: shortText.optional(),
  taskType: TaskTypeSchema.optional(),
  outcome: z.enum(OUTCOME_TYPES).optional(),
  since: isoDate.optional(),
  until: isoDate.optional(),
  context: PartialTaskContextSchema.optional(),
  limit: z.number().int().min(1).max(50).default(10),
  offset: z.number().int().min(0).max(10_000).default(0),
});

export const AnalyzeOptionsSchema = z.object({
  taskType: TaskTypeSchema.optional(),
  domain: shortText.optional(),
  minSuccessRate: z.number().min(0).max(1).default(0.7),
  limit: z.number().int().min(1).max(200).default(20),
});

export const ListOptionsSchema = z.object({
  domain: shortText.optional(),
  taskType: TaskTypeSchema.optional(),
  outcome: z.enum(OUTCOME_TYPES).optional(),
  limit: z.number().int().min(1).max(500).default(20),
  offset: z.number().int().min(0).default(0),
});

export const StepPageSchema = z.object({
  offset: z.number().int().min(0).max(LIMITS.steps).default(0),
  limit: z.number().int().min(1).max(1000).default(50),
});

export const InsightsOptionsSchema = z.object({
  bucket: z.enum(['day', 'week', 'month', 'auto']).default('auto'),
  since: isoDate.transform((s) => new Date(s).toISOString()).optional(),
  topPatterns: z.number().int().min(1).max(100).default(10),
  maxSeries: z.number().int().min(1).max(50).default(8),
});

export const ExportPageOptionsSchema = z.object({
  after: z.string().max(1000).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1000).default(100),
});

export const ExportLinesOptionsSchema = ExportPageOptionsSchema.extend({
  maxChars: z.number().int().min(1).optional(),
});

export const RetentionPolicySchema = z.object({
  maxEpisodes: z.number().int().min(1).optional(),
  maxAgeDays: z.number().positive().optional(),
});

export const EpisodeIdSchema = z.string().min(1).max(LIMITS.id);
export const EpisodeIdListSchema = z.array(EpisodeIdSchema).max(100_000);

/** Parses `value` with `schema` or throws `MemoryError('invalid')` naming the offending fields. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  throw new MemoryError('invalid', `Invalid ${what}: ${issues}${r.error.issues.length > 5 ? ` (and ${r.error.issues.length - 5} more)` : ''}`);
}

// Compile-time checks that the schemas produce the public types.
type Assert<T extends true> = T;
type Extends<A, B> = A extends B ? true : false;
export type _SchemaChecks = [
  Assert<Extends<z.output<typeof StepResultSchema>, StepResult>>,
  Assert<Extends<z.output<typeof OutcomeSchema>, Outcome>>,
  Assert<Extends<Outcome['type'], OutcomeType>>,
  Assert<Extends<OutcomeType, Outcome['type']>>,
  Assert<Extends<z.output<typeof ReflectionSchema>, Reflection>>,
  Assert<Extends<z.output<typeof TaskContextSchema>, TaskContext>>,
  Assert<Extends<z.output<typeof StepSchema>, Step>>,
  Assert<Extends<z.output<typeof EpisodeSchema>, Episode>>,
  Assert<Extends<z.output<typeof MemoryExportSchema>, MemoryExport>>,
];
