import { z } from 'zod';
import { defineTool } from './define';
import { ToolError } from '../errors';

export const discoverToolsInput = z.strictObject({
  tools: z.array(z.string().min(1).max(100)).max(20).optional().describe('Names of the advanced tools to enable; all of them when omitted.'),
});

export const discoverToolsOutput = z.object({
  enabled: z.array(z.string()).describe('Tools enabled by this call (now in tools/list).'),
  available: z.array(z.object({ name: z.string(), title: z.string(), description: z.string(), enabled: z.boolean() })),
});

export const discoverToolsTool = defineTool({
  name: 'discover_tools',
  title: 'Discover more tools',
  tier: 'core',
  description:
    'Enable the advanced tools hidden by default: list_episodes (browse by page), delete_episode (remove one) and export_memory (full episodes as JSON); all of them when `tools` is omitted. They then appear in tools/list.',
  input: discoverToolsInput,
  output: discoverToolsOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  // eslint-disable-next-line @typescript-eslint/require-await
  async handler(args, { disclosure }) {
    const names = disclosure.advanced().map((t) => t.name);
    if (args.tools) {
      const unknown = args.tools.filter((t) => !names.includes(t));
      if (unknown.length) {
        throw new ToolError(`Invalid arguments for discover_tools: "tools" names unknown advanced tool(s) ${unknown.map((t) => `"${t}"`).join(', ')}; the advanced tools are ${names.join(', ')}.`);
      }
    }
    const enabled = disclosure.enable(args.tools);
    const available = disclosure.advanced();
    return {
      structured: { enabled, available },
      text: enabled.length
        ? `Enabled ${enabled.join(', ')}; they are now in the tool list.`
        : `Nothing new to enable; already available: ${available.filter((t) => t.enabled).map((t) => t.name).join(', ')}.`,
    };
  },
});
