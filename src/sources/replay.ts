/**
 * Replays NDJSON files of X API v2 payloads: each line is a filtered-stream line (`data` is a tweet) or a
 * recent-search page (`data` is an array), told apart per line, so captures of either kind (or both) work.
 * `.gz` files are decompressed on the fly. Pace `max` goes as fast as downstream takes it; pace `original`
 * reproduces the gaps between the tweets' `created_at` (out-of-order tweets go out at once).
 * Replay keeps no cursor: running it again replays the files again.
 *
 * Hot path (`--pace max` replays hundreds of thousands of payloads): files are read in 1 MiB chunks and split into
 * lines as byte views of the chunk, each decoded once (by the JSON parse); no string per line, no promise per line.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { REPLAY_DEFAULTS } from '../config/sources.ts';
import { TweetpipeError } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';
import { type Sleep, sleep } from '../retry/backoff.ts';
import type { DeadLetter, TweetRecord } from '../types.ts';
import {
  EndOfInput,
  newSourceCounters,
  type Source,
  type SourceBatch,
  type SourceCounters,
  type SourceState,
} from './source.ts';
import { fromJsonLine } from './tweet-record.ts';
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
  #fileIndex = 0;
  #chunks: AsyncIterator<Buffer> | undefined;
  #input: Readable | undefined;
  /** The start of a line whose end is in a later chunk. */
  #partial: Buffer | undefined;
  /** Mapped tweets of the current line not yet handed out (pace original hands them out when due). */
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
      const lines = await this.#nextLines();
      if (lines === undefined) {
        if (tweets.length > 0 || deadLetters.length > 0) return this.#batch(tweets, deadLetters);
        this.#state = { state: 'stopped', reason: 'end of input', reconnects: 0 };
        throw new EndOfInput();
      }
      const ingestedAtMs = this.#now();
      for (const line of lines) this.#map(line, ingestedAtMs);
    }
  }

  async close(): Promise<void> {
    this.#input?.destroy();
    this.#state = { state: 'stopped', reconnects: 0 };
  }

  state(): SourceState {
    return { ...this.#state };
  }

  #map(line: Buffer, ingestedAtMs: number): void {
    const mapped = fromJsonLine(line, { source: this.name, ingestedAtMs });
    for (const p of mapped.errors)
      this.#logger.warn({ problem: p }, `X error object in the replay: ${problemText(p)}`);
    this.counters.xProblems += mapped.errors.length;
    this.counters.deadLetters += mapped.deadLetters.length;
    // Search pages list the newest tweet first; original pace wants them in time order.
    if (this.#opts.pace === 'original') mapped.records.sort((a, b) => a.createdAtMs - b.createdAtMs);
    for (const t of mapped.records) this.#pending.push(t);
    for (const d of mapped.deadLetters) this.#pendingDead.push(d);
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

  /**
   * The non-blank lines completed by the next chunk across all files (views of it; CRLF and LF both end a line), or
   * undefined at the end of the last file. A file's last line needs no line break.
   */
  async #nextLines(): Promise<Buffer[] | undefined> {
    for (;;) {
      if (!this.#chunks) {
        const file = this.#opts.files[this.#fileIndex];
        if (file === undefined) return undefined;
        const raw = createReadStream(file, { highWaterMark: REPLAY_DEFAULTS.chunkBytes });
        this.#input = file.endsWith('.gz')
          ? raw.pipe(createGunzip({ chunkSize: REPLAY_DEFAULTS.chunkBytes }))
          : raw;
        this.#chunks = this.#input[Symbol.asyncIterator]();
      }
      const next = await this.#chunks.next();
      if (next.done) {
        const last = this.#partial;
        this.#chunks = undefined;
        this.#partial = undefined;
        this.#fileIndex += 1;
        if (last && !isBlank(last)) return [last];
        continue;
      }
      const chunk: Buffer = this.#partial ? Buffer.concat([this.#partial, next.value]) : next.value;
      const lines: Buffer[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(LF); nl !== -1; nl = chunk.indexOf(LF, start)) {
        const line = chunk.subarray(start, nl > start && chunk[nl - 1] === CR ? nl - 1 : nl);
        if (!isBlank(line)) lines.push(line);
        start = nl + 1;
      }
      this.#partial = start < chunk.length ? chunk.subarray(start) : undefined;
      if (lines.length > 0) return lines;
    }
  }
}

const LF = 0x0a;
const CR = 0x0d;

/** True when the line holds only JSON whitespace (space, tab, CR, LF). */
function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x09 && byte !== CR && byte !== LF) return false;
  return true;
}
