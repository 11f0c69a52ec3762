/**
 * Pattern screen: defence in depth, NOT the security boundary (the QuickJS
 * sandbox is). Kept for the seed's contract: code that obviously tries to reach
 * the file system, network, subprocesses or dynamic code, or loops forever with
 * no way out, is refused before it runs. Works on tokens, so the same words in
 * strings, comments, template text or regex literals never trigger it.
 */
import type { ViolationType } from './types';

export const MAX_CODE_BYTES = 100 * 1024;

export interface Token {
  type: 'name' | 'punct' | 'string' | 'template' | 'regex' | 'number';
  value: string;
  pos: number;
}

export interface ScreenHit {
  violationType: ViolationType;
  reason: string;
}

const KEYWORDS_BEFORE_EXPR = new Set([
  'return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await',
]);
const PUNCT3 = ['>>>=', '...', '===', '!==', '**=', '<<=', '>>=', '>>>', '&&=', '||=', '??='];
const PUNCT2 = ['=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '**', '<<', '>>'];

function isIdStart(ch: string): boolean {
  return /[A-Za-z_$\u00a0-\uffff\\]/.test(ch);
}
function isIdPart(ch: string): boolean {
  return /[A-Za-z0-9_$\u00a0-\uffff\\\u200c\u200d]/.test(ch);
}

/**
 * A small JavaScript tokenizer, tolerant of errors (syntax is checked by
 * QuickJS afterwards). Decodes simple string escapes so `'f\x73'` reads `fs`.
 */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const braces: ('{' | '${')[] = [];
  let i = 0;
  const n = src.length;
  const prevAllowsRegex = (): boolean => {
    const t = out[out.length - 1];
    if (!t) return true;
    if (t.type === 'name') return KEYWORDS_BEFORE_EXPR.has(t.value);
    if (t.type === 'punct') return !(t.value === ')' || t.value === ']' || t.value === '}');
    return false;
  };
  const readTemplate = (): void => {
    // i is just after '`' or after the '}' that closes a '${'
    const start = i;
    let text = '';
    while (i < n) {
      const ch = src[i];
      if (ch === '\\') {
        text += src.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (ch === '`') {
        i++;
        out.push({ type: 'template', value: text, pos: start });
        return;
      }
      if (ch === '$' && src[i + 1] === '{') {
        i += 2;
        out.push({ type: 'template', value: text, pos: start });
        braces.push('${');
        return;
      }
      text += ch;
      i++;
    }
    out.push({ type: 'template', value: text, pos: start });
  };
  while (i < n) {
    const ch = src[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v' || ch === '\u2028' || ch === '\u2029' || ch === '\ufeff' || ch === '\u00a0') {
      i++;
      continue;
    }
    if (ch === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n' && src[i] !== '\r') i++;
      continue;
    }
    if (ch === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const start = i++;
      let value = '';
      while (i < n && src[i] !== ch) {
        if (src[i] === '\\') {
          const e = src[i + 1];
          if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(i + 2, i + 4))) {
            value += String.fromCharCode(parseInt(src.slice(i + 2, i + 4), 16));
            i += 4;
          } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            value += e ?? '';
            i += 2;
          }
          continue;
        }
        if (src[i] === '\n') break;
        value += src[i++];
      }
      i++;
      out.push({ type: 'string', value, pos: start });
      continue;
    }
    if (ch === '`') {
      i++;
      readTemplate();
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const start = i;
      while (i < n && /[0-9A-Za-z_.]/.test(src[i])) {
        if ((src[i] === 'e' || src[i] === 'E') && (src[i + 1] === '+' || src[i + 1] === '-')) i++;
        i++;
      }
      out.push({ type: 'number', value: src.slice(start, i), pos: start });
      continue;
    }
    if (isIdStart(ch)) {
      const start = i;
      let value = '';
      while (i < n && isIdPart(src[i])) {
        if (src[i] === '\\' && src[i + 1] === 'u') {
          // unicode escape in an identifier: \u0065 or \u{65}
          const m = /^\\u(?:([0-9a-fA-F]{4})|\{([0-9a-fA-F]+)\})/.exec(src.slice(i));
          if (m) {
            value += String.fromCodePoint(parseInt(m[1] ?? m[2], 16));
            i += m[0].length;
            continue;
          }
        }
        value += src[i++];
      }
      out.push({ type: 'name', value, pos: start });
      continue;
    }
    if (ch === '/' && prevAllowsRegex()) {
      const start = i++;
      let inClass = false;
      while (i < n) {
        const c = src[i];
        if (c === '\\') {
          i += 2;
          continue;
        }
        if (c === '\n') break;
        if (c === '[') inClass = true;
        else if (c === ']') inClass = false;
        else if (c === '/' && !inClass) {
          i++;
          break;
        }
        i++;
      }
      while (i < n && /[a-z]/i.test(src[i])) i++;
      out.push({ type: 'regex', value: src.slice(start, i), pos: start });
      continue;
    }
    if (ch === '{') {
      braces.push('{');
      out.push({ type: 'punct', value: '{', pos: i++ });
      continue;
    }
    if (ch === '}') {
      const top = braces.pop();
      if (top === '${') {
        i++;
        readTemplate();
        continue;
      }
      out.push({ type: 'punct', value: '}', pos: i++ });
      continue;
    }
    const p3 = PUNCT3.find((p) => src.startsWith(p, i));
    const p = p3 ?? PUNCT2.find((q) => src.startsWith(q, i)) ?? ch;
    out.push({ type: 'punct', value: p, pos: i });
    i += p.length;
  }
  return out;
}

