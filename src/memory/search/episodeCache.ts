/**
 * What a query answer derives from an episode's text beyond the ranking (the why-lines'
 * task terms, the feedback expansion's term counts), kept between queries in a bounded map.
 * The index drops an episode's entry when it changes the episode. Nothing here depends on
 * the other episodes (the feedback's tf·idf is computed per query from the counts).
 */

export interface EpisodeTerms {
  /** Terms of the task as its summary shows it, for the why-lines. */
  task?: ReadonlySet<string>;
  /** Term counts of the feedback text (task, the outcome's words, the insights). */
  feedback?: ReadonlyMap<string, number>;
}

/** Entries kept: the hits of recent queries (a few kilobytes each). */
export const EPISODE_TERMS_CACHED = 1024;

/** A bounded map from episode id to its EpisodeTerms, the least recently used dropped first. */
export class EpisodeTermsCache {
  private readonly map = new Map<string, EpisodeTerms>();

  constructor(private readonly max = EPISODE_TERMS_CACHED) {}

  /** The episode's entry, created empty when missing (fill its fields in place). */
  entry(id: string): EpisodeTerms {
    let e = this.map.get(id);
    if (e) this.map.delete(id);
    else e = {};
    this.map.set(id, e);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
    return e;
  }

  /** The episode's entry without creating or refreshing it. */
  peek(id: string): EpisodeTerms | undefined {
    return this.map.get(id);
  }

  delete(id: string): void {
    this.map.delete(id);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
