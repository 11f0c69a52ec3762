/**
 * A query end to end: the query's terms (plus the caller's alternative phrasings) ranked
 * first on their own; then with the related terms of the lexicon and pseudo-relevance
 * feedback (each pass only scores the terms it adds); the two rankings
 * fused by reciprocal rank when that feature is on (else the expanded ranking, whose lower
 * term weights keep the query's own words first); repeats of a task folded into one hit (repeats.ts); then the
 * summaries and the reasons each hit matched.
 */
import type { Database, SqlValue } from 'sql.js';
import type { EpisodeSummary, Outcome, QueryHit, QueryOptions, QueryResult, Reflection, Repeats } from '../types';
import type { EpisodeTerms, QueryTerm, RankedHit, SearchIndex } from '../search';
import { expandQuery, MAX_QUERY_TERMS } from '../search';
import { queryTerms, tokenize } from '../text';
import { isDerivedSummary } from '../learning';
import { parseJson } from './codec';
import { foldRanked, foldWindow, repeatsLine, repeatsOf } from './repeats';
import { clip, rowToSummary, SUMMARY_COLS, SUMMARY_TASK_CHARS } from './rows';
import { allPrepared, placeholders, str } from './sql';
import type { Row } from './sql';

type ParsedQuery = QueryOptions & { limit: number; offset: number };

const ALTERNATIVE_WEIGHT = 0.6;
const FEEDBACK_WEIGHT = 0.3;
const FEEDBACK_TERMS = 5;
/** Reciprocal rank fusion constant (Cormack et al. 2009). */
const RRF_K = 60;

export function runQuery(db: Database, index: SearchIndex, o: ParsedQuery, now = Date.now()): QueryResult {
  const filter = {
    domain: o.domain,
    taskType: o.taskType,
    outcome: o.outcome,
    sinceMs: o.since ? Date.parse(o.since) : undefined,
    untilMs: o.until ? Date.parse(o.until) : undefined,
  };
  const ctx = { ...o.context };
  const features = index.features;
  const base = queryTerms(o.query);
  const terms: QueryTerm[] = base.map((t) => ({ term: t, weight: 1 }));
  const seen = new Set(base);
  for (const x of o.expansions ?? []) {
    for (const t of queryTerms(x)) {
      if (seen.has(t)) continue;
      seen.add(t);
      terms.push({ term: t, weight: ALTERNATIVE_WEIGHT, expansion: true });
    }
  }
  const window = foldWindow(o.limit, o.offset);
  const own = terms.length;
  let original: { hits: RankedHit[]; total: number } | undefined;
  // The last ranking of `terms` as they are now, when one was made (the final pass then reuses it).
  let latest: { hits: RankedHit[]; total: number } | undefined;
  if (base.length > 0 && index.documentCount > 3) {
    // Each pass keeps its accumulated scores: the next one only adds its own terms. A pass
    // whose hits nothing reads only accumulates (`collectOnly`).
    const budget = MAX_QUERY_TERMS - terms.length - (features.feedback ? FEEDBACK_TERMS : 0);
    const related = expandQuery({
      terms: base,
      features,
      idf: (t) => (seen.has(t) ? 0 : index.idf(t)),
      sourceIdf: (t) => index.idf(t),
      budget,
      associations: (own) => index.associations(own),
    });
    for (const t of related) seen.add(t.term);
    const originalRead = related.length === 0 || features.fusion;
    original = index.rank(terms, filter, ctx, window, 0, now, { keep: true, collectOnly: !originalRead });
    latest = originalRead ? original : undefined;
    if (related.length) {
      terms.push(...related);
      latest = index.rank(terms, filter, ctx, window, 0, now, { keep: true, resume: true, collectOnly: !features.feedback });
      if (!features.feedback) latest = undefined;
    }
    if (features.feedback && latest) {
      const feedback = feedbackTerms(db, index, latest.hits, seen);
      if (feedback.length) latest = undefined;
      for (const t of feedback) {
        seen.add(t);
        terms.push({ term: t, weight: FEEDBACK_WEIGHT, expansion: true });
      }
    }
  }
  const added = terms.length > own || !original;
  const ranked = latest ?? index.rank(terms, filter, ctx, window, 0, now, { resume: true });
  const fused = original && added && features.fusion ? fuse(original.hits, ranked.hits) : ranked.hits;
  // One read of the ranked episodes' rows: their repeat keys fold the repeats, their summaries answer.
  const rows = fused.length ? allPrepared(db, `SELECT ${SUMMARY_COLS}, repeat_key FROM episodes WHERE id IN (${placeholders(fused.length)})`, fused.map((h) => h.id)) : [];
  const keyOf = new Map<string, string>();
  const rowOf = new Map<string, Row>();
  for (const r of rows) {
    rowOf.set(str(r.id), r);
    if (r.repeat_key !== null) keyOf.set(str(r.id), str(r.repeat_key));
  }
  const hits = foldRanked(fused, keyOf, o.offset, o.limit);
  const repeats = repeatsOf(db, hits.map((h) => h.id), keyOf);
  const out: QueryHit[] = [];
  for (const h of hits) {
    const row = rowOf.get(h.id);
    if (!row) continue;
    const summary = rowToSummary(row);
    const rep = repeats.get(h.id);
    out.push({ episode: summary, score: h.score, why: whyLines(h, summary, taskTerms(index, summary), now, rep), ...(rep ? { repeats: rep } : {}) });
  }
  const expanded = terms.filter((t) => t.expansion).map((t) => t.term);
  return { hits: out, total: ranked.total, expandedTerms: [...base, ...expanded] };
}

