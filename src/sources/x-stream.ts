/**
 * The X filtered stream (`GET /2/tweets/search/stream`) as a Source.
 *
 * A background loop holds the connection: it splits the chunked body into `\r\n` lines (a chunk may end mid-line;
 * an empty line is X's 20-second heartbeat), treats ~30 s without a byte as a dead connection, and reconnects with
 * X's documented backoff (backoff.ts). `operational-disconnect` messages inside the stream end the connection on
 * purpose; a 429 `TooManyConnections` follows the 429 schedule; other error objects are logged and counted; lines
 * that are not tweets become dead letters. read() hands out what the loop queued, in batches.
 *
 * Gaps: after every outage (and at start, from the saved cursor) the tweets published while disconnected are
 * collected with recent search, one query per stream rule, `since_id` = the newest id seen before the outage.
 * Recent search only returns tweets older than ~30 s unless told otherwise, so the search runs `backfillDelayMs`
 * (default 35 s) after the stream is back: its window then overlaps the new connection and the produce loop's
 * dedup window (src/pipeline/produce.ts) drops the overlap. When `backfillMinutes` is configured (X plans that allow it) and the outage is shorter, the
 * stream is reconnected with `backfill_minutes` instead; if X refuses that parameter, search takes over for good.
 * While a gap is open, the saved cursor is held at the gap's start, so a crash before it is filled retries it.
 */
import type { Readable } from 'node:stream';
import { X_STREAM_DEFAULTS } from '../config/x.ts';
import { TweetpipeError, toTweetpipeError } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';
import { ReconnectBackoff, type Sleep, sleep } from '../retry/backoff.ts';
import { X_RECONNECT, type XFailureKind, type XReconnectSchedules } from '../retry/schedules.ts';
import { compareIds, type DeadLetter, type TweetRecord } from '../types.ts';
import { type CursorStore, CursorTracker } from './cursor-store.ts';
import { LineSplitter } from './line-splitter.ts';
import { listRules, type RulesOwnership, type ServerRule, type StreamRule, syncRules } from './rules-sync.ts';
import {
  newSourceCounters,
  type Source,
  type SourceBatch,
  type SourceCounters,
  type SourceState,
} from './source.ts';
import { StallWatchdog } from './stall-watchdog.ts';
import { fromJsonLine } from './tweet-record.ts';
import { Wakeup } from './wakeup.ts';
import {
  isOperationalProblem,
  problemText,
  type XApiProblem,
  type XFieldSelection,
  type XHttpClient,
} from './x-http.ts';
import { RecentSearch } from './x-search.ts';
import { classifyConnectError, type Failure, isRefusal } from './x-stream-failures.ts';
import { type Gap, type GapSearchContext, searchGap, snowflakeTimeMs } from './x-stream-gaps.ts';

export const STREAM_PATH = '/2/tweets/search/stream';

export interface XStreamSourceOptions {
  /** Source name for the cursor, `_ingest.source` and logs; default "x-stream". */
  name?: string;
  client: XHttpClient;
  fields: XFieldSelection;
  /** Declared rules, synced at connect(); when absent, the server's rules are used as they are. */
  rules?: readonly StreamRule[];
  /** Which server rules the sync may delete; default `exact`. Other modes publish only posts of our rules. */
  rulesOwnership?: RulesOwnership;
  cursorStore: CursorStore;
  logger?: Logger;
  counters?: SourceCounters;
  /** No byte for this long means the connection is dead; default 30 s (X sends heartbeats every 20 s). */
  stallTimeoutMs?: number;
  backoffPolicy?: XReconnectSchedules;
  /** 1..5 when the plan allows `backfill_minutes`; outages up to that long are refilled by the stream itself. */
  backfillMinutes?: number;
  /** How long after reconnecting the gap-filling search runs; default 35 s (see the module comment). */
  backfillDelayMs?: number;
  /** Batch size and linger for read(); defaults 500 tweets, 50 ms. */
  batchMaxTweets?: number;
  batchLingerMs?: number;
  /** Above this many queued tweets the stream is not read until read() catches up; default 10 000. */
  maxBufferedTweets?: number;
  searchMaxResults?: number;
  sleep?: Sleep;
  now?: () => number;
}

export class XStreamSource implements Source {
  readonly name: string;
  readonly counters: SourceCounters;
  readonly #opts: XStreamSourceOptions;
  readonly #client: XHttpClient;
  readonly #logger: Logger;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  readonly #tracker: CursorTracker;
  readonly #search: RecentSearch;
  readonly #stallTimeoutMs: number;
  readonly #batchMax: number;
  readonly #lingerMs: number;
  readonly #maxBuffered: number;
  readonly #lifetime = new AbortController();
  readonly #dataReady = new Wakeup();
  readonly #spaceFree = new Wakeup();

