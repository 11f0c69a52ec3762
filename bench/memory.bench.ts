import { spawnSync } from 'node:child_process';
/**
 * Episodic memory benchmark: `npm run bench:memory` (sizes: BENCH_SIZES=10000,100000).
 * Prints one JSON object per line. Synthetic but realistic episodes: tasks built
 * from a varied vocabulary with code identifiers, file paths, error messages,
 * tool workflows with noise, outcomes, tags.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryStore } from '../src/memory';
import type { Episode, Outcome, Step, TaskType } from '../src/memory';

// ---------------------------------------------------------------------------
// Deterministic generator
// ---------------------------------------------------------------------------

let seed = 0x2545f491;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
/** The generator's state, to continue from it in a later run (a cached generated file). */
export const rngState = (): number => seed;
export function restoreRngState(state: number): void {
  seed = state;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
const chance = (p: number): boolean => rnd() < p;

const VERBS = ['fix', 'add', 'refactor', 'implement', 'debug', 'optimize', 'migrate', 'test', 'document', 'remove', 'rename', 'split', 'cache', 'validate', 'parallelize', 'secure', 'upgrade', 'investigate', 'profile', 'simplify'];
const ADJ = ['flaky', 'slow', 'broken', 'legacy', 'async', 'nested', 'duplicate', 'missing', 'stale', 'concurrent', 'nullable', 'unicode', 'large', 'empty', 'recursive', 'optional', 'deprecated', 'intermittent'];
const NOUNS = [
  'login form', 'payment service', 'config parser', 'cache layer', 'websocket handler', 'retry logic', 'database migration', 'user profile page', 'search endpoint',
  'rate limiter', 'file watcher', 'CSV importer', 'auth middleware', 'session store', 'image resizer', 'email queue', 'feature flag', 'GraphQL resolver', 'date formatter',
  'pagination', 'dark mode toggle', 'error boundary', 'logging pipeline', 'metrics exporter', 'plugin loader', 'CLI argument parser', 'dependency injection container',
  'state machine', 'undo stack', 'diff viewer', 'markdown renderer', 'tokenizer', 'HTTP client', 'connection pool', 'job scheduler', 'notification center', 'shopping cart',
  'invoice generator', 'permissions check', 'i18n catalog', 'build script', 'docker image', 'CI workflow', 'test fixtures', 'snapshot tests', 'memory leak', 'race condition',
];
const WORDS = ['user', 'order', 'config', 'token', 'session', 'cache', 'item', 'file', 'path', 'request', 'response', 'payload', 'schema', 'query', 'event', 'handler', 'state', 'store', 'client', 'server', 'job', 'task', 'queue', 'stream', 'buffer', 'record', 'entry', 'node', 'tree', 'graph', 'route', 'view', 'model', 'field', 'value', 'key', 'map', 'list', 'batch', 'chunk', 'price', 'invoice', 'account', 'email', 'image', 'locale', 'plugin', 'module', 'worker', 'timer'];
const IDVERBS = ['get', 'set', 'parse', 'load', 'save', 'fetch', 'update', 'validate', 'build', 'create', 'delete', 'handle', 'resolve', 'render', 'compute', 'normalize', 'serialize', 'merge', 'apply', 'flush'];
const LANGS = ['typescript', 'python', 'rust', 'go', 'java', 'javascript', 'csharp'];
const FRAMEWORKS: Record<string, string[]> = {
  typescript: ['react', 'express', 'nestjs', 'vue', 'angular', 'next'],
  javascript: ['react', 'express', 'node', 'svelte'],
  python: ['django', 'flask', 'fastapi', 'pandas', 'pytest'],
  rust: ['tokio', 'actix', 'axum', 'serde'],
  go: ['gin', 'echo', 'grpc'],
  java: ['spring', 'junit', 'hibernate'],
  csharp: ['aspnet', 'efcore', 'xunit'],
};
const EXT: Record<string, string> = { typescript: 'ts', javascript: 'js', python: 'py', rust: 'rs', go: 'go', java: 'java', csharp: 'cs' };
const DOMAINS = ['web', 'backend', 'cli', 'data', 'infra', 'mobile', 'ml', 'devtools'];
const TASK_TYPES: TaskType[] = ['code_generation', 'debugging', 'refactoring', 'testing', 'analysis', 'documentation', 'other'];
const TAGS = ['auth', 'perf', 'security', 'ui', 'api', 'db', 'flaky', 'regression', 'p1', 'tech-debt', 'a11y', 'i18n', 'ci', 'release', 'customer'];
const WORKFLOWS: string[][] = [
  ['grep_search', 'read_file', 'edit_file', 'run_tests'],
  ['read_file', 'edit_file', 'run_tests', 'git_diff'],
  ['list_dir', 'read_file', 'edit_file', 'run_terminal'],
  ['query_memory', 'read_file', 'edit_file', 'run_tests'],
  ['run_tests', 'read_file', 'edit_file', 'run_tests'],
  ['grep_search', 'read_file', 'execute_code', 'edit_file'],
  ['web_fetch', 'read_file', 'edit_file', 'run_build'],
  ['read_file', 'run_terminal', 'edit_file', 'run_build', 'run_tests'],
];
const TOOLS = ['read_file', 'edit_file', 'run_tests', 'grep_search', 'run_terminal', 'list_dir', 'git_diff', 'web_fetch', 'execute_code', 'query_memory', 'run_build', 'create_file'];

function ident(): string {
  const style = rnd();
  const a = pick(IDVERBS);
  const b = pick(WORDS);
  const c = chance(0.5) ? pick(WORDS) : '';
  if (style < 0.5) return a + cap(b) + (c ? cap(c) : '');
  if (style < 0.75) return [a, b, c].filter(Boolean).join('_');
  return `${cap(b)}${chance(0.5) ? 'Service' : 'Manager'}.${a}${cap(c || pick(WORDS))}`;
}
const cap = (s: string): string => s[0].toUpperCase() + s.slice(1);
function filePath(lang: string): string {
  return `src/${pick(WORDS)}/${pick(WORDS)}${cap(pick(WORDS))}.${EXT[lang]}`;
}
function errorMessage(lang: string): string {
  const id = ident();
  const f = filePath(lang);
  const line = 1 + Math.floor(rnd() * 400);
  switch (Math.floor(rnd() * 10)) {
    case 0:
      return `TypeError: Cannot read properties of undefined (reading '${pick(WORDS)}Id') at ${id} (${f}:${line}:17)`;
    case 1:
      return `ENOENT: no such file or directory, open '${f}'`;
    case 2:
      return `${f}(${line},9): error TS2345: Argument of type 'string | undefined' is not assignable to parameter of type 'string'.`;
    case 3:
      return `AssertionError: expected ${Math.floor(rnd() * 500)} to equal ${Math.floor(rnd() * 500)} in ${id}.test`;
    case 4:
      return `Error: connect ECONNREFUSED 127.0.0.1:${pick([5432, 6379, 3306, 8080, 27017])} while calling ${id}`;
    case 5:
      return `SyntaxError: Unexpected token } in JSON at position ${Math.floor(rnd() * 2000)} (${pick(WORDS)} payload)`;
    case 6:
      return `Timeout of ${pick([2000, 5000, 30000])}ms exceeded in ${id}; the ${pick(WORDS)} ${pick(['lock', 'promise', 'request'])} never resolved`;
    case 7:
      return `KeyError: '${pick(WORDS)}_${pick(WORDS)}' in ${id} at ${f}:${line}`;
    case 8:
      return `panicked at 'called \`Option::unwrap()\` on a \`None\` value', ${f}:${line}:5 (${id})`;
    default:
      return `NullPointerException: ${cap(pick(WORDS))}${cap(pick(WORDS))} is null in ${id}`;
  }
}

function sentence(n: number): string {
  const w: string[] = [];
  for (let i = 0; i < n; i++) w.push(chance(0.15) ? ident() : pick([...WORDS, ...ADJ, 'the', 'when', 'after', 'with', 'before', 'for', 'and']));
  return w.join(' ');
}

let idCounter = 0;
export function genEpisode(t0: number): { ep: Episode; text: string } {
  const lang = pick(LANGS);
  const fw = chance(0.7) ? pick(FRAMEWORKS[lang]) : undefined;
  const taskType = pick(TASK_TYPES);
  const domain = pick(DOMAINS);
  const noun = pick(NOUNS);
  const id0 = ident();
  const err0 = errorMessage(lang);
  const task =
    `${cap(pick(VERBS))} the ${pick(ADJ)} ${noun} in ${filePath(lang)}: ${sentence(10 + Math.floor(rnd() * 12))}. ` +
    `${chance(0.5) ? `It fails with "${err0.slice(0, 120)}". ` : ''}Look at ${id0} and ${ident()} ${chance(0.5) ? `(${pick(NOUNS)})` : ''}.`;
  const started = t0 - Math.floor(rnd() * 180 * 86_400_000);
  const wf = [...pick(WORKFLOWS)];
  if (chance(0.3)) wf.splice(Math.floor(rnd() * wf.length), 0, pick(TOOLS));
  const steps: Step[] = [];
  let ts = started;
  let errors = 0;
  for (const tool of wf) {
    const fails = chance(0.12);
    ts += 1000 + Math.floor(rnd() * 60_000);
    const n = steps.length + 1;
    const action = `${tool === 'edit_file' ? 'Change' : tool === 'run_tests' ? 'Run' : 'Inspect'} ${ident()}`;
    steps.push({
      n,
      timestamp: new Date(ts).toISOString(),
      tool,
      action,
      parameters: chance(0.5) ? { path: filePath(lang) } : { query: ident() },
      result: fails ? { status: 'error', message: errorMessage(lang) } : { status: 'success', output: `${sentence(4)} ${pick(['ok', 'updated', '3 passed', '12 matches', 'built'])}` },
      latencyMs: 20 + Math.floor(rnd() * 3000),
    });
    if (fails) {
      errors++;
      ts += 2000;
      steps.push({
        n: n + 1,
        timestamp: new Date(ts).toISOString(),
        tool: chance(0.5) ? tool : pick(TOOLS),
        action: `Retry after fixing ${ident()}`,
        parameters: {},
        result: { status: 'success', output: 'fixed' },
        latencyMs: 20 + Math.floor(rnd() * 2000),
      });
    }
  }
  const r = rnd() - errors * 0.08;
  const outcome: Outcome =
    r > 0.35
      ? { type: 'success', verdict: `${cap(pick(VERBS))}ed ${noun}; ${sentence(6)}`, artifacts: [filePath(lang)] }
      : r > 0.15
        ? { type: 'partial_success', verdict: `${noun} mostly done`, completed: [ident()], failed: [ident()] }
        : r > 0.05
          ? { type: 'failure', reason: `Could not ${pick(VERBS)} ${noun}: ${errorMessage(lang).slice(0, 100)}` }
          : { type: 'abstained', reason: `Needs a decision about ${pick(NOUNS)}` };
  const ep: Episode = {
    id: `bench_${(idCounter++).toString(36)}`,
    task,
    domain,
    taskType,
    context: { language: lang, framework: fw, tags: [pick(TAGS), ...(chance(0.4) ? [pick(TAGS)] : [])].filter((v, i, a) => a.indexOf(v) === i) },
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(ts + 1000).toISOString(),
    steps,
    outcome,
  };
  const text = `${task} ${JSON.stringify(steps)} ${JSON.stringify(outcome)} ${ep.context.tags.join(' ')}`.toLowerCase();
  return { ep, text };
}

export function genQuery(): string {
  switch (Math.floor(rnd() * 5)) {
    case 0:
      return `${pick(VERBS)} ${pick(ADJ)} ${pick(NOUNS)}`;
    case 1:
      return `${pick(NOUNS)} ${ident()} ${pick(WORDS)}`;
    case 2:
      return errorMessage(pick(LANGS)).split(' ').slice(0, 6).join(' ');
    case 3:
      return `how to ${pick(VERBS)} ${pick(NOUNS)} with ${pick(Object.values(FRAMEWORKS).flat())}`;
    default:
      return `${pick(WORDS)} ${pick(WORDS)} ${pick(ADJ)} ${pick(IDVERBS)}`;
  }
}

// ---------------------------------------------------------------------------
// Measurement helpers
// ---------------------------------------------------------------------------

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 1000) / 1000;
}
const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const mb = (b: number): number => Math.round((b / 1048576) * 10) / 10;
const emit = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));

