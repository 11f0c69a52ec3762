/**
 * Offers the in-host MCP server to VS Code (agent mode sees its tools with no configuration).
 * provideMcpServerDefinitions is cheap and never prompts; the server starts in
 * resolveMcpServerDefinition, which also adds the bearer token header.
 */
import * as vscode from 'vscode';
import type { Services } from './services';

export const MCP_PROVIDER_ID = 'agentMemory.mcpServer';
export const MCP_SERVER_LABEL = 'Agent Memory';

export class AgentMemoryMcpProvider implements vscode.McpServerDefinitionProvider<vscode.McpHttpServerDefinition>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;
  private generation = 1;

  constructor(
    private readonly services: Services,
    private readonly enabled: () => boolean,
  ) {}

  /** Settings that change the server (preset, allowlists) bump the definition's version. */
  bump(): void {
    this.generation++;
    this.changed.fire();
  }

  provideMcpServerDefinitions(): vscode.McpHttpServerDefinition[] {
    if (!this.enabled()) return [];
    // The port is known only once the server runs; resolve fills in the real address.
    return [new vscode.McpHttpServerDefinition(MCP_SERVER_LABEL, vscode.Uri.parse('http://127.0.0.1/mcp'), {}, String(this.generation))];
  }

  async resolveMcpServerDefinition(definition: vscode.McpHttpServerDefinition): Promise<vscode.McpHttpServerDefinition> {
    const server = await this.services.server();
    definition.uri = vscode.Uri.parse(server.url);
    definition.headers = { ...definition.headers, Authorization: `Bearer ${server.token}` };
    return definition;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
