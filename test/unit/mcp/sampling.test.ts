/**
 * Phrasings from the client's model (MCP sampling), end to end: a real SDK Client over the real
 * Streamable HTTP transport declares sampling and answers `sampling/createMessage`; the server
 * asks after complete_episode has answered, the phrasings land in the store, and a query worded
 * like a phrasing (sharing no word with the task) finds the episode. Off (the setting, or a
 * client without the capability): no request is ever sent. A slow, failing or nonsensical
 * sampler never delays or fails the completion.
 */
import * as assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, type CreateMessageRequest, type CreateMessageResult, type Request } from '@modelcontextprotocol/sdk/types.js';
import { parsePhrasings } from '../../../src/mcp/phrasingSampler';
import { httpClient, ok, openRealParts, type ConnectedClient, type RealParts } from './helpers';

const TASK = 'Fix session token expiry in the auth middleware';
const ANSWER = ['Shoppers are thrown back to the welcome carousel mid-checkout', '- people signed out at random since the upgrade', '3. JWT lifetime too short'].join('\n');
/** Worded like the first phrasing, sharing no word with the task or its steps. */
const QUERY = 'shoppers thrown back to the welcome carousel';

type Sampler = (params: CreateMessageRequest['params']) => Promise<CreateMessageResult>;

function samplingClient(sampler: Sampler, seen: string[]): Client {
  const client = new Client({ name: 'mcp-test-sampling', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    seen.push(request.method);
    return sampler(request.params);
  });
  client.fallbackRequestHandler = (request: Request) => {
    seen.push(request.method);
    return Promise.reject(new Error(`unexpected ${request.method}`));
  };
  return client;
}

/** A client that declares nothing: any request from the server lands in `seen`. */
function plainClient(seen: string[]): Client {
  const client = new Client({ name: 'mcp-test-plain', version: '1.0.0' });
  client.fallbackRequestHandler = (request: Request) => {
    seen.push(request.method);
    return Promise.reject(new Error(`unexpected ${request.method}`));
  };
  return client;
}

const text = (t: string): CreateMessageResult => ({ model: 'fake-model', role: 'assistant', content: { type: 'text', text: t } });

async function completeOne(client: Client, task = TASK): Promise<string> {
  const { episode_id: id } = await ok<{ episode_id: string }>(client, 'create_episode', { task, domain: 'web-api', task_type: 'debugging' });
  await ok(client, 'add_episode_step', { episode_id: id, tool: 'read_file', action: 'read src/auth/middleware.ts', result: { status: 'success', output: 'expiry computed in seconds, compared in ms' } });
  await ok(client, 'complete_episode', { episode_id: id, outcome: { type: 'success', verdict: 'expiry compared in the same unit' } });
  return id;
}

async function hitIds(client: Client, query: string): Promise<string[]> {
  const r = await ok<{ hits: { episode_id: string }[] }>(client, 'query_memory', { query });
  return r.hits.map((h) => h.episode_id);
}

async function phrasingsOf(parts: RealParts, id: string, timeoutMs = 5000): Promise<string[] | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const p = (await parts.store.getEpisode(id))?.context.phrasings;
    if (p?.length || Date.now() > until) return p;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Long enough for a request sent right after a completion to reach the client (they arrive within milliseconds). */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