const MODULES: Record<string, ViolationType> = {
  fs: 'filesystem', 'fs/promises': 'filesystem', path: 'filesystem', os: 'filesystem',
  http: 'network', https: 'network', http2: 'network', net: 'network', tls: 'network', dgram: 'network', dns: 'network', undici: 'network', ws: 'network',
  child_process: 'subprocess', cluster: 'subprocess', worker_threads: 'subprocess', process: 'subprocess',
  vm: 'code_injection', module: 'code_injection', v8: 'code_injection', inspector: 'code_injection',
};

/** Which violation requiring a module would be, if any (`node:` prefixes ignored). */
export function moduleViolation(name: string): ViolationType | undefined {
  const bare = name.replace(/^node:/, '');
  return Object.prototype.hasOwnProperty.call(MODULES, bare) ? MODULES[bare] : undefined;
}

const SUBPROCESS_CALLS = new Set(['exec', 'execSync', 'execFile', 'execFileSync', 'spawn', 'spawnSync', 'fork']);
const NETWORK_NAMES = new Set(['WebSocket', 'XMLHttpRequest', 'EventSource']);
const LOOP_EXITS = new Set(['break', 'return', 'throw']);

export interface ScreenOptions {
  allowNetwork: boolean;
}

/** Index of the token that closes the bracket opened at `open`, or tokens.length. */
function matching(tokens: Token[], open: number): number {
  const o = tokens[open].value;
  const c = o === '(' ? ')' : o === '[' ? ']' : '}';
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    const t = tokens[j];
    if (t.type !== 'punct') continue;
    if (t.value === o) depth++;
    else if (t.value === c && --depth === 0) return j;
  }
  return tokens.length;
}

/** Tokens of a loop body starting at `start` (a block or a single statement). */
function bodyHasExit(tokens: Token[], start: number): boolean {
  const t = tokens[start];
  if (!t) return false;
  let end: number;
  if (t.type === 'punct' && t.value === '{') end = matching(tokens, start);
  else {
    end = start;
    while (end < tokens.length && !(tokens[end].type === 'punct' && tokens[end].value === ';')) end++;
  }
  for (let j = start; j < end; j++) if (tokens[j].type === 'name' && LOOP_EXITS.has(tokens[j].value)) return true;
  return false;
}

