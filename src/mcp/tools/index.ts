/** Every tool, in the default order of `tools/list` (core first, then advanced). */
import type { McpTool } from './define';
import { queryMemoryTool } from './query_memory';
import { createEpisodeTool } from './create_episode';
import { addEpisodeStepTool } from './add_episode_step';
import { completeEpisodeTool } from './complete_episode';
import { getEpisodeTool } from './get_episode';
import { analyzePatternsTool } from './analyze_patterns';
import { executeAgentCodeTool } from './execute_agent_code';
import { getMetricsTool } from './get_metrics';
import { healthCheckTool } from './health_check';
import { discoverToolsTool } from './discover_tools';
import { listEpisodesTool } from './list_episodes';
import { deleteEpisodeTool } from './delete_episode';
import { exportMemoryTool } from './export_memory';

export const ALL_TOOLS: readonly McpTool[] = [
  queryMemoryTool,
  createEpisodeTool,
  addEpisodeStepTool,
  completeEpisodeTool,
  getEpisodeTool,
  analyzePatternsTool,
  executeAgentCodeTool,
  getMetricsTool,
  healthCheckTool,
  discoverToolsTool,
  listEpisodesTool,
  deleteEpisodeTool,
  exportMemoryTool,
];

export const CORE_TOOL_NAMES = ALL_TOOLS.filter((t) => t.tier === 'core').map((t) => t.name);
export const ADVANCED_TOOL_NAMES = ALL_TOOLS.filter((t) => t.tier === 'advanced').map((t) => t.name);

export type { McpTool, ToolContext, ToolReply, ToolTier, DisclosureControl, ServerStatus } from './define';
