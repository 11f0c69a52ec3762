import { z } from 'zod';
import { defineTool } from './define';
import { episodeOut, offsetInput, rethrowStore } from './common';
import { parseExportLines } from '../../memory/exportFormat';

/** Room in the answer for its other fields and summary line, beside the episodes. */
const ENVELOPE_CHARS = 600;

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
  description: 'Export stored episodes in full (steps, outcome, reflection) as JSON, one page at a time, for backup or inspection. A page holds up to limit episodes, fewer when they are long (the answer stays within its size bound). Page with offset = next_offset until next_offset is absent.',
  input: exportMemoryInput,
  output: exportMemoryOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, { store, maxResponseChars }) {
    // Only this page's episodes are read, serialised by the store (in its worker) and only as
    // many as fit the answer: nothing is cut from the page afterwards, so next_offset skips none.
    const maxChars = Math.max(1, maxResponseChars - ENVELOPE_CHARS);
    const page = await store.exportLines({ offset: args.offset, limit: args.limit, maxChars }).catch((e: unknown) => rethrowStore(e));
    const episodes = parseExportLines(page.lines);
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
