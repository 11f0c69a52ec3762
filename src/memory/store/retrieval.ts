/**
 * A query end to end: query terms (plus the caller's expansions), pseudo-relevance
 * feedback, ranking by the search index, repeats of a task folded into one hit
 * (repeats.ts), then the summaries and the reasons each hit matched.
 */
import type { Database } from 'sql.js';
import type { QueryHit, QueryOptions, QueryResult, Repeats } from '../types';
import type { QueryTerm, RankedHit, SearchIndex } from '../search';
import { queryTerms, tokenize } from '../text';
import { jsonText } from './codec';
import { foldRanked, foldWindow, repeatsLine, repeatsOf } from './repeats';
import { rowToSummary, SUMMARY_COLS } from './rows';
import { all, placeholders, str } from './sql';

type ParsedQuery = QueryOptions & { limit: number; offset: number };

const EXPANSION_WEIGHT = 0.6;
const FEEDBACK_WEIGHT = 0.3;

export function runQuery(db: Database, index: SearchIndex, o: ParsedQuery, now = Date.now()): QueryResult {
  const filter = {
    domain: o.domain,
    taskType: o.taskType,
    outcome: o.outcome,
    sinceMs: o.since ? Date.parse(o.since) : undefined,
    untilMs: o.until ? Date.parse(o.until) : undefined,
  };
  const ctx = { ...o.context };
  const base = queryTerms(o.query);
  const terms: QueryTerm[] = base.map((t) => ({ term: t, weight: 1 }));
  const seen = new Set(base);
  for (const x of o.expansions ?? []) {
    for (const t of queryTerms(x)) {
      if (seen.has(t)) continue;
      seen.add(t);
      terms.push({ term: t, weight: EXPANSION_WEIGHT, expansion: true });
    }
  }
  const window = foldWindow(o.limit, o.offset);
  if (base.length > 0 && index.documentCount > 3) {
    // The first pass keeps its accumulated scores: the final ranking only adds the feedback terms.
    const first = index.rank(terms, filter, ctx, 3, 0, now, { keep: true, accumulateFor: { limit: window, offset: 0 } });
    for (const t of feedbackTerms(db, index, first.hits, seen)) {
      seen.add(t);
      terms.push({ term: t, weight: FEEDBACK_WEIGHT, expansion: true });
    }
  }
  const ranked = index.rank(terms, filter, ctx, window, 0, now, { resume: true });
  const byRank = new Map(ranked.hits.map((h) => [h.id, h]));
  const hits = foldRanked(db, [...byRank.keys()], o.offset, o.limit).map((id) => byRank.get(id)!);
  const rows = hits.length ? all(db, `SELECT ${SUMMARY_COLS} FROM episodes WHERE id IN (${placeholders(hits.length)})`, hits.map((h) => h.id)) : [];
  const byId = new Map(rows.map((r) => [str(r.id), rowToSummary(r)]));
  const repeats = repeatsOf(db, hits.map((h) => h.id));
  const out: QueryHit[] = [];
  for (const h of hits) {
    const summary = byId.get(h.id);
    if (!summary) continue;
    const rep = repeats.get(h.id);
    out.push({ episode: summary, score: h.score, why: whyLines(h, summary, now, rep), ...(rep ? { repeats: rep } : {}) });
  }
  const expanded = terms.filter((t) => t.expansion).map((t) => t.term);
  return { hits: out, total: ranked.total, expandedTerms: [...base, ...expanded] };
}

/**
 * Pseudo-relevance feedback: the strongest key terms shared by the top episodes of a
 * first pass, to be added with a low weight (closes vocabulary gaps using associations
 * the store has learned from its own episodes).
 */
function feedbackTerms(db: Database, index: SearchIndex, firstHits: RankedHit[], seen: Set<string>): string[] {
  const top = firstHits.filter((h) => h.text > 0.3).slice(0, 3);
  if (top.length === 0) return [];
  const counts = new Map<string, number>();
  // Key terms from the task, outcome and reflection (which quotes the errors): cheap, no step parsing.
  const rows = all(db, `SELECT id, task, outcome, reflection FROM episodes WHERE id IN (${placeholders(top.length)})`, top.map((h) => h.id));
  for (const r of rows) {
    const text = `${str(r.task)}\n${str(r.outcome)}\n${jsonText(r.reflection)}`;
    for (const t of index.keyTermsOfText(text, 12)) if (!seen.has(t)) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  const need = top.length >= 2 ? 2 : 1;
  return [...counts.entries()]
    .filter(([, n]) => n >= need)
    .sort((a, b) => b[1] - a[1] || index.idf(b[0]) - index.idf(a[0]))
    .slice(0, 5)
    .map(([t]) => t);
}

/** Human-readable reasons: matched terms and fields, related terms, context, outcome, age. */
function whyLines(h: RankedHit, summary: QueryHit['episode'], now: number, repeats: Repeats | undefined): string[] {
  const why: string[] = [];
  if (repeats) why.push(repeatsLine(repeats, now));
  const direct = h.matched.filter((m) => !m.startsWith('~'));
  const via = h.matched.filter((m) => m.startsWith('~')).map((m) => m.slice(1));
  if (direct.length) {
    const taskTerms = new Set(tokenize(summary.task));
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