/** Baseline: a plain substring scan ranking by the number of query words contained. */
function scan(texts: string[], q: string): number[] {
  const words = q
    .toLowerCase()
    .split(/[^a-z0-9_]+/)
    .filter((w) => w.length > 2);
  const scores: [number, number][] = [];
  for (let i = 0; i < texts.length; i++) {
    let s = 0;
    for (const w of words) if (texts[i].includes(w)) s++;
    if (s > 0) scores.push([s, i]);
  }
  scores.sort((a, b) => b[0] - a[0]);
  return scores.slice(0, 10).map((x) => x[1]);
}

/**
 * Queries made only of the corpus's most common words (in the most episodes; JSON field
 * names left out): the worst case for an inverted index, each term's postings list is
 * most of the store.
 */
export function commonQueries(texts: string[], count: number): string[] {
  const fieldNames = new Set<string>();
  for (const t of texts.slice(0, 200)) for (const m of t.matchAll(/"([a-z_]+)":/g)) fieldNames.add(m[1]);
  const df = new Map<string, number>();
  for (const t of texts) for (const w of new Set(t.split(/[^a-z0-9_]+/))) if (w.length > 2 && !fieldNames.has(w)) df.set(w, (df.get(w) ?? 0) + 1);
  const common = [...df].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([w]) => w);
  return Array.from({ length: count }, () => Array.from({ length: 2 + Math.floor(rnd() * 4) }, () => pick(common)).join(' '));
}

