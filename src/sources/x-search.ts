/**
 * X recent search (`GET /2/tweets/search/recent`): the page fetcher shared by the polling source and the
 * filtered stream's gap filling, and the polling Source itself.
 *
 * Polling follows X's documented pattern: each poll asks for tweets newer than `since_id` (the newest id of the
 * previous poll); when a poll spans several pages, every page repeats the SAME `since_id` with the `next_token`
 * of the page before, and the poll's newest id is the `newest_id` of its FIRST page (results are newest first).
 * That id becomes the next poll's `since_id` once the poll has been read, and the saved cursor once every page of
 * the poll is acknowledged. Requests are paced by `x-rate-limit-remaining` / `x-rate-limit-reset`.
 */
import { X_API_DEFAULTS } from '../config/x.ts';
import { TweetpipeError, toTweetpipeError } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';
import { ReconnectBackoff, type Sleep, sleep } from '../retry/backoff.ts';
import { X_RECONNECT, type XReconnectSchedules } from '../retry/schedules.ts';
import { type CursorStore, CursorTracker } from './cursor-store.ts';
import {
  newSourceCounters,
  type Source,
  type SourceBatch,
  type SourceCounters,
  type SourceState,
} from './source.ts';
import { toTweetRecords } from './tweet-record.ts';
import { problemText, type RateLimit, type XFieldSelection, type XHttpClient } from './x-http.ts';

export const SEARCH_PATH = '/2/tweets/search/recent';

/** Recent search only reaches this far back. */
export const SEARCH_WINDOW_MS = 7 * 24 * 3600_000;

/** What one poll (all its pages) asks for: tweets after `sinceId`, or from `startTimeMs` when there is none. */
export interface SearchWindow {
  query: string;
  sinceId?: string;
  startTimeMs?: number;
}

export interface SearchPage {
  /** The response body, a search page for toTweetRecords. */
  body: Record<string, unknown>;
  newestId: string | undefined;
  nextToken: string | undefined;
}

export interface RecentSearchOptions {
  client: XHttpClient;
  fields: XFieldSelection;
  /** 10..100; default 100 (fewer requests per tweet). */
  maxResults?: number;
  logger?: Logger;
  backoffPolicy?: XReconnectSchedules;
  sleep?: Sleep;
  now?: () => number;
  /** Told whenever a request must wait (used-up rate limit, or a retry after an error), for the operator view. */
  onWait?: (untilMs: number, reason: string, afterError: boolean) => void;
}

/** Fetches search pages, waiting out rate limits and retrying what X says is retryable. */
export class RecentSearch {
  readonly #opts: RecentSearchOptions;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  readonly #logger: Logger;
  #rateLimit: RateLimit = {};

  constructor(opts: RecentSearchOptions) {
    this.#opts = opts;
    this.#sleep = opts.sleep ?? sleep;
    this.#now = opts.now ?? Date.now;
    this.#logger = opts.logger ?? silentLogger;
  }

  async page(window: SearchWindow, nextToken: string | undefined, signal: AbortSignal): Promise<SearchPage> {
    const backoff = new ReconnectBackoff(this.#opts.backoffPolicy ?? X_RECONNECT);
    for (;;) {
      await this.#waitForQuota(signal);
      try {
        const res = await this.#opts.client.get(SEARCH_PATH, {
          query: {
            query: window.query,
            since_id: window.sinceId,
            start_time: window.sinceId === undefined ? isoSeconds(window.startTimeMs) : undefined,
            max_results: this.#opts.maxResults ?? X_API_DEFAULTS.searchMaxResults,
            next_token: nextToken,
          },
          selection: { endpoint: 'search', fields: this.#opts.fields },
          signal,
        });
        this.#rateLimit = res.rateLimit;
        const body = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as Record<
          string,
          unknown
        >;
        const meta = (body.meta ?? {}) as { newest_id?: unknown; next_token?: unknown };
        return {
          body,
          newestId: typeof meta.newest_id === 'string' ? meta.newest_id : undefined,
          nextToken:
            typeof meta.next_token === 'string' && meta.next_token !== '' ? meta.next_token : undefined,
        };
      } catch (err) {
        if (signal.aborted) throw signal.reason ?? err;
        const e = toTweetpipeError(err);
        if (!e.retryable) throw e;
        const reset = e.details.resetAtMs;
        const waitMs =
          e.code === 'X_RATE_LIMITED'
            ? typeof reset === 'number'
              ? Math.max(0, reset - this.#now()) + X_API_DEFAULTS.rateLimitResetMarginMs
              : backoff.next('rate-limit')
            : backoff.next(e.code === 'NETWORK' || e.code === 'TIMEOUT' ? 'network' : 'http');
        this.#logger.warn({ err: e, waitMs }, 'X recent search failed; retrying');
        this.#opts.onWait?.(this.#now() + waitMs, e.message, true);
        await this.#sleep(waitMs, signal);
      }
    }
  }

  async #waitForQuota(signal: AbortSignal): Promise<void> {
    const { remaining, resetAtMs } = this.#rateLimit;
    if (remaining !== 0 || resetAtMs === undefined) return;
    const waitMs = resetAtMs - this.#now() + X_API_DEFAULTS.rateLimitResetMarginMs;
    if (waitMs > 0) {
      const until = new Date(resetAtMs).toISOString();
      this.#logger.info({ waitMs }, `X recent search rate limit used up; waiting until ${until}`);
      this.#opts.onWait?.(this.#now() + waitMs, `rate limit used up until ${until}`, false);
      await this.#sleep(waitMs, signal);
    }
    this.#rateLimit = {};
  }
}

