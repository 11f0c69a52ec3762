import { z } from 'zod';
import { defineTool } from './define';
import { episodeOut, episodeToOut, offsetInput, rethrowStore } from './common';

export const exportMemoryInput = z.strictObject({
  limit: z.number().int().min(1).max(100).default(20).describe('Episodes per page (1-100, default 20).'),
  offset: offsetInput,
});

export const exportMemoryOutput = z.object({
  format: z.literal('agent-memory-export'),
  version: z.literal(1),
  exported_at: z.string(),
  total: z.number(),
  offset: z.number(),
  next_offset: z.number().optional().describe('Pass as offset for the next page; absent on the last page.'),
  episodes: z.array(episodeOut),
});

export const exportMemoryTool = defineTool({
  name: 'export_memory',
  title: 'Export memory',
  tier: 'advanced',
  description: 'Export stored episodes in full (steps, outcome, reflection) as JSON, one page at a time, for backup or inspection. Page with offset until next_offset is absent.',
  input: exportMemoryInput,
  output: exportMemoryOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, { store }) {
    const all = await store.exportAll().catch((e: unknown) => rethrowStore(e));
    const page = all.episodes.slice(args.offset, args.offset + args.limit).map((e) => episodeToOut(e));
    const end = args.offset + page.length;
    return {
      structured: {
        format: 'agent-memory-export' as const,
        version: 1 as const,
        exported_at: all.exportedAt,
        total: all.episodes.length,
        offset: args.offset,
        ...(end < all.episodes.length ? { next_offset: end } : {}),
        episodes: page,
      },
      text: `Exported episodes ${page.length ? `${args.offset + 1}-${end}` : 'none'} of ${all.episodes.length}.`,
    };
  },
});
