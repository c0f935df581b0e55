/**
 * The X API sources (`x.*`): endpoint, credentials, rules, the fields asked for, polling and stall detection; and
 * the filtered stream's tuning that no setting exposes.
 */
import { z } from 'zod';
import { int, list, num, url } from './setting-types.ts';

const ruleSchema = z.strictObject({
  value: z.string().min(1),
  tag: z.string().min(1),
});

export const xSettings = z
  .strictObject({
    apiUrl: url().default('https://api.x.com'),
    bearerToken: z.string().min(1).optional(),
    rules: z.array(ruleSchema).default([{ value: 'music lang:en -is:retweet', tag: 'music' }]),
    /**
     * Which of the stream's server rules tweetpipe manages: `owned` only those it created (ids in stateDir),
     * `exact` all of them (rules not declared are deleted), `add-only` it adds declared rules and deletes none.
     */
    rulesMode: z.enum(['owned', 'exact', 'add-only']).default('owned'),
    query: z.string().min(1).default('music lang:en -is:retweet'),
    /** X API era (`auto`: per endpoint, from the server's /2/openapi.json or its first 400). */
    apiEra: z.enum(['auto', '2.159', '2.167']).default('auto'),
    /** Post fields; absent: the era's defaults (src/sources/x-api/selection.ts). */
    tweetFields: list(z.string()).optional(),
    userFields: list(z.string()).default([
      'username',
      'name',
      'verified',
      'public_metrics',
      'created_at',
      'location',
    ]),
    /** Absent: the era's defaults, like tweetFields. */
    expansions: list(z.string()).optional(),
    mediaFields: list(z.string()).default(['type', 'url', 'width', 'height', 'duration_ms']),
    placeFields: list(z.string()).default(['full_name', 'country_code', 'place_type', 'geo']),
    /** Seconds between recent-search polls when the rate limit allows. */
    pollIntervalS: num(1).default(15),
    /** Silence on the stream (no tweet, no heartbeat) that means the connection is dead. */
    stallTimeoutS: num(1).default(30),
    /**
     * Outages up to this many minutes are refilled by the stream itself (`backfill_minutes`, 1-5, on X plans
     * that have it); 0 fills every gap with recent search.
     */
    backfillMinutes: int(0, 5).default(0),
  })
  .prefault({});

/** The filtered stream source (src/sources/x-stream.ts); the commands set stallTimeoutMs from x.stallTimeoutS. */
export const X_STREAM_DEFAULTS = {
  /** No byte for this long means the connection is dead (X sends a heartbeat every 20 s). */
  stallTimeoutMs: 30_000,
  /** read() hands out at most this many tweets, after waiting at most the linger for more. */
  batchMaxTweets: 500,
  batchLingerMs: 50,
  /** Above this many queued tweets the stream is not read until read() catches up. */
  maxBufferedTweets: 10_000,
  /** How long after reconnecting the gap search runs: recent search returns only tweets older than ~30 s. */
  backfillDelayMs: 35_000,
} as const;

/** The X HTTP client and recent search (src/sources/x-http.ts, x-search.ts); the commands set the poll interval from x.pollIntervalS. */
export const X_API_DEFAULTS = {
  requestTimeoutMs: 30_000,
  /** X's reset header has second granularity and our clock may be ahead of X's: wait this much past it. */
  rateLimitResetMarginMs: 1_000,
  /** Posts per recent-search page (10..100): the most, for the fewest requests per tweet. */
  searchMaxResults: 100,
  /** Time between poll starts while the rate limit allows. */
  searchPollIntervalMs: 15_000,
  /** With no saved cursor, the first poll starts this far back. */
  firstPollLookbackMs: 5 * 60_000,
} as const;
