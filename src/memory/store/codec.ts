/**
 * Large JSON columns (steps, reflection) are stored compressed: a BLOB holding a codec
 * byte (1 = raw deflate with JSON_DICT_V1 as preset dictionary) and the deflated UTF-8
 * JSON. Short values and databases written before this change hold plain JSON text;
 * both are read. The dictionary is part of the format: never edit it, add a codec.
 */
import * as zlib from 'node:zlib';
import type { SqlValue } from 'sql.js';
import { MemoryError } from '../errors';

const JSON_DICT_V1 = Buffer.from(
  '[{"n":1,"timestamp":"2026-01-01T00:00:00.000Z","tool":"read_file","action":"Inspect ","parameters":{"path":"src/"},"result":{"status":"success","output":"ok"},"latencyMs":1},' +
    '{"n":2,"timestamp":"2025-","tool":"edit_file","action":"Change ","parameters":{"query":""},"result":{"status":"error","message":"TypeError: Cannot read properties of undefined"},"latencyMs":12,"tokensUsed":1}] ' +
    '{"successes":["Completed: ","run_tests succeeded 1×"],"improvements":["Step 2 (run_tests) failed: "],"insights":["Tool sequence: read_file → edit_file → run_tests","5 steps in 100 s, reward 0.75"]}',
  'utf8',
);
const COMPRESS_MIN = 160;

export function packJson(value: unknown): string | Uint8Array {
  const json = JSON.stringify(value);
  if (json.length < COMPRESS_MIN) return json;
  const z = zlib.deflateRawSync(Buffer.from(json, 'utf8'), { dictionary: JSON_DICT_V1 });
  const out = new Uint8Array(z.length + 1);
  out[0] = 1;
  out.set(z, 1);
  return out;
}

export function jsonText(v: SqlValue | undefined): string {
  if (v instanceof Uint8Array) {
    if (v[0] !== 1) throw new MemoryError('corrupt', `Unknown compressed column codec ${v[0]} in the memory database`);
    return zlib.inflateRawSync(v.subarray(1), { dictionary: JSON_DICT_V1 }).toString('utf8');
  }
  return v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v);
}

export function parseJson<T>(v: SqlValue | undefined): T {
  return JSON.parse(jsonText(v)) as T;
}