  #rules: ServerRule[] = [];
  /** Ids of the synced rules when posts matching only other rules are dropped (rules modes but `exact`). */
  #ownRuleIds: ReadonlySet<string> | undefined;
  #queue: TweetRecord[] = [];
  #dead: DeadLetter[] = [];
  /** Date.now() when the oldest queued item arrived (linger is real time, not the injected clock). */
  #oldestQueuedAt = 0;
  #enqueued = 0;
  #dequeued = 0;
  /** Hold releases waiting until the queue has been read up to `at`. */
  #releases: { at: number; hold: number }[] = [];
  #newestSeen: string | undefined;
  #lastLineAt: number | undefined;
  #everConnected = false;
  #gap: Gap | undefined;
  #gapFills: Promise<void> = Promise.resolve();
  #backfillMinutesRefused = false;
  #pump: Promise<void> | undefined;
  #fatal: TweetpipeError | undefined;
  #state: SourceState = { state: 'connecting', reconnects: 0 };

  constructor(opts: XStreamSourceOptions) {
    this.#opts = opts;
    this.name = opts.name ?? 'x-stream';
    this.#client = opts.client;
    this.counters = opts.counters ?? newSourceCounters();
    this.#logger = (opts.logger ?? silentLogger).child({ source: this.name });
    this.#sleep = opts.sleep ?? sleep;
    this.#now = opts.now ?? Date.now;
    this.#tracker = new CursorTracker(opts.cursorStore, this.name);
    this.#stallTimeoutMs = opts.stallTimeoutMs ?? X_STREAM_DEFAULTS.stallTimeoutMs;
    this.#batchMax = opts.batchMaxTweets ?? X_STREAM_DEFAULTS.batchMaxTweets;
    this.#lingerMs = opts.batchLingerMs ?? X_STREAM_DEFAULTS.batchLingerMs;
    this.#maxBuffered = opts.maxBufferedTweets ?? X_STREAM_DEFAULTS.maxBufferedTweets;
    this.#search = new RecentSearch({
      client: opts.client,
      fields: opts.fields,
      logger: this.#logger,
      sleep: this.#sleep,
      now: this.#now,
      ...(opts.searchMaxResults === undefined ? {} : { maxResults: opts.searchMaxResults }),
      ...(opts.backoffPolicy === undefined ? {} : { backoffPolicy: opts.backoffPolicy }),
    });
  }

  /**
   * Syncs (or reads) the rules, opens the gap left since the saved cursor, and starts the connection loop.
   * `signal` bounds the rules requests only; the loop runs until close().
   */
  async connect(signal: AbortSignal): Promise<void> {
    const rulesOpts = { logger: this.#logger, signal };
    const ownership = this.#opts.rulesOwnership ?? { mode: 'exact' };
    this.#rules = this.#opts.rules
      ? (await syncRules(this.#client, this.#opts.rules, { ...rulesOpts, ownership })).rules
      : await listRules(this.#client, rulesOpts);
    if (this.#opts.rules && ownership.mode !== 'exact')
      this.#ownRuleIds = new Set(this.#rules.map((r) => r.id));
    if (this.#rules.length === 0)
      this.#logger.warn('the filtered stream has no rules: X will deliver nothing');
    const cursor = this.#tracker.saved;
    if (cursor !== undefined) {
      this.#newestSeen = cursor;
      this.#gap = {
        sinceId: cursor,
        startMs: snowflakeTimeMs(cursor, this.#now()),
        hold: this.#tracker.hold(cursor),
      };
      this.#logger.info(
        { sinceId: cursor },
        'resuming: tweets after the saved cursor will be collected with recent search',
      );
    }
    this.#pump = this.#run(this.#lifetime.signal);
  }

  async read(signal: AbortSignal): Promise<SourceBatch> {
    for (;;) {
      signal.throwIfAborted();
      const queued = this.#queue.length + this.#dead.length;
      if (queued === 0) {
        if (this.#fatal) throw this.#fatal;
        if (this.#lifetime.signal.aborted)
          throw new TweetpipeError('ABORTED', `source ${this.name} is closed`);
        await this.#dataReady.wait(signal);
        continue;
      }
      const age = Date.now() - this.#oldestQueuedAt;
      const closing = this.#fatal !== undefined || this.#lifetime.signal.aborted;
      if (this.#queue.length >= this.#batchMax || age >= this.#lingerMs || closing) break;
      await this.#dataReady.wait(signal, this.#lingerMs - age);
    }
    const tweets = this.#queue.splice(0, this.#batchMax);
    const deadLetters = this.#dead.splice(0);
    this.#dequeued += tweets.length;
    this.#oldestQueuedAt = Date.now();
    this.#spaceFree.wake();
    let newest: string | undefined;
    for (const t of tweets) if (newest === undefined || compareIds(t.id, newest) > 0) newest = t.id;
    const ack = this.#tracker.begin(newest);
    this.#flushReleases();
    this.counters.tweets += tweets.length;
    return { tweets, deadLetters, ack };
  }

  async close(): Promise<void> {
    this.#lifetime.abort(new TweetpipeError('ABORTED', `source ${this.name} closed`));
    this.#dataReady.wake();
    this.#spaceFree.wake();
    await this.#pump;
    await this.#gapFills;
    this.#state = { state: 'stopped', reconnects: this.#state.reconnects };
  }

  state(): SourceState {
    return { ...this.#state };
  }

  async #run(signal: AbortSignal): Promise<void> {
    const backoff = new ReconnectBackoff(this.#opts.backoffPolicy ?? X_RECONNECT);
    while (!signal.aborted) {
      const backfillMinutes = this.#backfillMinutesFor(this.#gap);
      this.#setState('connecting');
      const conn = new AbortController();
      const stop = () => conn.abort(signal.reason);
      signal.addEventListener('abort', stop, { once: true });
      let failure: Failure;
      try {
        const res = await this.#client.stream(STREAM_PATH, {
          query: { backfill_minutes: backfillMinutes },
          selection: { endpoint: 'stream', fields: this.#opts.fields },
          signal: conn.signal,
          timeoutMs: this.#stallTimeoutMs,
        });
        this.#onConnected(backfillMinutes !== undefined);
        failure = await this.#consume(res.body, conn, backoff).catch((err: unknown) => ({
          kind: 'network' as const,
          reason: toTweetpipeError(err).message,
        }));
      } catch (err) {
        if (signal.aborted) break;
        if (backfillMinutes !== undefined && isRefusal(err)) {
          this.#backfillMinutesRefused = true;
          this.#logger.warn({ err }, 'X refused backfill_minutes; filling gaps with recent search instead');
          continue;
        }
        const classified = classifyConnectError(err);
        if (!classified) {
          this.#fatal = toTweetpipeError(err);
          this.#state = { state: 'stopped', reason: this.#fatal.message, reconnects: this.#state.reconnects };
          this.#logger.error({ err: this.#fatal }, 'X stream connection refused; not retrying');
          this.#dataReady.wake();
          return;
        }
        failure = classified;
      } finally {
        signal.removeEventListener('abort', stop);
      }
      if (signal.aborted) break;
      this.#openGap();
      this.counters.reconnects += 1;
      const waitMs = backoff.next(failure.kind);
      this.#state = {
        state: 'backing-off',
        until: this.#now() + waitMs,
        reason: failure.reason,
        reconnects: this.#state.reconnects + 1,
      };
      this.#logger.warn(
        { kind: failure.kind, waitMs, reason: failure.reason },
        'X stream disconnected; reconnecting',
      );
      await this.#sleep(waitMs, signal).catch(() => {});
    }
    this.#state = { state: 'stopped', reconnects: this.#state.reconnects };
  }

  #setState(state: 'connecting' | 'connected'): void {
    this.#state = { state, reconnects: this.#state.reconnects };
  }

  #onConnected(usedBackfillMinutes: boolean): void {
    this.#setState('connected');
    this.#everConnected = true;
    const gap = this.#gap;
    if (!gap) return;
    this.#gap = undefined;
    const connectedAt = this.#now();
    const signal = this.#lifetime.signal;
    this.#gapFills = this.#gapFills.then(() => this.#fillGap(gap, connectedAt, usedBackfillMinutes, signal));
  }

  /** Reads lines until the connection ends; returns why it ended. */
  async #consume(
    body: Readable,
    conn: AbortController,
    backoff: ReconnectBackoff<XFailureKind>,
  ): Promise<Failure> {
    const splitter = new LineSplitter();
    const watchdog = new StallWatchdog(this.#stallTimeoutMs, () =>
      conn.abort(
        new TweetpipeError('NETWORK', `stream stalled: no data or heartbeat for ${this.#stallTimeoutMs} ms`, {
          retryable: true,
        }),
      ),
    );
    let delivered = false;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        watchdog.touch();
        for (const line of splitter.push(chunk)) {
          if (!delivered) {
            delivered = true;
            backoff.reset();
          }
          this.#lastLineAt = this.#now();
          const ended = this.#handleLine(line);
          if (ended) return ended;
        }
        if (this.#queue.length >= this.#maxBuffered) {
          watchdog.pause();
          await this.#waitForSpace(conn.signal);
          watchdog.touch();
        }
      }
      return { kind: 'network', reason: 'the server ended the stream' };
    } finally {
      watchdog.pause();
      body.destroy();
    }
  }

  /** Maps one line; returns a Failure when X says the connection is over. */
  #handleLine(line: Buffer): Failure | undefined {
    if (line.length === 0) {
      this.counters.heartbeats += 1;
      return undefined;
    }
    const mapped = fromJsonLine(line, {
      source: this.name,
      ingestedAtMs: this.#now(),
      ...(this.#ownRuleIds ? { ownRuleIds: this.#ownRuleIds } : {}),
    });
    this.counters.foreignRuleTweets += mapped.foreignRuleTweets;
    this.#enqueue(mapped.records, mapped.deadLetters);
    let ended: Failure | undefined;
    for (const p of mapped.errors) {
      this.counters.xProblems += 1;
      if (isOperationalProblem(p)) {
        ended = { kind: 'connection_issue' in p ? 'rate-limit' : 'network', reason: `X: ${problemText(p)}` };
        this.#logger.warn({ problem: p }, `X stream message: ${problemText(p)}`);
      } else this.#logger.warn({ problem: p }, `X stream error object: ${problemText(p)}`);
    }
    return ended;
  }

  #enqueue(records: TweetRecord[], deadLetters: DeadLetter[]): void {
    this.counters.deadLetters += deadLetters.length;
    if (records.length === 0 && deadLetters.length === 0) return;
    if (this.#queue.length + this.#dead.length === 0) this.#oldestQueuedAt = Date.now();
    for (const r of records) {
      this.#queue.push(r);
      if (this.#newestSeen === undefined || compareIds(r.id, this.#newestSeen) > 0) this.#newestSeen = r.id;
    }
    for (const d of deadLetters) this.#dead.push(d);
    this.#enqueued += records.length;
    this.#dataReady.wake();
  }

  async #waitForSpace(signal: AbortSignal): Promise<void> {
    while (this.#queue.length >= this.#maxBuffered) await this.#spaceFree.wait(signal);
  }

  /** Records the outage that just began, unless an earlier one is still waiting to be filled. */
  #openGap(): void {
    if (!this.#everConnected || this.#gap) return;
    const startMs = this.#lastLineAt ?? this.#now();
    this.#gap = { sinceId: this.#newestSeen, startMs, hold: this.#tracker.hold(this.#newestSeen) };
  }

  #backfillMinutesFor(gap: Gap | undefined): number | undefined {
    const minutes = this.#opts.backfillMinutes;
    if (!gap || !minutes || this.#backfillMinutesRefused || gap.startMs === undefined) return undefined;
    return this.#now() - gap.startMs <= minutes * 60_000 ? minutes : undefined;
  }

  async #fillGap(gap: Gap, connectedAt: number, viaStream: boolean, signal: AbortSignal): Promise<void> {
    try {
      // Also for backfill_minutes: the redelivered tweets arrive first on the new connection.
      const waitMs =
        connectedAt + (this.#opts.backfillDelayMs ?? X_STREAM_DEFAULTS.backfillDelayMs) - this.#now();
      if (waitMs > 0) await this.#sleep(waitMs, signal);
      if (!viaStream) await searchGap(gap, this.#gapSearchContext(), signal);
    } catch (err) {
      if (signal.aborted) return;
      this.#logger.error(
        { err, sinceId: gap.sinceId },
        'the outage gap could not be filled: tweets from it may be missing',
      );
    }
    this.#releases.push({ at: this.#enqueued, hold: gap.hold });
    this.#flushReleases();
  }

  #gapSearchContext(): GapSearchContext {
    return {
      source: this.name,
      rules: this.#rules,
      search: this.#search,
      logger: this.#logger,
      now: this.#now,
      deliver: async (mapped, signal) => {
        this.#logProblems(mapped.errors);
        this.counters.backfilledTweets += mapped.records.length;
        await this.#waitForSpace(signal);
        this.#enqueue(mapped.records, mapped.deadLetters);
      },
    };
  }

  #logProblems(problems: XApiProblem[]): void {
    this.counters.xProblems += problems.length;
    for (const p of problems) this.#logger.warn({ problem: p }, `X reported an error: ${problemText(p)}`);
  }

  /** Lifts cursor holds whose gap tweets have all been handed out by read() (they are acked in order after). */
  #flushReleases(): void {
    while (this.#releases.length > 0 && this.#releases[0]!.at <= this.#dequeued) {
      const { hold } = this.#releases.shift()!;
      this.#tracker
        .releaseAfterPending(hold)
        .catch((err: unknown) => this.#logger.error({ err }, 'cannot save the source cursor'));
    }
  }
}