/**
 * Pseudo-relevance feedback: the strongest key terms shared by the top episodes of a
 * first pass, to be added with a low weight (closes vocabulary gaps using associations
 * the store has learned from its own episodes).
 */
/** Reciprocal rank fusion of the original and the expanded ranking (the expanded hit's explanation kept). */
function fuse(original: RankedHit[], expanded: RankedHit[]): RankedHit[] {
  const score = new Map<string, number>();
  const hit = new Map<string, RankedHit>();
  original.forEach((h, i) => {
    score.set(h.id, 1 / (RRF_K + i + 1));
    hit.set(h.id, h);
  });
  expanded.forEach((h, i) => {
    score.set(h.id, (score.get(h.id) ?? 0) + 1 / (RRF_K + i + 1));
    hit.set(h.id, h);
  });
  return [...hit.values()].sort((a, b) => score.get(b.id)! - score.get(a.id)! || b.score - a.score);
}

function feedbackTerms(db: Database, index: SearchIndex, firstHits: RankedHit[], seen: Set<string>): string[] {
  const top = firstHits.filter((h) => h.text > 0.3).slice(0, 3);
  if (top.length === 0) return [];
  const counts = new Map<string, number>();
  for (const keys of feedbackKeyTerms(db, index, top.map((h) => h.id))) {
    for (const t of keys) if (!seen.has(t)) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  const need = top.length >= 2 ? 2 : 1;
  return [...counts.entries()]
    .filter(([, n]) => n >= need)
    .sort((a, b) => b[1] - a[1] || index.idf(b[0]) - index.idf(a[0]))
    .slice(0, FEEDBACK_TERMS)
    .map(([t]) => t);
}

/** Key terms of a feedback text considered per episode. */
const FEEDBACK_KEY_TERMS = 12;
/** Longest feedback text tokenized. */
const FEEDBACK_TEXT_CHARS = 8000;

/**
 * Each episode's FEEDBACK_KEY_TERMS key terms (tf·idf under the current statistics) of its
 * task, outcome words and insights: cheap, no step parsing. The term counts are kept per
 * episode (episodeCache.ts): the rows are read and tokenized only for the episodes not kept.
 */
function feedbackKeyTerms(db: Database, index: SearchIndex, ids: string[]): string[][] {
  // In id order: a deterministic order among equally strong terms.
  const entries = new Map([...ids].sort().map((id) => [id, index.episodeTerms.entry(id)]));
  const missing = [...entries].filter(([, e]) => !e.feedback).map(([id]) => id);
  if (missing.length) {
    const rows = allPrepared(db, `SELECT id, task, outcome, reflection FROM episodes WHERE id IN (${placeholders(missing.length)})`, missing);
    for (const r of rows) feedbackCounts(entries.get(str(r.id))!, str(r.task), `${outcomeWords(str(r.outcome))}\n${insightsOf(r.reflection)}`);
  }
  return [...entries.values()].filter((e) => e.feedback).map((e) => index.topByTfIdf(e.feedback!, FEEDBACK_KEY_TERMS));
}

/** Fills an entry's feedback term counts (and its task terms, when the summary shows the whole task). */
function feedbackCounts(e: EpisodeTerms, task: string, rest: string): void {
  const tf = new Map<string, number>();
  const text = `${task}\n${rest}`;
  if (text.length > FEEDBACK_TEXT_CHARS) {
    for (const t of tokenize(text.slice(0, FEEDBACK_TEXT_CHARS))) tf.set(t, (tf.get(t) ?? 0) + 1);
  } else {
    // Tokens never span a line break: the task's tokens are the text's first ones.
    const own = tokenize(task);
    if (!e.task && !summaryClips(task)) e.task = new Set(own);
    for (const t of tokenize(rest, own)) tf.set(t, (tf.get(t) ?? 0) + 1);
  }
  e.feedback = tf;
}

/** The terms of the task a hit's summary shows (kept per episode). */
function taskTerms(index: SearchIndex, summary: EpisodeSummary): ReadonlySet<string> {
  const e = index.episodeTerms.entry(summary.id);
  e.task ??= new Set(tokenize(summary.task));
  return e.task;
}

/** Whether a summary shows less than the whole task (rows.ts clips it to SUMMARY_TASK_CHARS). */
function summaryClips(task: string): boolean {
  return clip(task, SUMMARY_TASK_CHARS) !== task.replace(/\s+/g, ' ').trim();
}

/** The words of a stored outcome (its JSON keys and kind are not about the task). */
function outcomeWords(json: string): string {
  if (!json) return '';
  const o = JSON.parse(json) as Outcome;
  return o.type === 'success' ? o.verdict : o.type === 'partial_success' ? [o.verdict, ...o.completed, ...o.failed].join('\n') : o.type === 'failure' ? `${o.reason}\n${o.details ?? ''}` : o.reason;
}

/** A stored reflection's insights, without the derived step and reward summaries. */
function insightsOf(v: SqlValue): string {
  if (v === null || v === undefined) return '';
  const r = parseJson<Reflection>(v);
  return r.insights.filter((i) => !isDerivedSummary(i)).join('\n');
}

/** Human-readable reasons: matched terms and fields, related terms, context, outcome, age. */
function whyLines(h: RankedHit, summary: EpisodeSummary, taskTerms: ReadonlySet<string>, now: number, repeats: Repeats | undefined): string[] {
  const why: string[] = [];
  if (repeats) why.push(repeatsLine(repeats, now));
  const direct = h.matched.filter((m) => !m.startsWith('~'));
  const via = h.matched.filter((m) => m.startsWith('~')).map((m) => m.slice(1));
  if (direct.length) {
    const inTask = direct.filter((t) => taskTerms.has(t));
    const elsewhere = direct.filter((t) => !taskTerms.has(t));
    const parts: string[] = [];
    if (inTask.length) parts.push(`${inTask.join(', ')} in the task`);
    if (elsewhere.length) parts.push(`${elsewhere.join(', ')} in steps/outcome/reflection`);
    why.push(`matched ${parts.join('; ')} (text ${h.text})`);
  }
  if (via.length) why.push(`related terms: ${via.join(', ')}`);
  if (h.contextMatches.length) why.push(`context: ${h.contextMatches.join(', ')}`);
  if (summary.outcome) why.push(`${summary.outcome}, reward ${(summary.reward ?? 0).toFixed(2)}`);
  else why.push('in progress');
  const days = (now - Date.parse(summary.startedAt)) / 86_400_000;
  why.push(days < 1 ? 'recent (today)' : `${Math.round(days)} days ago`);
  if (h.nearDuplicateOf) why.push(`near-duplicate of ${h.nearDuplicateOf} (ranked lower)`);
  return why;
}
