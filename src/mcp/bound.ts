/**
 * Keeps every answer bounded. A tool's structured answer is serialised; if it is
 * longer than the budget, long strings are shortened step by step, then the
 * largest arrays lose their tail, and a note says what was cut (paging
 * parameters let the caller fetch the rest).
 */

/** About 8k tokens at ~4 characters a token. */
export const DEFAULT_MAX_RESPONSE_CHARS = 32_000;

export interface Bounded<T> {
  value: T;
  json: string;
  /** Human-readable notes of what was shortened; empty when nothing was. */
  cuts: string[];
}

const STRING_CAPS = [4000, 1000, 300, 120, 60];

function capStrings(value: unknown, cap: number, counter: { n: number }): unknown {
  if (typeof value === 'string') {
    if (value.length <= cap) return value;
    counter.n++;
    return `${value.slice(0, cap)}…[+${value.length - cap} chars]`;
  }
  if (Array.isArray(value)) return value.map((v) => capStrings(v, cap, counter));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = capStrings(v, cap, counter);
    return out;
  }
  return value;
}

/** Finds the array holding the most serialised characters (with its path for the note). */
function largestArray(value: unknown, path: string): { arr: unknown[]; path: string; size: number } | undefined {
  let best: { arr: unknown[]; path: string; size: number } | undefined;
  const visit = (v: unknown, p: string): void => {
    if (Array.isArray(v)) {
      if (v.length > 0) {
        const size = JSON.stringify(v).length;
        if (!best || size > best.size) best = { arr: v, path: p, size };
      }
      v.forEach((x, i) => visit(x, `${p}[${i}]`));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) visit(x, p ? `${p}.${k}` : k);
    }
  };
  visit(value, path);
  return best;
}

/**
 * Returns `value` unchanged if its JSON fits `maxChars`, else a shortened deep copy.
 * Shape is preserved (strings stay strings, arrays stay arrays), so output schemas still hold.
 */
export function boundValue<T>(value: T, maxChars: number = DEFAULT_MAX_RESPONSE_CHARS): Bounded<T> {
  let json = JSON.stringify(value) ?? 'null';
  if (json.length <= maxChars) return { value, json, cuts: [] };
  const cuts: string[] = [];
  let current: unknown = value;
  for (const cap of STRING_CAPS) {
    const counter = { n: 0 };
    current = capStrings(current, cap, counter);
    json = JSON.stringify(current);
    if (counter.n > 0) cuts.push(`${counter.n} long text field(s) shortened to ${cap} characters`);
    if (json.length <= maxChars) return { value: current as T, json, cuts };
  }
  const dropped = new Map<string, number>();
  for (let guard = 0; json.length > maxChars && guard < 10_000; guard++) {
    const target = largestArray(current, '');
    if (!target) break;
    const remove = Math.max(1, Math.ceil(target.arr.length * Math.min(0.5, (json.length - maxChars) / target.size + 0.05)));
    target.arr.splice(target.arr.length - remove, remove);
    const key = target.path.replace(/\[\d+\]/g, '[]') || '(root)';
    dropped.set(key, (dropped.get(key) ?? 0) + remove);
    json = JSON.stringify(current);
  }
  for (const [path, n] of dropped) cuts.push(`${n} item(s) dropped from ${path}`);
  return { value: current as T, json, cuts };
}
