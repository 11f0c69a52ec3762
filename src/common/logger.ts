/**
 * The one logging interface every layer takes. In the extension it is backed by
 * a single `LogOutputChannel`; in the standalone server and in tests by stderr
 * or a silent sink. Pure modules depend on this shape, never on `vscode`.
 */
export interface Logger {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

const noop = (): void => undefined;

/** A logger that discards everything (tests, benchmarks). */
export const silentLogger: Logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop };

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** A logger that writes one line per message to stderr (stdout stays free for protocol). */
export function stderrLogger(minLevel: Level = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const make = (level: Level) => (message: string | Error, ...args: unknown[]): void => {
    if (ORDER[level] < ORDER[minLevel]) return;
    const text = message instanceof Error ? (message.stack ?? message.message) : message;
    const extra = args.length ? ' ' + args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : safeJson(a))).join(' ') : '';
    write(`${new Date().toISOString()} [${level}] ${text}${extra}\n`);
  };
  return { trace: make('trace'), debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
