import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseCliArgs, HELP_TEXT } from '../../../src/mcp';
import { parseExchangeArgs } from '../../../src/mcp/cliArgs';

describe('mcp: memory-mcp argument parsing', () => {
  const cwd = '/work/project';

  it('defaults to stdio, the default preset and ./.memory-mcp', () => {
    const r = parseCliArgs([], {}, cwd);
    assert.equal(r.kind, 'run');
    if (r.kind !== 'run') return;
    assert.equal(r.options.db, path.resolve(cwd, '.memory-mcp'));
    assert.equal(r.options.preset, 'default');
    assert.equal(r.options.http, undefined);
    assert.deepEqual(r.options.allowPaths, []);
  });

  it('honours MEMORY_MCP_DB when --db is absent, and --db over it', () => {
    const a = parseCliArgs([], { MEMORY_MCP_DB: '/data/mem' }, cwd);
    assert.ok(a.kind === 'run' && a.options.db === '/data/mem');
    const b = parseCliArgs(['--db', 'rel/dir'], { MEMORY_MCP_DB: '/data/mem' }, cwd);
    assert.ok(b.kind === 'run' && b.options.db === path.resolve(cwd, 'rel/dir'));
  });

  it('parses every flag, repeated flags and --flag=value', () => {
    const r = parseCliArgs(['--db=/x', '--preset', 'restrictive', '--allow-path', 'a', '--allow-path=/b', '--allow-host', 'example.com', '--allow-host', 'api.example.com:8443', '--http', '8123', '--all-tools', '--sample-phrasings', '--log-level', 'debug'], {}, cwd);
    assert.equal(r.kind, 'run');
    if (r.kind !== 'run') return;
    assert.deepEqual(r.options, {
      db: '/x',
      preset: 'restrictive',
      allowPaths: [path.resolve(cwd, 'a'), '/b'],
      allowHosts: ['example.com', 'api.example.com:8443'],
      http: { port: 8123 },
      allTools: true,
      samplePhrasings: true,
      logLevel: 'debug',
    });
  });

  it('phrasing sampling is off unless --sample-phrasings or MEMORY_MCP_SAMPLE_PHRASINGS=1 asks for it', () => {
    const off = parseCliArgs([], {}, cwd);
    assert.ok(off.kind === 'run' && off.options.samplePhrasings === false);
    const env = parseCliArgs([], { MEMORY_MCP_SAMPLE_PHRASINGS: '1' }, cwd);
    assert.ok(env.kind === 'run' && env.options.samplePhrasings === true);
    const notOn = parseCliArgs([], { MEMORY_MCP_SAMPLE_PHRASINGS: '0' }, cwd);
    assert.ok(notOn.kind === 'run' && notOn.options.samplePhrasings === false);
    assert.match(HELP_TEXT, /--sample-phrasings/);
  });

  it('--http without a port means the saved (or default) port, also before other flags; 0 an ephemeral one; --port N is --http N', () => {
    const r = parseCliArgs(['--http', '--db', '/x'], {}, cwd);
    assert.ok(r.kind === 'run' && r.options.http !== undefined && r.options.http.port === undefined && r.options.db === '/x');
    const s = parseCliArgs(['--http', '0'], {}, cwd);
    assert.ok(s.kind === 'run' && s.options.http?.port === 0);
    const p = parseCliArgs(['--port', '9123', '--token-file', 'tok'], {}, cwd);
    assert.ok(p.kind === 'run' && p.options.http?.port === 9123 && p.options.tokenFile === path.resolve(cwd, 'tok'));
  });

  it('config --client NAME: http by default (with --port, --token-file), --stdio passes the server options on', () => {
    const r = parseCliArgs(['config', '--client', 'vscode', '--db', 'store', '--port', '9000'], {}, cwd);
    assert.deepEqual(r, { kind: 'config', options: { client: 'vscode', transport: 'http', db: path.resolve(cwd, 'store'), port: 9000, passOn: [] } });
    const s = parseCliArgs(['config', '--client=cursor', '--stdio', '--preset', 'restrictive', '--all-tools'], { MEMORY_MCP_DB: '/env/db' }, cwd);
    assert.deepEqual(s, { kind: 'config', options: { client: 'cursor', transport: 'stdio', db: '/env/db', passOn: ['--preset', 'restrictive', '--all-tools'] } });
  });

  it('help and version', () => {
    assert.equal(parseCliArgs(['--help']).kind, 'help');
    assert.equal(parseCliArgs(['-h', '--bogus']).kind, 'help');
    assert.equal(parseCliArgs(['--version']).kind, 'version');
    assert.match(HELP_TEXT, /--db PATH/);
    assert.match(HELP_TEXT, /--http \[PORT\]/);
    assert.match(HELP_TEXT, /48600/);
    assert.match(HELP_TEXT, /config --client vscode\|claude\|cursor/);
  });

  const bad: [string[], RegExp][] = [
    [['--bogus'], /unknown option "--bogus"/],
    [['stray'], /unexpected argument "stray"/],
    [['--db'], /--db needs a value/],
    [['--db', '--http'], /--db needs a value/],
    [['--db='], /--db needs a value/],
    [['--preset', 'lax'], /--preset must be restrictive, default or permissive \(got "lax"\)/],
    [['--http=abc'], /--http PORT must be a number from 0 to 65535 \(got "abc"\)/],
    [['--http', '70000'], /--http PORT must be a number from 0 to 65535 \(got "70000"\)/],
    [['--allow-path'], /--allow-path needs a value/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--all-tools=yes'], /--all-tools takes no value/],
    [['--sample-phrasings=yes'], /--sample-phrasings takes no value/],
    [['--port', 'x'], /--port must be a number from 0 to 65535 \(got "x"\)/],
    [['--token-file', 'tok'], /--token-file is for the HTTP transport: add --http/],
    [['config'], /config needs --client vscode\|claude\|cursor/],
    [['config', '--client', 'emacs'], /--client must be vscode, claude, cursor \(got "emacs"\)/],
    [['config', '--client', 'vscode', '--stdio', '--port', '1'], /--stdio prints a command line/],
    [['--client', 'vscode'], /--client belongs to the config command/],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${JSON.stringify(argv)} with a clear message`, () => {
      const r = parseCliArgs(argv, {}, cwd);
      assert.equal(r.kind, 'error');
      if (r.kind === 'error') assert.match(r.message, message);
    });
  }
});

describe('memory-mcp export/import arguments', () => {
  it('defaults export to stdout and the usual store folder, and resolves paths against cwd', () => {
    assert.deepEqual(parseExchangeArgs('export', [], {}, '/w'), { kind: 'export', db: '/w/.memory-mcp', file: '-' });
    assert.deepEqual(parseExchangeArgs('export', ['--db', 'm', 'out.jsonl'], {}, '/w'), { kind: 'export', db: '/w/m', file: '/w/out.jsonl' });
    assert.deepEqual(parseExchangeArgs('import', ['--skip-invalid', '-'], { MEMORY_MCP_DB: '/s' }, '/w'), { kind: 'import', db: '/s', file: '-', skipInvalid: true });
  });
  it('refuses a missing import file, unknown options and two files', () => {
    assert.equal(parseExchangeArgs('import', []).kind, 'error');
    assert.match((parseExchangeArgs('export', ['--skip-invalid']) as { message: string }).message, /unknown option/);
    assert.match((parseExchangeArgs('import', ['a', 'b']) as { message: string }).message, /one FILE/);
    assert.match((parseExchangeArgs('export', ['--db']) as { message: string }).message, /needs a value/);
  });
});
