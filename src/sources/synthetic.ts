/**
 * The synthetic source: realistic v2 tweets from SyntheticTweets, mapped through the same code as real payloads.
 * With `rate` it paces to that many tweets per second in real time (created_at = now, for demos); without it,
 * it runs as fast as it can on a virtual clock, fully deterministic for a seed (for benchmarks and tests).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeadLetter, TweetRecord } from '../types.ts';
import { EndOfInput, type Source, type SourceBatch, type SourceState } from './source.ts';
import { SyntheticTweets } from './synthetic-payloads.ts';
import { toTweetRecords } from './tweet-record.ts';

export interface SyntheticSourceOptions {
  seed: number;
  /** Tweets per second; undefined = as fast as possible. */
  rate?: number | undefined;
  /** Stop after this many tweets. */
  maxTweets?: number | undefined;
  batchSize?: number;
}

const RULES = [{ id: '1', tag: 'synthetic' }];

export class SyntheticSource implements Source {
  readonly name = 'synthetic';
  private readonly tweets: SyntheticTweets;
  private readonly opts: SyntheticSourceOptions;
  private generated = 0;
  private started = 0;

  constructor(opts: SyntheticSourceOptions) {
    this.opts = opts;
    this.tweets = new SyntheticTweets({ seed: opts.seed });
  }

  async connect(): Promise<void> {
    this.started = performance.now();
  }

  async read(signal: AbortSignal): Promise<SourceBatch> {
    const max = this.opts.maxTweets ?? Number.POSITIVE_INFINITY;
    if (this.generated >= max) throw new EndOfInput();
    let n = Math.min(this.opts.batchSize ?? 1000, max - this.generated);
    if (this.opts.rate !== undefined) {
      // Pace: how many tweets the rate allows by now, waiting a little when none.
      for (;;) {
        signal.throwIfAborted();
        const due = Math.floor(((performance.now() - this.started) / 1000) * this.opts.rate) - this.generated;
        if (due > 0) {
          n = Math.min(n, due);
          break;
        }
        await sleep(Math.max(5, Math.min(100, 1000 / this.opts.rate)), undefined, { signal });
      }
    }
    const records: TweetRecord[] = [];
    const deadLetters: DeadLetter[] = [];
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const { data, includes } = this.tweets.nextTweet(this.opts.rate !== undefined ? Date.now() : undefined);
      const mapped = toTweetRecords(
        { data, includes, matching_rules: RULES },
        { source: this.name, ingestedAtMs: now },
      );
      for (const r of mapped.records) records.push(r);
      for (const d of mapped.deadLetters) deadLetters.push(d);
    }
    this.generated += n;
    return { tweets: records, deadLetters, ack: async () => {} };
  }

  async close(): Promise<void> {}

  state(): SourceState {
    return { state: 'connected', reconnects: 0 };
  }
}
