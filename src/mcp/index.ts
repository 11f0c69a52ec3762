/**
 * Public API of the MCP layer (pure: no `vscode`). The extension starts the
 * in-host server with `startHttpServer({store, sandbox, logger})` and gives VS
 * Code the returned `url` plus an `Authorization: Bearer <token>` header.
 */
export { toolDefinition } from './listing';
export { createServer, SERVER_NAME, SERVER_VERSION, SERVER_INSTRUCTIONS, type CreateServerOptions } from './server';
export { startHttpServer, generateToken, tokenMatches, hostAllowed, originAllowed, MCP_PATH, type HttpServerOptions, type HttpServerHandle } from './http';
export { exportFile, exportJsonl, importFile, ImportCancelledError, ImportFileError, EXPORT_FORMAT, EXPORT_VERSION } from './jsonl';
export type { ImportReport, InvalidLine } from './jsonl';
export { parseCliArgs, HELP_TEXT, DEFAULT_DB_DIR, type CliOptions, type CliParse } from './cliArgs';
export { boundValue, DEFAULT_MAX_RESPONSE_CHARS } from './bound';
export { memoryHostApi } from './guestMemory';
export { ToolError } from './errors';
export { ALL_TOOLS, CORE_TOOL_NAMES, ADVANCED_TOOL_NAMES } from './tools';
export type { McpTool, ToolContext, ToolReply, ToolTier } from './tools';