describe('mcp: phrasings from the client model (sampling over Streamable HTTP)', function () {
  this.timeout(30_000);
  let parts: RealParts;
  let conn: ConnectedClient | undefined;
  beforeEach(async () => {
    parts = await openRealParts();
  });
  afterEach(async () => {
    await conn?.close();
    conn = undefined;
    await parts.dispose();
  });

  it('asks after the completion, with a bounded request; the phrasings land and a query in their words finds the episode', async () => {
    const seen: string[] = [];
    const requests: CreateMessageRequest['params'][] = [];
    conn = await httpClient(parts, { samplePhrasings: () => true }, samplingClient((params) => (requests.push(params), Promise.resolve(text(ANSWER))), seen));
    const { client } = conn;

    const id = await completeOne(client);
    const phrasings = await phrasingsOf(parts, id);
    assert.deepEqual(seen, ['sampling/createMessage']);
    const [req] = requests;
    assert.equal(req.includeContext, 'none');
    assert.ok(req.maxTokens > 0 && req.maxTokens <= 500, `maxTokens ${req.maxTokens}`);
    assert.equal(req.messages.length, 1);
    assert.equal(req.messages[0].role, 'user');
    const content = req.messages[0].content as { type: string; text: string };
    assert.equal(content.type, 'text');
    assert.ok(content.text.includes(TASK), content.text);
    assert.match(req.systemPrompt ?? '', /one phrasing per line/);

    // List markers are taken off; each line is one phrasing.
    assert.deepEqual(phrasings, ['Shoppers are thrown back to the welcome carousel mid-checkout', 'people signed out at random since the upgrade', 'JWT lifetime too short']);
    assert.ok((await hitIds(client, QUERY)).includes(id), 'a query worded like a phrasing finds the episode');
    // The task itself is untouched: phrasings are kept beside it.
    assert.equal((await parts.store.getEpisode(id))?.task, TASK);
  });

  it('the same query does not find the episode without the phrasings (so they are what matched)', async () => {
    const seen: string[] = [];
    conn = await httpClient(parts, {}, samplingClient(() => Promise.resolve(text(ANSWER)), seen));
    const id = await completeOne(conn.client);
    await settle();
    assert.ok(!(await hitIds(conn.client, QUERY)).includes(id));
    assert.deepEqual(seen, []);
  });

  it('sends nothing while the setting is off, and reads it at each completion', async () => {
    const seen: string[] = [];
    let on = false;
    conn = await httpClient(parts, { samplePhrasings: () => on }, samplingClient(() => Promise.resolve(text(ANSWER)), seen));
    const first = await completeOne(conn.client);
    await settle();
    assert.deepEqual(seen, [], 'no sampling request with the setting off');
    assert.equal((await parts.store.getEpisode(first))?.context.phrasings, undefined);

    on = true;
    const second = await completeOne(conn.client, 'Fix cache stampede when the config reloads');
    assert.ok((await phrasingsOf(parts, second))?.length, 'turned on, the next completion is sampled');
    assert.deepEqual(seen, ['sampling/createMessage']);
  });

  it('sends nothing to a client that did not declare sampling, even with the setting on', async () => {
    const seen: string[] = [];
    conn = await httpClient(parts, { samplePhrasings: () => true }, plainClient(seen));
    const id = await completeOne(conn.client);
    await settle();
    assert.deepEqual(seen, []);
    assert.equal((await parts.store.getEpisode(id))?.context.phrasings, undefined);
  });

  it('a sampler that has not answered yet does not hold complete_episode back', async () => {
    let release: (r: CreateMessageResult) => void = () => undefined;
    let asked!: () => void;
    const requested = new Promise<void>((r) => (asked = r));
    const seen: string[] = [];
    conn = await httpClient(parts, { samplePhrasings: () => true }, samplingClient(() => (asked(), new Promise((r) => (release = r))), seen));
    // complete_episode answers while the sampler is still thinking (were it awaited, this would deadlock).
    const id = await completeOne(conn.client);
    await requested;
    assert.equal((await parts.store.getEpisode(id))?.outcome?.type, 'success');
    assert.equal((await parts.store.getEpisode(id))?.context.phrasings, undefined);
    // Other calls keep working meanwhile.
    assert.ok((await hitIds(conn.client, 'session token expiry')).includes(id));
    release(text(ANSWER));
    assert.equal((await phrasingsOf(parts, id))?.length, 3);
  });

  it('a failing, timed-out or nonsensical sampler changes nothing', async () => {
    const answers: (() => Promise<CreateMessageResult>)[] = [
      () => Promise.reject(new Error('the user declined')),
      () => new Promise(() => undefined), // never answers: the server's timeout ends it
      () => Promise.resolve({ model: 'fake-model', role: 'assistant', content: { type: 'image', data: 'AAAA', mimeType: 'image/png' } }),
      () => Promise.resolve(text('ok\n\n-\n')),
    ];
    const seen: string[] = [];
    let n = 0;
    conn = await httpClient(parts, { samplePhrasings: () => true, phrasingLimits: { timeoutMs: 300 } }, samplingClient(() => answers[n++](), seen));
    const ids: string[] = [];
    for (let i = 0; i < answers.length; i++) {
      ids.push(await completeOne(conn.client, `${TASK} (run ${i + 1})`));
      while (seen.length <= i) await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 600)); // past the timeout of the one that never answers
    for (const id of ids) {
      const ep = await parts.store.getEpisode(id);
      assert.equal(ep?.outcome?.type, 'success');
      assert.equal(ep?.context.phrasings, undefined, `no phrasings on ${id}`);
    }
    assert.equal(seen.length, answers.length);
  });
});

describe('mcp: parsePhrasings (model text in, phrasings out)', () => {
  const answer = (t: string): CreateMessageResult => ({ model: 'm', role: 'assistant', content: { type: 'text', text: t } });

  it('takes one phrasing a line, without list markers or quotes, at most count, skipping lines too short or too long', () => {
    const long = 'x'.repeat(201);
    assert.deepEqual(parsePhrasings(answer(`1) "first rewording here"\n\n* second rewording here\nno\n${long}\n• third rewording here\nfourth rewording here`), 3), ['first rewording here', 'second rewording here', 'third rewording here']);
  });

  it('refuses an answer that is not text or holds no usable line', () => {
    assert.throws(() => parsePhrasings({ model: 'm', role: 'assistant', content: { type: 'image', data: '', mimeType: 'image/png' } }, 3), /no usable phrasing/);
    assert.throws(() => parsePhrasings({ nonsense: true }, 3), /not a sampling result/);
    assert.throws(() => parsePhrasings(answer('ok\n-\n'), 3), /no usable phrasing/);
  });
});
