/**
 * Replays NDJSON files of X API v2 payloads: each line is a filtered-stream line (`data` is a tweet) or a
 * recent-search page (`data` is an array), told apart per line, so captures of either kind (or both) work.
 * `.gz` files are decompressed on the fly. Pace `max` goes as fast as downstream takes it; pace `original`
 * reproduces the gaps between the tweets' `created_at` (out-of-order tweets go out at once).
 * Replay keeps no cursor: running it again replays the files again.
 *
 * Hot path (`--pace max` replays hundreds of thousands of payloads): a plain file is read 1 MiB at a time into one
 * buffer reused for every block (a fresh 1 MiB buffer per block was mapped and unmapped under the CLI's 64 KiB mmap
 * threshold, with a page fault per 4 KiB; docs/benchmarks.md, "Sixth round: produce and replay"), and split into
 * lines as byte views of the block; no string per line, no promise per line. The mapping copies what a record keeps,
 * so nothing outlives its block but the start of a line that continues in the next one and the payloads that
 * become dead letters, both copied.
 */
import { createReadStream } from 'node:fs';
import { access, open } from 'node:fs/promises';
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
  #chunks: AsyncGenerator<Buffer> | undefined;
  /** The start of a line whose end is in a later chunk (a copy: the block it came from is read into again). */
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
    await this.#chunks?.return(undefined);
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
    // A dead letter's payload is a view of the block, which the next read overwrites.
    for (const d of mapped.deadLetters) this.#pendingDead.push({ ...d, raw: Buffer.from(d.raw) });
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
        this.#chunks = file.endsWith('.gz') ? gunzippedBlocks(file) : fileBlocks(file);
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
      const chunk: Buffer = next.value;
      const lines: Buffer[] = [];
      let start = 0;
      if (this.#partial) {
        // Only the line that spans the two chunks is copied, not the whole chunk behind it.
        const nl = chunk.indexOf(LF);
        const end = nl === -1 ? chunk.length : nl;
        const joined = Buffer.concat([this.#partial, chunk.subarray(0, end)]);
        if (nl === -1) {
          this.#partial = joined;
          continue;
        }
        this.#partial = undefined;
        addLine(lines, joined, 0, joined.length);
        start = nl + 1;
      }
      for (let nl = chunk.indexOf(LF, start); nl !== -1; nl = chunk.indexOf(LF, start)) {
        addLine(lines, chunk, start, nl);
        start = nl + 1;
      }
      this.#partial = start < chunk.length ? Buffer.from(chunk.subarray(start)) : undefined;
      if (lines.length > 0) return lines;
    }
  }
}

/**
 * A plain file's bytes, block by block, each read into the same buffer: a block is valid until the next one is
 * asked for.
 */
async function* fileBlocks(file: string): AsyncGenerator<Buffer> {
  const handle = await open(file);
  try {
    const block = Buffer.allocUnsafe(REPLAY_DEFAULTS.chunkBytes);
    for (;;) {
      const { bytesRead } = await handle.read(block, 0, block.length, null);
      if (bytesRead === 0) return;
      yield block.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** A gzip file's decompressed bytes, chunk by chunk. */
async function* gunzippedBlocks(file: string): AsyncGenerator<Buffer> {
  const input = createReadStream(file, { highWaterMark: REPLAY_DEFAULTS.chunkBytes }).pipe(
    createGunzip({ chunkSize: REPLAY_DEFAULTS.chunkBytes }),
  );
  try {
    for await (const chunk of input) yield chunk as Buffer;
  } finally {
    input.destroy();
  }
}

const LF = 0x0a;
const CR = 0x0d;

/** Adds the line of `chunk` that ends before the line feed at `lf` (a CR before it dropped) unless it is blank. */
function addLine(lines: Buffer[], chunk: Buffer, start: number, lf: number): void {
  const line = chunk.subarray(start, lf > start && chunk[lf - 1] === CR ? lf - 1 : lf);
  if (!isBlank(line)) lines.push(line);
}

/** True when the line holds only JSON whitespace (space, tab, CR, LF). */
function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x09 && byte !== CR && byte !== LF) return false;
  return true;
}