/** BENCH_EXPANSION=off measures the ranking without query/document expansion and feedback (for comparison). */
const EXPANSION = process.env.BENCH_EXPANSION === 'off' ? 'off' : 'on';
const RETRIEVAL = EXPANSION === 'off' ? { lexicon: false, wordnet: false, associations: false, feedback: false, docExpansion: false } : {};

async function runSize(n: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mem-bench-${n}-`));
  const t0 = Date.now();
  const texts: string[] = [];
  const store = await MemoryStore.open({ dir, snapshotDebounceMs: 3_600_000, retrieval: RETRIEVAL });
  const tb = now();
  const CHUNK = 10_000; // big imports: one transaction and one bulk pattern update per chunk
  for (let i = 0; i < n; i += CHUNK) {
    const episodes: Episode[] = [];
    for (let j = i; j < Math.min(n, i + CHUNK); j++) {
      const g = genEpisode(t0);
      episodes.push(g.ep);
      texts.push(g.text);
    }
    await store.importAll({ format: 'agent-memory-export', version: 1, exportedAt: new Date().toISOString(), episodes });
  }
  const buildMs = now() - tb;
  let ts = now();
  await store.snapshot();
  const snapshotMs = now() - ts;
  // Second snapshot after one small change: the steady-state background cost.
  await store.createEpisode({ task: 'tiny change', taskType: 'other' });
  ts = now();
  await store.snapshot();
  const snapshotSmallChangeMs = now() - ts;

  // Acknowledged writes (each fsynced).
  const writes: number[] = [];
  const byOp: Record<string, number[]> = { create: [], addStep: [], complete: [] };
  for (let i = 0; i < 60; i++) {
    const g = genEpisode(t0).ep;
    let a = now();
    const ep = await store.createEpisode({ task: g.task, taskType: g.taskType, domain: g.domain, context: g.context });
    let d = now() - a;
    writes.push(d);
    byOp.create.push(d);
    for (const s of g.steps.slice(0, 4)) {
      a = now();
      await store.addStep(ep.id, { tool: s.tool, action: s.action, parameters: s.parameters, result: s.result, latencyMs: s.latencyMs });
      d = now() - a;
      writes.push(d);
      byOp.addStep.push(d);
    }
    a = now();
    await store.completeEpisode(ep.id, { outcome: g.outcome! });
    d = now() - a;
    writes.push(d);
    byOp.complete.push(d);
  }

  // Queries.
  const queries: string[] = [];
  for (let i = 0; i < 200; i++) queries.push(genQuery());
  for (const q of queries.slice(0, 20)) await store.query({ query: q }); // warm-up
  const qt: number[] = [];
  let hitsTotal = 0;
  for (const q of queries) {
    const a = now();
    const r = await store.query({ query: q, limit: 10 });
    qt.push(now() - a);
    hitsTotal += r.total;
  }
  const qtCommon: number[] = [];
  for (const q of commonQueries(texts, 100)) {
    const a = now();
    await store.query({ query: q, limit: 10 });
    qtCommon.push(now() - a);
  }
  const qtFiltered: number[] = [];
  for (const q of queries.slice(0, 100)) {
    const a = now();
    await store.query({ query: q, limit: 10, domain: pick(DOMAINS), taskType: pick(TASK_TYPES), context: { language: pick(LANGS), tags: [pick(TAGS)] } });
    qtFiltered.push(now() - a);
  }
  const st: number[] = [];
  for (const q of queries.slice(0, 50)) {
    const a = now();
    scan(texts, q);
    st.push(now() - a);
  }
  const at: number[] = [];
  for (let i = 0; i < 30; i++) {
    const a = now();
    await store.analyzePatterns(i % 3 === 0 ? {} : i % 3 === 1 ? { taskType: pick(TASK_TYPES) } : { domain: pick(DOMAINS), minSuccessRate: 0.5 });
    at.push(now() - a);
  }
  const stats = await store.stats();
  const rss = process.memoryUsage().rss;

  // Open time: copy snapshot + journal (as after a crash: journal holds the writes above), open the copy.
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), `mem-bench-open-${n}-`));
  for (const f of ['snapshot.db', 'journal.log']) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
  const journalRecords = writes.length;
  await store.close();
  global.gc?.();
  ts = now();
  const reopened = await MemoryStore.open({ dir: copy, snapshotDebounceMs: 3_600_000 });
  const openMs = now() - ts;
  const check = await reopened.query({ query: queries[0] });
  await reopened.close();
  // The same open in a fresh process (cold memory, as on a real start), from a fresh copy.
  const fresh = fs.mkdtempSync(path.join(os.tmpdir(), `mem-bench-open-fresh-${n}-`));
  for (const f of ['snapshot.db', 'journal.log']) fs.copyFileSync(path.join(dir, f), path.join(fresh, f));
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'memory-open.child.ts'), fresh], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`fresh-process open failed: ${child.stderr}`);
  const openFreshMs = (JSON.parse(child.stdout.trim().split('\n').pop()!) as { openMs: number }).openMs;
  fs.rmSync(fresh, { recursive: true, force: true });
  fs.rmSync(copy, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });

  const q50 = pct(qt, 50);
  const s50 = pct(st, 50);
  emit({
    bench: 'memory',
    episodes: n,
    expansion: EXPANSION,
    build_import_ms: Math.round(buildMs),
    write_ack_p50_ms: pct(writes, 50),
    write_ack_p99_ms: pct(writes, 99),
    write_p50_by_op_ms: { create: pct(byOp.create, 50), addStep: pct(byOp.addStep, 50), complete: pct(byOp.complete, 50) },
    query_p50_ms: q50,
    query_p99_ms: pct(qt, 99),
    query_common_terms_p50_ms: pct(qtCommon, 50),
    query_common_terms_p99_ms: pct(qtCommon, 99),
    query_filtered_context_p50_ms: pct(qtFiltered, 50),
    avg_candidates_per_query: Math.round(hitsTotal / qt.length),
    scan_baseline_p50_ms: s50,
    scan_baseline_p99_ms: pct(st, 99),
    query_speedup_vs_scan_p50: Math.round((s50 / q50) * 10) / 10,
    analyze_patterns_p50_ms: pct(at, 50),
    open_ms: Math.round(openMs),
    open_fresh_process_ms: Math.round(openFreshMs),
    open_replayed_journal_records: journalRecords,
    snapshot_ms: Math.round(snapshotMs),
    snapshot_after_small_change_ms: Math.round(snapshotSmallChangeMs),
    database_mb: mb(stats.databaseBytes),
    snapshot_file_mb: mb(stats.snapshotBytes ?? 0),
    journal_kb_before_close: Math.round(stats.journalBytes / 1024),
    patterns: stats.patterns,
    index_terms: stats.indexTerms,
    rss_mb: mb(rss),
    reopen_check_hits: check.hits.length,
  });
}

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
  emit({ bench: 'memory', node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` });
  for (const n of sizes) await runSize(n);
}

// The generator is shared with memory-service.bench.ts: run only when started directly.
if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
