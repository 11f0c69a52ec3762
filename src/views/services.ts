/**
 * The extension's long-lived parts, created lazily on first use (activation stays cheap: no WASM
 * loads until a view, a command or the MCP client needs them): the store, the sandbox pool and
 * the in-host Streamable HTTP MCP server. One instance, disposed from context.subscriptions.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from '../common/logger';
import { Emitter, type Disposable } from '../common/disposable';
import { MemoryClient, type RetentionPolicy } from '../memory';
import { Sandbox, type SandboxConfig } from '../sandbox';
import { startHttpServer, type HttpServerHandle } from '../mcp';

export interface ServicesOptions {
  /** Folder for the store (workspace storage, or global storage with no folder open). */
  storeDir: string;
  logger: Logger;
  sandboxConfig: () => SandboxConfig;
  retention: () => RetentionPolicy;
  /** Whether the MCP server asks the client's model for phrasings of completed tasks (read at each completion). */
  samplePhrasings: () => boolean;
}

export class Services implements Disposable {
  private storePromise?: Promise<MemoryClient>;
  private sandboxInstance?: Sandbox;
  private serverPromise?: Promise<HttpServerHandle>;
  private readonly storeReady = new Emitter<MemoryClient>();
  private readonly sandboxReady = new Emitter<Sandbox>();
  /** Fires once the store is open (views subscribe to its change event then). */
  readonly onDidOpenStore = this.storeReady.event;
  /** Fires once the sandbox pool exists. */
  readonly onDidCreateSandbox = this.sandboxReady.event;
  private disposed = false;
  private closing?: Promise<void>;

  constructor(private readonly options: ServicesOptions) {}

  get storeDir(): string {
    return this.options.storeDir;
  }

  /** The store if it is already open (views show an empty state otherwise). */
  peekStore(): Promise<MemoryClient> | undefined {
    return this.storePromise;
  }

  peekSandbox(): Sandbox | undefined {
    return this.sandboxInstance;
  }

  peekServer(): Promise<HttpServerHandle> | undefined {
    return this.serverPromise;
  }

  store(): Promise<MemoryClient> {
    if (this.disposed) return Promise.reject(new Error('Agent Memory is shutting down.'));
    if (!this.storePromise) {
      const started = Date.now();
      mkdirSync(this.options.storeDir, { recursive: true });
      // In a worker thread: nothing of the store runs on the extension host's thread.
      const promise = MemoryClient.open({
        dir: this.options.storeDir,
        logger: this.options.logger,
        onLocked: 'readonly',
        // Another process (the standalone server) writes it: follow it, take over when it closes it.
        takeOver: true,
        holderDescription: `Agent Memory in VS Code (extension host ${process.pid})`,
        retention: this.options.retention(),
      });
      this.storePromise = promise;
      promise.then(
        (s) => {
          this.options.logger.info(`Memory store opened at ${this.options.storeDir} in ${Date.now() - started} ms${s.readOnly ? ' (read-only: another process holds it; this window takes over when it closes the store)' : ''}`);
          s.onDidChangeAccess(({ readOnly }) => {
            if (!readOnly) this.options.logger.info(`Memory store at ${this.options.storeDir}: the other process closed it; this window now writes it.`);
          });
          this.storeReady.fire(s);
        },
        (err: unknown) => {
          this.options.logger.error(`Could not open the memory store at ${this.options.storeDir}: ${err instanceof Error ? err.message : String(err)}`);
          if (this.storePromise === promise) this.storePromise = undefined;
        },
      );
    }
    return this.storePromise;
  }

  sandbox(): Sandbox {
    if (this.disposed) throw new Error('Agent Memory is shutting down.');
    if (!this.sandboxInstance) {
      this.sandboxInstance = new Sandbox({ config: this.options.sandboxConfig(), logger: this.options.logger });
      this.sandboxReady.fire(this.sandboxInstance);
    }
    return this.sandboxInstance;
  }

  /** Starts the in-host MCP server on first call; later calls return the same one. */
  server(): Promise<HttpServerHandle> {
    if (this.disposed) return Promise.reject(new Error('Agent Memory is shutting down.'));
    if (!this.serverPromise) {
      const promise = (async () => {
        const store = await this.store();
        const handle = await startHttpServer({ store, sandbox: this.sandbox(), logger: this.options.logger, samplePhrasings: this.options.samplePhrasings });
        this.options.logger.info(`MCP server listening on ${handle.url}`);
        return handle;
      })();
      this.serverPromise = promise;
      promise.catch((err: unknown) => {
        this.options.logger.error(`Could not start the MCP server: ${err instanceof Error ? err.message : String(err)}`);
        if (this.serverPromise === promise) this.serverPromise = undefined;
      });
    }
    return this.serverPromise;
  }

  /** Applies changed settings to the live parts (called on affectsConfiguration). */
  applySettings(): void {
    this.sandboxInstance?.setConfig(this.options.sandboxConfig());
    void this.storePromise?.then((s) => s.setRetention(this.options.retention()), () => undefined);
  }

  /** Stops the server, the workers, and flushes and closes the store. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.disposed = true;
    const server = await this.serverPromise?.catch(() => undefined);
    await server?.close().catch((err: unknown) => this.options.logger.warn(`MCP server close: ${String(err)}`));
    await this.sandboxInstance?.close().catch((err: unknown) => this.options.logger.warn(`Sandbox close: ${String(err)}`));
    const store = await this.storePromise?.catch(() => undefined);
    await store?.close().catch((err: unknown) => this.options.logger.error(`Store close: ${String(err)}`));
    this.storeReady.dispose();
    this.sandboxReady.dispose();
  }

  dispose(): void {
    void this.close();
  }
}
