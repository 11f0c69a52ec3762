/**
 * MCP server benchmark: `npm run bench:mcp` (after `npm run build`).
 * One JSON object per line:
 *  - {"bench":"mcp","transport","tool","calls","p50_ms","p99_ms","mean_ms"}: sequential tools/call round trips;
 *  - {"bench":"mcp","transport","tool","clients":10,"calls","calls_per_s"}: throughput with 10 concurrent clients;
 *  - {"bench":"mcp","transport","resource","reads","p50_ms"}: resources/read of a 1,000-step episode (Markdown);
 *  - {"bench":"mcp","transport","tool","in_flight":100,"calls_per_s"}: execute_agent_code with 100 calls outstanding on one connection;
 *  - {"bench":"mcp","setup":"tools/list",...}: the listing's size in characters (and ~tokens at 4 characters a token);
 *  - {"bench":"mcp","target",...,"pass"}: the issue's targets.
 * Real parts: a MemoryStore in a temp folder seeded with BENCH_EPISODES (default 10,000) episodes,
 * the Sandbox with the bundled worker, and the built dist/cli.js for stdio.
 * BENCH_PARTS=exec runs only issue 17's stdio part (ping, the simple execute_agent_code, 100 in
 * flight, plain QuickJS and the two targets); BENCH_SERVER_NODE_ARGS passes node options to the
 * stdio server process (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it);
 * BENCH_BASELINE_CLI=/other/checkout/dist/cli.js then compares that build's stdio server with this
 * one's, side by side in interleaved rounds (each on its own copy of the store).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '../src/common/logger';
import { MemoryStore, type Episode, type TaskType } from '../src/memory';
import { Sandbox } from '../src/sandbox';
import { createServer, startHttpServer } from '../src/mcp';
import { plainQuickJS } from './plain-quickjs';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const WORKER = path.join(ROOT, 'dist', 'sandbox-worker.js');
const EPISODES = Number(process.env.BENCH_EPISODES ?? 10_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 300);
const CONCURRENT_CALLS = Number(process.env.BENCH_CONCURRENT_CALLS ?? 50); // per client
const EXEC_ONLY = process.env.BENCH_PARTS === 'exec';
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const BASELINE_CLI = process.env.BENCH_BASELINE_CLI;

// --- deterministic data ------------------------------------------------------
let seed = 42;
const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const VERBS = ['fix', 'refactor', 'add', 'speed up', 'debug', 'document', 'test', 'migrate', 'remove', 'rename'];
const NOUNS = ['config loader', 'auth middleware', 'cache layer', 'date parser', 'CLI flags', 'webpack build', 'payment webhook', 'retry logic', 'SQL query', 'YAML schema', 'logger', 'rate limiter', 'session store', 'image resizer', 'feature flag'];
const ISSUES = ['crashes on empty input', 'leaks memory under load', 'times out in CI', 'returns stale data', 'fails on Windows paths', 'is too slow', 'throws a TypeError', 'drops the last item', 'ignores the timezone', 'double-counts retries'];
const DOMAINS = ['web-api', 'cli', 'data-pipeline', 'frontend', 'infra', 'mobile'];
const TOOLS = ['read_file', 'edit_file', 'run_tests', 'grep_search', 'run_terminal', 'git_diff', 'run_build'];
const TYPES: TaskType[] = ['code_generation', 'debugging', 'refactoring', 'testing', 'analysis', 'documentation'];

/** The episode the resource read is measured on: LONG_STEPS steps, completed. */
const LONG_ID = 'bench_long';
const LONG_STEPS = 1000;
const LONG_URI = `memory://episodes/${LONG_ID}`;
const READS = Number(process.env.BENCH_READS ?? 100);

