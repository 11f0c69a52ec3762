import * as assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CoalescingStdioServerTransport } from '../../../src/mcp/stdioTransport';

/** Lines of JSON-RPC as a client writes them. */
const pings = (ids: number[]): string => ids.map((id) => `${JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' })}\n`).join('');

/** A stdout that records each write as one chunk and may hold its callback back (backpressure). */
class RecordingStdout extends Writable {
  readonly chunks: string[] = [];
  constructor(private readonly holdMs = 0) {
    super({ highWaterMark: holdMs ? 1 : 16_384, decodeStrings: false });
  }
  override _write(chunk: string | Buffer, _encoding: string, callback: () => void): void {
    this.chunks.push(chunk.toString());
    if (this.holdMs) setTimeout(callback, this.holdMs);
    else callback();
  }
}

async function connected(stdout: RecordingStdout): Promise<{ stdin: PassThrough; transport: CoalescingStdioServerTransport; server: McpServer }> {
  const stdin = new PassThrough();
  const server = new McpServer({ name: 'test', version: '1' });
  const transport = new CoalescingStdioServerTransport(stdin, stdout);
  await server.connect(transport);
  return { stdin, transport, server };
}

const until = async (done: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(done(), 'timed out');
};

const ids = (chunks: string[]): number[] =>
  chunks
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { id: number; result: unknown }).id);

describe('mcp: stdio transport (one write per turn of the event loop)', () => {
  it('answers that are ready together go out in one write, in order, one message a line', async () => {
    const stdout = new RecordingStdout();
    const { stdin, server } = await connected(stdout);
    try {
      const sent = Array.from({ length: 20 }, (_, i) => i + 1);
      stdin.write(pings(sent));
      await until(() => ids(stdout.chunks).length === 20);
      assert.deepEqual(ids(stdout.chunks), sent);
      assert.equal(stdout.chunks.length, 1, `${stdout.chunks.length} writes for 20 answers`);
      for (const line of stdout.chunks[0].trimEnd().split('\n')) assert.deepEqual(JSON.parse(line).result, {});

      // a request arriving later is answered in a write of its own
      stdin.write(pings([21]));
      await until(() => ids(stdout.chunks).length === 21);
      assert.equal(stdout.chunks.length, 2);
    } finally {
      await server.close();
    }
  });

  it('a send resolves only once stdout took its text (after drain when stdout pushes back)', async () => {
    const stdout = new RecordingStdout(30);
    const { transport, server } = await connected(stdout);
    try {
      let firstDone = false;
      const first = transport.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'a' } }).then(() => (firstDone = true));
      await new Promise((r) => setImmediate(r));
      assert.equal(stdout.chunks.length, 1, 'written at the end of the turn');
      assert.equal(firstDone, false, 'stdout is over its high-water mark: the send waits for drain');
      const second = transport.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'b' } });
      await Promise.all([first, second]);
      assert.equal(firstDone, true);
      assert.deepEqual(
        stdout.chunks.join('').trimEnd().split('\n').map((l) => (JSON.parse(l) as { params: { data: string } }).params.data),
        ['a', 'b'],
      );
    } finally {
      await server.close();
    }
  });

  it('close writes what is still queued', async () => {
    const stdout = new RecordingStdout();
    const { transport } = await connected(stdout);
    void transport.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'last' } });
    await transport.close();
    assert.match(stdout.chunks.join(''), /"data":"last"/);
  });
});
