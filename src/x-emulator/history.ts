/**
 * Every tweet the X API emulator generated, in id order and bounded (X's recent search covers 7 days), so that
 * recent search can serve what the stream delivered, dropped or never delivered: a client that misses stream
 * lines recovers them with `since_id`.
 */

import type { MatchingRule, TweetPayload } from '../sources/synthetic-payloads.ts';
import { compareIds } from '../types.ts';
import type { Matcher, TweetFacts } from './rule-language.ts';

export interface HistoryEntry {
  id: string;
  createdAtMs: number;
  payload: TweetPayload;
  facts: TweetFacts;
  /** The stream rules the tweet matched when it was generated. */
  matchingRules: MatchingRule[];
}

export interface HistoryQuery {
  match: Matcher;
  /** Exclusive lower bound. */
  sinceId?: string;
  /** Exclusive upper bound. */
  untilId?: string;
  /** Inclusive, epoch ms. */
  startMs?: number;
  /** Exclusive, epoch ms. */
  endMs?: number;
  limit: number;
}

export interface HistoryOptions {
  maxTweets: number;
  retentionMs: number;
  now: () => number;
}

export class TweetHistory {
  private readonly opts: HistoryOptions;
  /** Oldest first; entries before `head` are evicted and wait for compaction. */
  private entries: HistoryEntry[] = [];
  private head = 0;

  constructor(opts: HistoryOptions) {
    this.opts = opts;
  }

  add(entry: HistoryEntry): void {
    this.entries.push(entry);
    this.evict();
  }

  /** Newest first, like X; `more` says whether older matches remain beyond `limit`. */
  search(q: HistoryQuery): { entries: HistoryEntry[]; more: boolean } {
    this.evict();
    const found: HistoryEntry[] = [];
    for (let i = this.entries.length - 1; i >= this.head; i--) {
      const e = this.entries[i]!;
      if (q.untilId !== undefined && compareIds(e.id, q.untilId) >= 0) continue;
      if (q.sinceId !== undefined && compareIds(e.id, q.sinceId) <= 0) break;
      if (q.endMs !== undefined && e.createdAtMs >= q.endMs) continue;
      if (q.startMs !== undefined && e.createdAtMs < q.startMs) break;
      if (!q.match(e.facts)) continue;
      if (found.length === q.limit) return { entries: found, more: true };
      found.push(e);
    }
    return { entries: found, more: false };
  }

  /** Entries created at or after `fromMs`, oldest first (stream backfill). */
  since(fromMs: number): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let i = this.entries.length - 1; i >= this.head; i--) {
      const e = this.entries[i]!;
      if (e.createdAtMs < fromMs) break;
      out.push(e);
    }
    return out.reverse();
  }

  /** Ids still held, oldest first. */
  ids(filter?: (e: HistoryEntry) => boolean): string[] {
    const out: string[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!filter || filter(e)) out.push(e.id);
    }
    return out;
  }

  private evict(): void {
    const oldest = this.opts.now() - this.opts.retentionMs;
    while (
      this.head < this.entries.length &&
      (this.entries.length - this.head > this.opts.maxTweets || this.entries[this.head]!.createdAtMs < oldest)
    ) {
      this.head++;
    }
    // Compact rarely, so eviction stays O(1) amortised instead of an Array.shift per tweet.
    if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