function genEpisode(i: number, t0: number, stepCount = 3 + Math.floor(rnd() * 5)): Episode {
  const started = t0 - Math.floor(rnd() * 90 * 86_400_000);
  const task = `${pick(VERBS)} the ${pick(NOUNS)} that ${pick(ISSUES)} (${pick(DOMAINS)} ticket ${1000 + i})`;
  const steps = Array.from({ length: stepCount }, (_, n) => {
    const fails = rnd() < 0.15;
    return {
      n: n + 1,
      timestamp: new Date(started + (n + 1) * 30_000).toISOString(),
      tool: pick(TOOLS),
      action: `${pick(VERBS)} ${pick(NOUNS)}`,
      parameters: { path: `src/${pick(NOUNS).replace(/ /g, '_')}.ts` },
      result: fails ? { status: 'error' as const, message: `Error: ${pick(ISSUES)}` } : { status: 'success' as const, output: 'ok' },
      latencyMs: 20 + Math.floor(rnd() * 2000),
    };
  });
  const ok = rnd() < 0.75;
  return {
    id: `bench_${i.toString(36)}`,
    task,
    domain: pick(DOMAINS),
    taskType: pick(TYPES),
    context: { language: pick(['typescript', 'python', 'go', 'rust']), tags: [pick(['perf', 'bug', 'ci', 'security', 'ux'])] },
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(started + 600_000).toISOString(),
    steps,
    outcome: ok ? { type: 'success', verdict: `${pick(NOUNS)} works again` } : { type: 'failure', reason: `still ${pick(ISSUES)}` },
  };
}
const genQuery = (): string => `${pick(VERBS)} ${pick(NOUNS)} ${pick(ISSUES)}`;

// --- measurement -------------------------------------------------------------
const out = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ bench: 'mcp', ...o })}\n`);
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r3 = (n: number): number => Math.round(n * 1000) / 1000;

type Args = () => Record<string, unknown>;
const WORKLOADS: { tool: string; args: Args }[] = [
  { tool: 'query_memory', args: () => ({ query: genQuery(), limit: 10 }) },
  { tool: 'execute_agent_code', args: () => ({ code: 'return context.input.a + context.input.b', context: { task: 'add', input: { a: 1, b: 2 } } }) },
  { tool: 'execute_agent_code', args: () => ({ code: 'const r = await memory.query({ query: context.input.q, limit: 5 }); return r.hits.map(h => h.episode_id)', context: { task: 'memory in code', input: { q: genQuery() } } }) },
];
const label = (w: { tool: string; args: Args }, i: number): string => (i === 2 ? 'execute_agent_code+memory.query' : w.tool);

async function callOk(client: Client, tool: string, args: Record<string, unknown>): Promise<void> {
  const r = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
  if (r.isError) throw new Error(`${tool} failed: ${JSON.stringify(r.content).slice(0, 300)}`);
  if (tool === 'execute_agent_code' && (r.structuredContent as { kind?: string } | undefined)?.kind !== 'success') throw new Error(`execute failed: ${JSON.stringify(r.structuredContent).slice(0, 300)}`);
}

const results = new Map<string, number>();

async function sequential(transport: string, client: Client, serverPid?: number | null): Promise<void> {
  /** The server's CPU ms per call over the CALLS calls since `since` (stdio only). */
  const serverCpu = (since: ReturnType<typeof processCpuMs>): Record<string, number> => cpuPerCall(since, processCpuMs(serverPid), CALLS);
  {
    // the transport alone: an MCP ping round trip
    for (let k = 0; k < 30; k++) await client.ping();
    const times: number[] = [];
    const cpu0 = processCpuMs(serverPid);
    for (let k = 0; k < CALLS; k++) {
      const t = performance.now();
      await client.ping();
      times.push(performance.now() - t);
    }
    results.set(`${transport}/(ping)`, pct(times, 50));
    out({ transport, tool: '(ping)', calls: CALLS, p50_ms: r3(pct(times, 50)), p99_ms: r3(pct(times, 99)), ...serverCpu(cpu0) });
  }
  for (const [i, w] of WORKLOADS.entries()) {
    if (EXEC_ONLY && i !== 1) continue;
    for (let k = 0; k < 30; k++) await callOk(client, w.tool, w.args()); // warm-up
    const times: number[] = [];
    const cpu0 = processCpuMs(serverPid);
    for (let k = 0; k < CALLS; k++) {
      const args = w.args();
      const t = performance.now();
      await callOk(client, w.tool, args);
      times.push(performance.now() - t);
    }
    const p50 = pct(times, 50);
    results.set(`${transport}/${label(w, i)}`, p50);
    out({ transport, tool: label(w, i), episodes: EPISODES, calls: CALLS, p50_ms: r3(p50), p99_ms: r3(pct(times, 99)), mean_ms: r3(times.reduce((a, b) => a + b, 0) / times.length), ...serverCpu(cpu0) });
  }
  if (!EXEC_ONLY) {
    const read = async (): Promise<number> => {
      const r = await client.readResource({ uri: LONG_URI });
      const text = (r.contents[0] as { text?: string }).text ?? '';
      if (!text.includes(`${LONG_STEPS}. \``)) throw new Error(`the ${LONG_STEPS}-step episode read back without its last step`);
      return text.length;
    };
    for (let k = 0; k < 10; k++) await read();
    const times: number[] = [];
    let chars = 0;
    for (let k = 0; k < READS; k++) {
      const t = performance.now();
      chars = await read();
      times.push(performance.now() - t);
    }
    results.set(`${transport}/(resource read)`, pct(times, 50));
    out({ transport, resource: `episode with ${LONG_STEPS} steps`, episodes: EPISODES, reads: READS, markdown_chars: chars, p50_ms: r3(pct(times, 50)), p99_ms: r3(pct(times, 99)) });
  }
}