/** X wants second precision (YYYY-MM-DDTHH:mm:ssZ). */
function isoSeconds(ms: number | undefined): string | undefined {
  return ms === undefined
    ? undefined
    : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface XSearchSourceOptions {
  /** Source name for the cursor, `_ingest.source` and logs; default "x-search". */
  name?: string;
  client: XHttpClient;
  fields: XFieldSelection;
  query: string;
  cursorStore: CursorStore;
  /** Time between poll starts while the rate limit allows; default 15 s. */
  pollIntervalMs?: number;
  /** With no saved cursor, the first poll starts this far back; default 5 min. */
  firstPollLookbackMs?: number;
  maxResults?: number;
  logger?: Logger;
  counters?: SourceCounters;
  backoffPolicy?: XReconnectSchedules;
  sleep?: Sleep;
  now?: () => number;
}

interface Poll {
  window: SearchWindow;
  nextToken: string | undefined;
  /** newest_id of the first page. */
  newestId: string | undefined;
  pages: number;
}

export class XSearchSource implements Source {
  readonly name: string;
  readonly counters: SourceCounters;
  readonly #opts: XSearchSourceOptions;
  readonly #search: RecentSearch;
  readonly #tracker: CursorTracker;
  readonly #logger: Logger;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  #sinceId: string | undefined;
  #poll: Poll | undefined;
  #lastPollAt: number | undefined;
  #state: SourceState = { state: 'connecting', reconnects: 0 };

  constructor(opts: XSearchSourceOptions) {
    this.#opts = opts;
    this.name = opts.name ?? 'x-search';
    this.counters = opts.counters ?? newSourceCounters();
    this.#logger = (opts.logger ?? silentLogger).child({ source: this.name });
    this.#sleep = opts.sleep ?? sleep;
    this.#now = opts.now ?? Date.now;
    this.#tracker = new CursorTracker(opts.cursorStore, this.name);
    this.#search = new RecentSearch({
      client: opts.client,
      fields: opts.fields,
      logger: this.#logger,
      sleep: this.#sleep,
      now: this.#now,
      onWait: (until, reason, afterError) => {
        if (afterError) this.counters.reconnects += 1;
        const reconnects = this.#state.reconnects + (afterError ? 1 : 0);
        this.#state = { state: 'backing-off', until, reason, reconnects };
      },
      ...(opts.maxResults === undefined ? {} : { maxResults: opts.maxResults }),
      ...(opts.backoffPolicy === undefined ? {} : { backoffPolicy: opts.backoffPolicy }),
    });
  }

  async connect(_signal: AbortSignal): Promise<void> {
    this.#sinceId = this.#tracker.saved;
    this.#logger.info({ sinceId: this.#sinceId, query: this.#opts.query }, 'polling X recent search');
  }

  async read(signal: AbortSignal): Promise<SourceBatch> {
    for (;;) {
      if (this.#state.state === 'stopped')
        throw new TweetpipeError('ABORTED', `source ${this.name} is closed`);
      signal.throwIfAborted();
      const poll = this.#poll ?? (await this.#startPoll(signal));
      let page: SearchPage;
      try {
        page = await this.#search.page(poll.window, poll.nextToken, signal);
      } catch (err) {
        if (!signal.aborted)
          this.#state = {
            state: 'stopped',
            reason: (err as Error).message,
            reconnects: this.#state.reconnects,
          };
        throw err;
      }
      this.#state = { state: 'connected', reconnects: this.#state.reconnects };
      if (poll.pages === 0) poll.newestId = page.newestId;
      poll.pages += 1;
      poll.nextToken = page.nextToken;
      const lastPage = page.nextToken === undefined;
      if (lastPage) {
        this.#poll = undefined;
        if (poll.newestId !== undefined) this.#sinceId = poll.newestId;
      }

      const mapped = toTweetRecords(page.body, { source: this.name, ingestedAtMs: this.#now() });
      for (const p of mapped.errors)
        this.#logger.warn({ problem: p }, `X reported an error on a search page: ${problemText(p)}`);
      this.counters.xProblems += mapped.errors.length;
      this.counters.deadLetters += mapped.deadLetters.length;
      const tweets = mapped.records;
      this.counters.tweets += tweets.length;
      const cursorId = lastPage ? poll.newestId : undefined;
      if (tweets.length === 0 && mapped.deadLetters.length === 0) {
        if (cursorId !== undefined) await this.#tracker.complete(cursorId);
        continue;
      }
      return { tweets, deadLetters: mapped.deadLetters, ack: this.#tracker.begin(cursorId) };
    }
  }

  async #startPoll(signal: AbortSignal): Promise<Poll> {
    if (this.#lastPollAt !== undefined) {
      const waitMs =
        this.#lastPollAt + (this.#opts.pollIntervalMs ?? X_API_DEFAULTS.searchPollIntervalMs) - this.#now();
      if (waitMs > 0) await this.#sleep(waitMs, signal);
    }
    this.#lastPollAt = this.#now();
    const window: SearchWindow =
      this.#sinceId === undefined
        ? {
            query: this.#opts.query,
            startTimeMs: this.#now() - (this.#opts.firstPollLookbackMs ?? X_API_DEFAULTS.firstPollLookbackMs),
          }
        : { query: this.#opts.query, sinceId: this.#sinceId };
    this.#poll = { window, nextToken: undefined, newestId: undefined, pages: 0 };
    return this.#poll;
  }

  async close(): Promise<void> {
    this.#state = { state: 'stopped', reconnects: this.#state.reconnects };
  }

  state(): SourceState {
    return { ...this.#state };
  }
}
