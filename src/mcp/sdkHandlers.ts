/**
 * Wrapping a request handler the SDK's McpServer installs for itself (it offers
 * no hook around its tools/call or resources/read answers): `register` runs
 * while `server.setRequestHandler` is intercepted, and a handler installed for
 * one of the given schemas is installed wrapped instead.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's handlers are typed per schema
export type AnyHandler = (request: any, extra: Extra) => Promise<unknown>;
export type HandlerWrapper = (sdkHandler: AnyHandler) => AnyHandler;

export function wrapSdkHandlers(server: Server, wrappers: ReadonlyMap<unknown, HandlerWrapper>, register: () => void): void {
  const setRequestHandler = server.setRequestHandler.bind(server) as (schema: unknown, handler: AnyHandler) => void;
  (server as { setRequestHandler: unknown }).setRequestHandler = (schema: unknown, handler: AnyHandler) => {
    const wrap = wrappers.get(schema);
    setRequestHandler(schema, wrap ? wrap(handler) : handler);
  };
  try {
    register();
  } finally {
    delete (server as { setRequestHandler?: unknown }).setRequestHandler; // back to the prototype's
  }
}
