/**
 * Alternative phrasings of a task (TaskContext.phrasings): text from a model, so it is
 * treated as untrusted. Control and format characters become spaces, whitespace is
 * collapsed, each phrasing is clipped to LIMITS.short characters, and repeats (of the
 * task or of one another, ignoring case and punctuation) are dropped.
 */
import { LIMITS } from './limits';

const CONTROL = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/gu;

export function cleanPhrasing(raw: string): string {
  const s = raw.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return s.length > LIMITS.short ? s.slice(0, LIMITS.short).trim() : s;
}

function sameness(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** The kept phrasings followed by the new ones that add something, at most LIMITS.phrasings. */
export function mergePhrasings(task: string, kept: readonly string[], added: readonly string[]): string[] {
  const seen = new Set([sameness(task), ...kept.map(sameness)]);
  const out = [...kept];
  for (const raw of added) {
    if (out.length >= LIMITS.phrasings) break;
    const p = cleanPhrasing(raw);
    const key = sameness(p);
    if (!key || seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}