async function concurrent(transport: string, clients: Client[], note?: string): Promise<void> {
  for (const [i, w] of WORKLOADS.entries()) {
    if (i === 2) continue;
    const t = performance.now();
    await Promise.all(clients.map(async (c) => {
      for (let k = 0; k < CONCURRENT_CALLS; k++) await callOk(c, w.tool, w.args());
    }));
    const s = (performance.now() - t) / 1000;
    const calls = clients.length * CONCURRENT_CALLS;
    out({ transport, tool: w.tool, clients: clients.length, calls, seconds: r3(s), calls_per_s: Math.round(calls / s), ...(note ? { note } : {}) });
  }
}

const IN_FLIGHT_CALLS = Number(process.env.BENCH_IN_FLIGHT_CALLS ?? 3000);

/** CPU time (user + system) a process has used so far, in ms: all threads, its main thread, and each thread by id; undefined where /proc is missing. */
function processCpuMs(pid: number | null | undefined): { all: number; main: number; threads: Map<string, number> } | undefined {
  if (!pid) return undefined;
  // Fields after the parenthesised command name: utime and stime are the 12th and 13th (clock ticks, 100 a second on Linux).
  const ticks = (file: string): number => {
    const fields = fs.readFileSync(file, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  try {
    const threads = new Map<string, number>();
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        threads.set(tid, ticks(`/proc/${pid}/task/${tid}/stat`));
      } catch {
        // the thread ended meanwhile
      }
    }
    return { all: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`), threads };
  } catch {
    return undefined;
  }
}

/**
 * The server's CPU per call by thread between two readings: the main thread, the two busiest others
 * (with 100 in flight, the sandbox pool's two workers) and all the rest (store worker, V8's GC helpers, libuv).
 */
function threadSplit(a: ReturnType<typeof processCpuMs>, b: ReturnType<typeof processCpuMs>, pid: number, calls: number): Record<string, unknown> {
  if (!a || !b) return {};
  const others = [...b.threads].filter(([tid]) => tid !== String(pid)).map(([tid, ms]) => ms - (a.threads.get(tid) ?? 0)).sort((x, y) => y - x);
  const rest = others.slice(2).reduce((sum, ms) => sum + ms, 0);
  return { server_cpu_ms_per_call_by_thread: { main: r3((b.main - a.main) / calls), busiest_two_others: others.slice(0, 2).map((ms) => r3(ms / calls)), rest: r3(rest / calls) } };
}

/** CPU ms per call between two processCpuMs readings, as bench fields. */
function cpuPerCall(a: ReturnType<typeof processCpuMs>, b: ReturnType<typeof processCpuMs>, calls: number): Record<string, number> {
  return a && b ? { server_cpu_ms_per_call: r3((b.all - a.all) / calls), server_main_thread_cpu_ms_per_call: r3((b.main - a.main) / calls) } : {};
}

/**
 * execute_agent_code (the simple script) with `depth` calls outstanding on one client, median of 3
 * rounds (issue 17); with the server's pid, also the CPU time the server and this client spent per call
 * (all threads: less sensitive to the machine's load than the rate).
 */
async function inFlight(transport: string, client: Client, depth: number, serverPid?: number | null): Promise<void> {
  const simple = WORKLOADS[1];
  const rounds: number[] = [];
  const serverCpu: number[] = [];
  const serverMainCpu: number[] = [];
  const clientCpu: number[] = [];
  const first = processCpuMs(serverPid);
  for (let round = 0; round < 3; round++) {
    let started = 0;
    const s0 = processCpuMs(serverPid);
    const c0 = process.cpuUsage();
    const t = performance.now();
    await Promise.all(Array.from({ length: depth }, async () => {
      while (started < IN_FLIGHT_CALLS) {
        started++;
        await callOk(client, simple.tool, simple.args());
      }
    }));
    rounds.push(IN_FLIGHT_CALLS / ((performance.now() - t) / 1000));
    const s1 = processCpuMs(serverPid);
    if (s0 && s1) {
      serverCpu.push((s1.all - s0.all) / IN_FLIGHT_CALLS);
      serverMainCpu.push((s1.main - s0.main) / IN_FLIGHT_CALLS);
    }
    const c = process.cpuUsage(c0);
    clientCpu.push((c.user + c.system) / 1000 / IN_FLIGHT_CALLS);
  }
  const perSecond = Math.round(pct(rounds, 50));
  results.set(`${transport}/in flight ${depth}`, perSecond);
  const cpu = serverCpu.length ? { server_cpu_ms_per_call: r3(pct(serverCpu, 50)), server_main_thread_cpu_ms_per_call: r3(pct(serverMainCpu, 50)) } : {};
  const split = serverPid ? threadSplit(first, processCpuMs(serverPid), serverPid, 3 * IN_FLIGHT_CALLS) : {};
  out({ transport, tool: simple.tool, in_flight: depth, calls_per_round: IN_FLIGHT_CALLS, rounds: rounds.map(Math.round), calls_per_s: perSecond, ...cpu, ...split, client_cpu_ms_per_call: r3(pct(clientCpu, 50)), note: 'median of 3 rounds, one connection' });
}

/**
 * This build's stdio server against BENCH_BASELINE_CLI's, interleaved: per round, each does CALLS
 * sequential simple runs (p50) and IN_FLIGHT_CALLS runs with 100 in flight (rate); medians of 5 rounds.
 */
async function againstBaseline(dir: string, baselineCli: string): Promise<void> {
  const simple = WORKLOADS[1];
  const servers = await Promise.all(
    [{ label: 'this build', cli: CLI }, { label: 'baseline', cli: path.resolve(baselineCli) }].map(async ({ label, cli }, i) => {
      const db = `${dir}-ab${i}`;
      fs.cpSync(dir, db, { recursive: true });
      const client = new Client({ name: 'bench', version: '1' });
      const transport = new StdioClientTransport({ command: process.execPath, args: [cli, '--db', db, '--log-level', 'error'], stderr: 'inherit' });
      await client.connect(transport);
      for (let k = 0; k < 100; k++) await callOk(client, simple.tool, simple.args());
      return { label, cli, db, client, pid: transport.pid, p50: [] as number[], rate: [] as number[], cpu: [] as number[], mainCpu: [] as number[] };
    }),
  );
  try {
    for (let round = 0; round < 5; round++) {
      for (const s of round % 2 ? [...servers].reverse() : servers) {
        const times: number[] = [];
        for (let k = 0; k < CALLS; k++) {
          const args = simple.args();
          const t = performance.now();
          await callOk(s.client, simple.tool, args);
          times.push(performance.now() - t);
        }
        s.p50.push(pct(times, 50));
        let started = 0;
        const c0 = processCpuMs(s.pid);
        const t = performance.now();
        await Promise.all(Array.from({ length: 100 }, async () => {
          while (started < IN_FLIGHT_CALLS) {
            started++;
            await callOk(s.client, simple.tool, simple.args());
          }
        }));
        s.rate.push(IN_FLIGHT_CALLS / ((performance.now() - t) / 1000));
        const c1 = processCpuMs(s.pid);
        if (c0 && c1) {
          s.cpu.push((c1.all - c0.all) / IN_FLIGHT_CALLS);
          s.mainCpu.push((c1.main - c0.main) / IN_FLIGHT_CALLS);
        }
      }
    }
    const [cur, base] = servers;
    for (const s of servers) {
      out({ transport: 'stdio', compare: s.label, cli: s.cli, tool: simple.tool, p50_ms: r3(pct(s.p50, 50)), in_flight_100_calls_per_s: Math.round(pct(s.rate, 50)), server_cpu_ms_per_call: s.cpu.length ? r3(pct(s.cpu, 50)) : undefined, server_main_thread_cpu_ms_per_call: s.mainCpu.length ? r3(pct(s.mainCpu, 50)) : undefined, rounds: 5 });
    }
    out({ transport: 'stdio', compare: 'this build / baseline', p50: r3(pct(cur.p50, 50) / pct(base.p50, 50)), in_flight_rate: r3(pct(cur.rate, 50) / pct(base.rate, 50)), server_cpu: cur.cpu.length ? r3(pct(cur.cpu, 50) / pct(base.cpu, 50)) : undefined, server_main_thread_cpu: cur.mainCpu.length ? r3(pct(cur.mainCpu, 50) / pct(base.mainCpu, 50)) : undefined, load_avg_1m: r3(os.loadavg()[0]) });
  } finally {
    for (const s of servers) {
      await s.client.close();
      fs.rmSync(s.db, { recursive: true, force: true });
    }
  }
}

/** Plain QuickJS (a fresh runtime + context per run, this thread) on the simple script: p50, median of 5 rounds of 300. */
async function plainP50(): Promise<number> {
  const plain = await plainQuickJS();
  const code = 'return context.input.a + context.input.b';
  const run = (): void => {
    if (plain.run(code, { task: 'add', input: { a: 1, b: 2 } }) !== '3') throw new Error('plain QuickJS gave a wrong result');
  };
  for (let i = 0; i < 300; i++) run();
  const p50s: number[] = [];
  for (let round = 0; round < 5; round++) {
    const xs: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t = performance.now();
      run();
      xs.push(performance.now() - t);
    }
    p50s.push(pct(xs, 50));
  }
  return pct(p50s, 50);
}

async function main(): Promise<void> {
  if (!fs.existsSync(CLI) || !fs.existsSync(WORKER)) throw new Error('run `npm run build` first');
  out({ setup: 'machine', cpus: os.cpus().length, load_avg_1m: r3(os.loadavg()[0]), load_avg_5m: r3(os.loadavg()[1]) });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-bench-'));
  try {
    let store = await MemoryStore.open({ dir, logger: silentLogger });
    const t0 = Date.now();
    const ts = performance.now();
    for (let i = 0; i < EPISODES; i += 2000) {
      const episodes = Array.from({ length: Math.min(2000, EPISODES - i) }, (_, j) => genEpisode(i + j, t0));
      if (i === 0) episodes[0] = { ...genEpisode(0, t0, LONG_STEPS), id: LONG_ID };
      await store.importAll({ format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes });
    }
    out({ setup: 'seed', episodes: (await store.stats()).episodes, ms: Math.round(performance.now() - ts) });
    const sandbox = new Sandbox({ workerPath: WORKER, logger: silentLogger });

    // baselines: the store and the sandbox called directly (no MCP)
    if (!EXEC_ONLY) {
      const q: number[] = [];
      const x: number[] = [];
      for (let k = 0; k < 30; k++) await store.query({ query: genQuery(), limit: 10 });
      for (let k = 0; k < CALLS; k++) {
        const t = performance.now();
        await store.query({ query: genQuery(), limit: 10 });
        q.push(performance.now() - t);
      }
      for (let k = 0; k < 30; k++) await sandbox.execute('return 1', { task: 'warm' });
      for (let k = 0; k < CALLS; k++) {
        const t = performance.now();
        await sandbox.execute('return context.input.a + context.input.b', { task: 'add', input: { a: 1, b: 2 } });
        x.push(performance.now() - t);
      }
      out({ transport: 'direct (no MCP)', tool: 'store.query', episodes: EPISODES, calls: CALLS, p50_ms: r3(pct(q, 50)), p99_ms: r3(pct(q, 99)) });
      const g: number[] = [];
      for (let k = 0; k < 10; k++) await store.getEpisodePage(LONG_ID, { limit: LONG_STEPS });
      for (let k = 0; k < READS; k++) {
        const t = performance.now();
        await store.getEpisodePage(LONG_ID, { limit: LONG_STEPS });
        g.push(performance.now() - t);
      }
      results.set('direct/getEpisodePage', pct(g, 50));
      out({ transport: 'direct (no MCP)', tool: `store.getEpisodePage (${LONG_STEPS} steps)`, episodes: EPISODES, calls: READS, p50_ms: r3(pct(g, 50)), p99_ms: r3(pct(g, 99)) });
      out({ transport: 'direct (no MCP)', tool: 'sandbox.execute', calls: CALLS, p50_ms: r3(pct(x, 50)), p99_ms: r3(pct(x, 99)) });
    }

    // in-memory
    if (!EXEC_ONLY) {
      const pairs = await Promise.all(Array.from({ length: 10 }, async () => {
        const server = createServer({ store, sandbox, logger: silentLogger, transport: 'in-memory' });
        const [a, b] = InMemoryTransport.createLinkedPair();
        await server.connect(b);
        const client = new Client({ name: 'bench', version: '1' });
        await client.connect(a);
        return { server, client };
      }));
      const { tools } = await pairs[0].client.listTools();
      const listChars = JSON.stringify({ tools }).length;
      results.set('tools/list chars', listChars);
      out({ setup: 'tools/list', tools: tools.length, note: 'core tools, as listed before discover_tools', chars: listChars, tokens_est: Math.round(listChars / 4) });
      await sequential('in-memory', pairs[0].client);
      await concurrent('in-memory', pairs.map((p) => p.client));
      for (const p of pairs) await p.client.close();
    }

    // Streamable HTTP (stateful, JSON responses): the server in this process, like the extension
    // host; the 10 clients in a child process, like VS Code's MCP client (no shared event loop).
    if (!EXEC_ONLY) {
      const http = await startHttpServer({ store, sandbox, logger: silentLogger });
      const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--http-client', http.url], {
        env: { ...process.env, MCP_BENCH_TOKEN: http.token, BENCH_EPISODES: String(EPISODES) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let buf = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          process.stdout.write(`${line}\n`);
          const o = JSON.parse(line) as { transport?: string; tool?: string; resource?: string; p50_ms?: number; clients?: number };
          if (o.transport && o.tool && o.p50_ms !== undefined && o.clients === undefined) results.set(`${o.transport}/${o.tool}`, o.p50_ms);
          if (o.transport && o.resource && o.p50_ms !== undefined) results.set(`${o.transport}/(resource read)`, o.p50_ms);
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      await http.close();
      if (code !== 0) throw new Error(`HTTP client process exited with ${code}`);
    }
    await sandbox.close();
    await store.close();
    store = undefined as unknown as MemoryStore;

    // stdio: the built bin owns the same store folder in a child process
    {
      const client = new Client({ name: 'bench', version: '1' });
      const stdio = new StdioClientTransport({ command: process.execPath, args: [...SERVER_NODE_ARGS, CLI, '--db', dir, '--log-level', 'error'], stderr: 'inherit' });
      await client.connect(stdio);
      await sequential('stdio', client, stdio.pid);
      if (!EXEC_ONLY) await concurrent('stdio', Array.from({ length: 10 }, () => client), '10 concurrent callers on one stdio connection (one server process)');
      await inFlight('stdio', client, 100, stdio.pid);
      await client.close();
    }
    // Issue 17's stdio targets, against this run's ping and plain QuickJS.
    {
      const plain = await plainP50();
      const ping = results.get('stdio/(ping)') ?? NaN;
      const exec = results.get('stdio/execute_agent_code') ?? NaN;
      out({ target: 'execute_agent_code over stdio p50 ≤ ping p50 + plain QuickJS p50 + 0.5 ms', p50_ms: r3(exec), ping_p50_ms: r3(ping), plain_quickjs_p50_ms: r3(plain), limit_ms: r3(ping + plain + 0.5), pass: exec <= ping + plain + 0.5, load_avg_1m: r3(os.loadavg()[0]) });
      const rate = results.get('stdio/in flight 100') ?? NaN;
      out({ target: 'execute_agent_code over stdio ≥ 1,500 calls/s with 100 in flight on one connection', calls_per_s: rate, limit: 1500, pass: rate >= 1500, load_avg_1m: r3(os.loadavg()[0]) });
    }
    if (BASELINE_CLI) await againstBaseline(dir, BASELINE_CLI);
    if (EXEC_ONLY) return;

    const targets = [
      { target: 'execute_agent_code (simple script) over HTTP p50', key: 'http/execute_agent_code', limit: 5 },
      { target: `query_memory at ${EPISODES} episodes over HTTP p50`, key: 'http/query_memory', limit: 10 },
      { target: `resources/read of a ${LONG_STEPS}-step episode at ${EPISODES} episodes over HTTP p50`, key: 'http/(resource read)', limit: 20 },
    ];
    const listChars = results.get('tools/list chars') ?? NaN;
    out({ target: 'tools/list for the core tools ≤ 12,000 characters', chars: listChars, tokens_est: Math.round(listChars / 4), pass: listChars <= 12_000 });
    // Timings scale with the machine's load: the same run's HTTP ping is the reference.
    const ping = results.get('http/(ping)') ?? NaN;
    for (const t of targets) {
      const v = results.get(t.key) ?? NaN;
      const extra = t.key === 'http/(resource read)' ? { over_store_read_p50: r3(v / (results.get('direct/getEpisodePage') ?? NaN)) } : {};
      out({ target: t.target, p50_ms: r3(v), limit_ms: t.limit, pass: v <= t.limit, over_http_ping_p50: r3(v / ping), ...extra, load_avg_1m: r3(os.loadavg()[0]) });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function httpClientMode(url: string): Promise<void> {
  const token = process.env.MCP_BENCH_TOKEN ?? '';
  const clients = await Promise.all(
    Array.from({ length: 10 }, async () => {
      const c = new Client({ name: 'bench', version: '1' });
      await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      return c;
    }),
  );
  await sequential('http', clients[0]);
  await concurrent('http', clients, '10 clients (10 sessions) in one client process');
  for (const c of clients) await c.close();
}

const clientAt = process.argv.indexOf('--http-client');
(clientAt > 0 ? httpClientMode(process.argv[clientAt + 1]) : main()).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
