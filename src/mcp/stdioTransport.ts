/**
 * The SDK's stdio server transport with one change on the write path: the
 * messages sent in one turn of the event loop go out as one write to stdout
 * instead of one write each. With many calls in flight, the answers that
 * complete together (the sandbox hands back results in batches) then cost one
 * system call here and one read and wake-up in the client. The read path, start
 * and close are the SDK's.
 */
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export class CoalescingStdioServerTransport extends StdioServerTransport {
  private queued: string[] = [];
  /** Resolves each queued send once its text is accepted by stdout (after 'drain' when stdout pushed back). */
  private waiting: (() => void)[] = [];

  constructor(
    stdin: Readable = process.stdin,
    private readonly stdout: Writable = process.stdout,
  ) {
    super(stdin, stdout);
  }

  override send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      this.queued.push(serializeMessage(message));
      this.waiting.push(resolve);
      if (this.queued.length === 1) setImmediate(this.flush);
    });
  }

  override async close(): Promise<void> {
    this.flush();
    await super.close();
  }

  private readonly flush = (): void => {
    if (this.queued.length === 0) return;
    const text = this.queued.length === 1 ? this.queued[0] : this.queued.join('');
    const done = this.waiting;
    this.queued = [];
    this.waiting = [];
    const release = (): void => {
      for (const resolve of done) resolve();
    };
    if (this.stdout.write(text)) release();
    else this.stdout.once('drain', release);
  };
}