function isPunct(t: Token | undefined, v: string): boolean {
  return !!t && t.type === 'punct' && t.value === v;
}
function isName(t: Token | undefined, v?: string): boolean {
  return !!t && t.type === 'name' && (v === undefined || t.value === v);
}

/** Returns the first dangerous idiom found, or undefined. */
export function screenCode(code: string, options: ScreenOptions): ScreenHit | undefined {
  const tokens = tokenize(code);
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.type !== 'name') continue;
    const prev = tokens[k - 1];
    const next = tokens[k + 1];
    const member = isPunct(prev, '.') || isPunct(prev, '?.');
    const called = isPunct(next, '(');
    const v = t.value;
    if ((v === 'require' || v === 'import') && called && !member) {
      const arg = tokens[k + 2];
      if (arg && (arg.type === 'string' || arg.type === 'template')) {
        const type = moduleViolation(arg.value);
        if (type) return { violationType: type, reason: `${v}('${arg.value}') is not allowed: the sandbox has no ${v === 'import' ? 'module loading' : 'require'}` };
      }
      continue;
    }
    if (v === 'from' && !member && next && next.type === 'string') {
      const type = moduleViolation(next.value);
      if (type) return { violationType: type, reason: `import from '${next.value}' is not allowed` };
      continue;
    }
    if (v === 'child_process') return { violationType: 'subprocess', reason: 'child_process is not available: the sandbox cannot start processes' };
    if (SUBPROCESS_CALLS.has(v) && called && !member && !isName(prev, 'function')) {
      // A method definition `exec() { ... }` is not a call.
      const close = matching(tokens, k + 1);
      if (!isPunct(tokens[close + 1], '{')) return { violationType: 'subprocess', reason: `${v}() is not allowed: the sandbox cannot start processes` };
      continue;
    }
    if (v === 'eval' && called && !member) return { violationType: 'code_injection', reason: 'eval() is not allowed' };
    if (v === 'Function' && !member && (called || isName(prev, 'new'))) return { violationType: 'code_injection', reason: 'the Function constructor is not allowed' };
    if (!options.allowNetwork) {
      if (v === 'fetch' && called && !member) return { violationType: 'network', reason: 'fetch() is not allowed: network access is disabled' };
      if (NETWORK_NAMES.has(v) && !member) return { violationType: 'network', reason: `${v} is not allowed: network access is disabled` };
    }
    if (v === 'while' && called && !member) {
      const close = matching(tokens, k + 1);
      const cond = tokens.slice(k + 2, close);
      const infinite = cond.length === 1 && (isName(cond[0], 'true') || (cond[0].type === 'number' && Number(cond[0].value) !== 0));
      // `do { ... } while (true)`: the body precedes.
      if (infinite && isPunct(prev, '}')) {
        let depth = 0;
        let open = k - 1;
        for (; open >= 0; open--) {
          if (isPunct(tokens[open], '}')) depth++;
          else if (isPunct(tokens[open], '{') && --depth === 0) break;
        }
        if (open > 0 && isName(tokens[open - 1], 'do')) {
          if (!bodyHasExit(tokens, open)) return { violationType: 'infinite_loop', reason: 'do { } while (true) without a break never ends' };
          continue;
        }
      }
      if (infinite && !bodyHasExit(tokens, close + 1)) return { violationType: 'infinite_loop', reason: 'while (true) without a break never ends' };
      continue;
    }
    if (v === 'for' && called && !member && isPunct(tokens[k + 2], ';') && isPunct(tokens[k + 3], ';') && isPunct(tokens[k + 4], ')')) {
      if (!bodyHasExit(tokens, k + 5)) return { violationType: 'infinite_loop', reason: 'for (;;) without a break never ends' };
    }
  }
  return undefined;
}
