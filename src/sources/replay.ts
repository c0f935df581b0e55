/**
 * Replays NDJSON files of X API v2 payloads: each line is a filtered-stream line (`data` is a tweet) or a
 * recent-search page (`data` is an array), told apart per line, so captures of either kind (or both) work.
 * `.gz` files are decompressed on the fly. Pace `max` goes as fast as downstream takes it; pace `original`
 * reproduces the gaps between the tweets' `created_at` (out-of-order tweets go out at once).
 * Replay keeps no cursor: running it again replays the files again.
 *
 * Hot path (`--pace max` replays hundreds of thousands of payloads): the files are read and their lines mapped on a
 * mapping thread (replay-thread.ts), so this thread only hands records out; pace original, which waits for the
 * tweets' times anyway, maps in this thread (replay-mapping.ts). Both read blocks of the file into one reused buffer
 * (replay-file-lines.ts).
 */
import { access } from 'node:fs/promises';
import { REPLAY_DEFAULTS } from '../config/sources.ts';
import { TweetpipeError } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';
import { type Sleep, sleep } from '../retry/backoff.ts';
import type { DeadLetter, TweetRecord } from '../types.ts';
import { InThreadChunks, type MappedChunk, type MappedChunks } from './replay-mapping.ts';
import { ReplayThread } from './replay-thread.ts';
import {
  EndOfInput,
  newSourceCounters,
  type Source,
  type SourceBatch,
  type SourceCounters,
  type SourceState,
} from './source.ts';
import { problemText } from './x-http.ts';

export type ReplayPace = 'original' | 'max';

export interface ReplaySourceOptions {
  /** Source name for `_ingest.source` and logs; default "replay". */
  name?: string;
  files: readonly string[];
  pace: ReplayPace;
  /** Default REPLAY_DEFAULTS.batchMaxTweets. */
  batchMaxTweets?: number;
  logger?: Logger;
  counters?: SourceCounters;
  sleep?: Sleep;
  now?: () => number;
}

export class ReplaySource implements Source {
  readonly name: string;
  readonly counters: SourceCounters;
  readonly #opts: ReplaySourceOptions;
  readonly #logger: Logger;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  #chunks: MappedChunks | undefined;
  /** Mapped tweets of the current chunk not yet handed out (pace original hands them out when due). */
  #pending: TweetRecord[] = [];
  #pendingDead: DeadLetter[] = [];
  /** Pace original: wall time and tweet time of the first tweet; later tweets are due at the same offset. */
  #anchor: { wallMs: number; tweetMs: number } | undefined;
  #state: SourceState = { state: 'connecting', reconnects: 0 };

  constructor(opts: ReplaySourceOptions) {
    this.#opts = opts;
    this.name = opts.name ?? 'replay';
    this.counters = opts.counters ?? newSourceCounters();
    this.#logger = (opts.logger ?? silentLogger).child({ source: this.name });
    this.#sleep = opts.sleep ?? sleep;
    this.#now = opts.now ?? Date.now;
  }

  async connect(_signal: AbortSignal): Promise<void> {
    if (this.#opts.files.length === 0)
      throw new TweetpipeError('USAGE', 'replay needs at least one NDJSON file');
    for (const file of this.#opts.files) {
      await access(file).catch(() => {
        throw new TweetpipeError('USAGE', `replay file not found or not readable: ${file}`);
      });
    }
    this.#state = { state: 'connected', reconnects: 0 };
  }

  async read(signal: AbortSignal): Promise<SourceBatch> {
    const max = this.#opts.batchMaxTweets ?? REPLAY_DEFAULTS.batchMaxTweets;
    const tweets: TweetRecord[] = [];
    const deadLetters: DeadLetter[] = [];
    for (;;) {
      signal.throwIfAborted();
      deadLetters.push(...this.#pendingDead.splice(0));
      if (this.#opts.pace === 'max') {
        // No timing to keep: as many as fit, in one move.
        for (const t of this.#pending.splice(0, max - tweets.length)) tweets.push(t);
      }
      while (this.#pending.length > 0 && tweets.length < max) {
        const waitMs = this.#dueInMs(this.#pending[0]!);
        if (waitMs > 0) {
          if (tweets.length > 0 || deadLetters.length > 0) return this.#batch(tweets, deadLetters);
          await this.#sleep(waitMs, signal);
        }
        tweets.push(this.#pending.shift()!);
      }
      if (tweets.length >= max) return this.#batch(tweets, deadLetters);
      this.#chunks ??= this.#mappedChunks();
      const chunk = await this.#chunks.next(this.#now());
      if (chunk === undefined) {
        if (tweets.length > 0 || deadLetters.length > 0) return this.#batch(tweets, deadLetters);
        this.#state = { state: 'stopped', reason: 'end of input', reconnects: 0 };
        throw new EndOfInput();
      }
      this.#take(chunk);
    }
  }

  async close(): Promise<void> {
    await this.#chunks?.close();
    this.#state = { state: 'stopped', reconnects: 0 };
  }

  state(): SourceState {
    return { ...this.#state };
  }

  /** Pace max maps on a mapping thread; pace original waits for the tweets' times and maps here. */
  #mappedChunks(): MappedChunks {
    const { files, pace } = this.#opts;
    return pace === 'max' ? new ReplayThread(files, this.name) : new InThreadChunks(files, this.name, true);
  }

  #take(chunk: MappedChunk): void {
    for (const p of chunk.problems)
      this.#logger.warn({ problem: p }, `X error object in the replay: ${problemText(p)}`);
    this.counters.xProblems += chunk.problems.length;
    this.counters.deadLetters += chunk.deadLetters.length;
    for (const t of chunk.records) this.#pending.push(t);
    for (const d of chunk.deadLetters) this.#pendingDead.push(d);
  }

  #dueInMs(tweet: TweetRecord): number {
    const now = this.#now();
    if (!this.#anchor) {
      this.#anchor = { wallMs: now, tweetMs: tweet.createdAtMs };
      return 0;
    }
    return this.#anchor.wallMs + (tweet.createdAtMs - this.#anchor.tweetMs) - now;
  }

  #batch(tweets: TweetRecord[], deadLetters: DeadLetter[]): SourceBatch {
    this.counters.tweets += tweets.length;
    return {
      tweets,
      deadLetters,
      ack: async (err?: Error) => {
        if (err) this.#logger.error({ err }, 'a replayed batch was not acknowledged');
      },
    };
  }
}
