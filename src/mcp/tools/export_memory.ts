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
    // Only this page's episodes are read (the store pages in export order).
    const page = await store.exportPage({ offset: args.offset, limit: args.limit }).catch((e: unknown) => rethrowStore(e));
    const episodes = page.episodes.map((e) => episodeToOut(e));
    const end = args.offset + episodes.length;
    return {
      structured: {
        format: 'agent-memory-export' as const,
        version: 1 as const,
        exported_at: new Date().toISOString(),
        total: page.total,
        offset: args.offset,
        ...(page.next !== undefined ? { next_offset: end } : {}),
        episodes,
      },
      text: `Exported episodes ${episodes.length ? `${args.offset + 1}-${end}` : 'none'} of ${page.total}.`,
    };
  },
});
