/**
 * `console` as Node's prints: util.format for log/info/debug (stdout) and
 * warn/error/trace (stderr), plus dir, table, time/timeLog/timeEnd,
 * count/countReset, assert and group/groupEnd. Compiled on the first touch of
 * `console`; strings and numbers print without loading the inspector.
 */
import type { Inspect, InspectOptions } from './inspect';
import type { Intrinsics } from './types';

export default function consoleModule(I: Intrinsics): Readonly<Record<string, (...args: never[]) => void>> {
  const { h, freeze, apply, split, hasOwn, String: Str } = I;
  const full = [false, false];
  let indent = '';
  const timers: Record<string, number> = {};
  const counts: Record<string, number> = {};
  const inspector = (): Inspect => I.need<Inspect>('inspect');
  const now = (): number => h('now') as number;

  /** Strings, numbers, booleans, null and undefined print without the inspector. */
  const plain = (v: unknown): boolean => {
    const t = typeof v;
    return t === 'number' || t === 'boolean' || t === 'undefined' || v === null || (t === 'string' && apply(I.indexOf, v as string, ['%']) < 0);
  };
  const format = (args: ArrayLike<unknown>): string => {
    let simple = true;
    for (let i = 0; i < args.length; i++) {
      if (!plain(args[i]) && !(i > 0 && typeof args[i] === 'string')) {
        simple = false;
        break;
      }
    }
    if (!simple) return inspector().format(args);
    let s = '';
    for (let i = 0; i < args.length; i++) {
      const v = args[i];
      s += (i ? ' ' : '') + (typeof v === 'number' && v === 0 && 1 / v < 0 ? '-0' : '' + (v as string));
    }
    return s;
  };
  const write = (stream: 0 | 1, text: string): void => {
    if (full[stream]) return;
    if (indent) {
      const lines = apply(split, text, ['\n']) as string[];
      text = '';
      for (let i = 0; i < lines.length; i++) text += (i ? '\n' : '') + indent + lines[i];
    }
    // The bridge reads strings as C strings, which end at a NUL: such text goes as JSON (NUL escaped).
    const sent = apply(I.indexOf, text, ['\0']) < 0 ? h('log', stream, text) : h('log', stream, I.stringify(text), 1);
    if (sent === false) full[stream] = true;
  };
  const out = (stream: 0 | 1) =>
    function (...args: unknown[]): void {
      // Past the budget the output is dropped: not formatted either.
      if (!full[stream]) write(stream, format(args));
    };
  const label = (v: unknown): string => (v === undefined ? 'default' : Str(v));
  const elapsed = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(3)}s` : `${ms.toFixed(3)}ms`);
  const timing = (name: string, method: string, end: boolean, extra: unknown[]): void => {
    if (!hasOwn(timers, name)) {
      write(1, `Warning: No such label '${name}' for console.${method}()`);
      return;
    }
    const text = `${name}: ${elapsed(now() - timers[name])}`;
    if (end) delete timers[name];
    write(0, extra.length ? `${text} ${format(extra)}` : text);
  };

  const c = {
    log: out(0),
    info: out(0),
    debug: out(0),
    dirxml: out(0),
    warn: out(1),
    error: out(1),
    trace(...args: unknown[]) {
      const stack = new I.Error().stack ?? '';
      write(1, `Trace${args.length ? ': ' + format(args) : ''}\n${stack.replace(/\n$/, '')}`);
    },
    dir(value: unknown, options?: InspectOptions) {
      write(0, inspector().inspect(value, options));
    },
    table(data: unknown, columns?: unknown) {
      write(0, table(inspector(), data, columns, format));
    },
    time(name?: unknown) {
      const n = label(name);
      if (hasOwn(timers, n)) write(1, `Warning: Label '${n}' already exists for console.time()`);
      else timers[n] = now();
    },
    timeLog(name?: unknown, ...extra: unknown[]) {
      timing(label(name), 'timeLog', false, extra);
    },
    timeEnd(name?: unknown) {
      timing(label(name), 'timeEnd', true, []);
    },
    count(name?: unknown) {
      const n = label(name);
      counts[n] = (hasOwn(counts, n) ? counts[n] : 0) + 1;
      write(0, `${n}: ${counts[n]}`);
    },
    countReset(name?: unknown) {
      const n = label(name);
      if (hasOwn(counts, n)) counts[n] = 0;
      else write(1, `Warning: Count for '${n}' does not exist`);
    },
    assert(condition?: unknown, ...args: unknown[]) {
      if (condition) return;
      if (args.length && typeof args[0] === 'string') args[0] = `Assertion failed: ${args[0]}`;
      else args.unshift('Assertion failed');
      write(1, format(args));
    },
    group(...args: unknown[]) {
      if (args.length) write(0, format(args));
      indent += '  ';
    },
    groupCollapsed(...args: unknown[]) {
      c.group(...args);
    },
    groupEnd() {
      indent = indent.slice(0, -2);
    },
  };
  return freeze(c);
}

/** console.table as Node draws it (box characters, left-aligned cells). */
function table(insp: Inspect, data: unknown, columns: unknown, format: (args: unknown[]) => string): string {
  if (data === null || typeof data !== 'object') return format([data]);
  const cell = (v: unknown): string => insp.inspect(v, { depth: 1 });
  const indexHeader = data instanceof Map ? '(iteration index)' : '(index)';
  const rows: [string, unknown][] = [];
  const keyColumn: string[] = [];
  if (data instanceof Map) {
    let i = 0;
    for (const [k, v] of data) {
      rows.push(['' + i++, v]);
      keyColumn.push(cell(k));
    }
  } else if (data instanceof Set) {
    let i = 0;
    for (const v of data) rows.push(['' + i++, v]);
  } else {
    for (const k of Object.keys(data)) rows.push([k, (data as Record<string, unknown>)[k]]);
  }
  const header: string[] = [indexHeader];
  if (keyColumn.length) header.push('Key');
  const props: string[] = [];
  let hasValues = false;
  for (const [, v] of rows) {
    if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) if (!props.includes(k)) props.push(k);
    } else hasValues = true;
  }
  const chosen = Array.isArray(columns) ? columns.map((x) => '' + (x as string)) : props;
  header.push(...chosen);
  if (hasValues) header.push(data instanceof Map ? 'Values' : 'Values');
  const body = rows.map(([k, v], r) => {
    const line = [data instanceof Map ? k : k];
    if (keyColumn.length) line.push(keyColumn[r]);
    const isObj = v !== null && typeof v === 'object';
    for (const p of chosen) line.push(isObj && Object.prototype.hasOwnProperty.call(v, p) ? cell((v as Record<string, unknown>)[p]) : '');
    if (hasValues) line.push(isObj ? '' : cell(v));
    return line;
  });
  const widths = header.map((hd, i) => Math.max(hd.length, ...body.map((row) => row[i].length)) + 2);
  const line = (l: string, m: string, r: string): string => l + widths.map((w) => '─'.repeat(w)).join(m) + r;
  const row = (cells: string[]): string => '│' + cells.map((c, i) => ' ' + c + ' '.repeat(widths[i] - c.length - 1)).join('│') + '│';
  return [line('┌', '┬', '┐'), row(header), line('├', '┼', '┤'), ...body.map(row), line('└', '┴', '┘')].join('\n');
}
