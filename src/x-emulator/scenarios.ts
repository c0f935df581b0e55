/**
 * The failure modes the X API emulator can inject, named after what X does to clients in production, so that the
 * stream and search sources are tested against each of them over real HTTP.
 */
import { TweetpipeError } from '../errors.ts';

export const SCENARIOS = [
  /** End stream connections every `disconnectEveryMs`. */
  'disconnect-storm',
  /** Cut the socket in the middle of a JSON line. */
  'mid-tweet-disconnect',
  /** Write X's operational-disconnect error object, then end the stream. */
  'operational-disconnect',
  /** Answer 429 to every `rateLimitEvery`-th stream connect and search request. */
  'rate-limit',
  /** On a reconnect, first re-send the last `duplicateCount` tweets already delivered. */
  'duplicates-after-reconnect',
  /** Standalone `{"errors":[...]}` lines, and tweet lines with `errors` beside `data`. */
  'errors-in-stream',
  /** A line that is not JSON, and a tweet payload without an id. */
  'malformed',
  /** Send nothing, not even heartbeats, for `stallMs`. */
  'stall',
  /** Answer every request with X's 403 client-not-enrolled problem. */
  'client-not-enrolled',
] as const;

export type ScenarioName = (typeof SCENARIOS)[number];

/** Faults injected on a stream after every `everyLines` delivered tweets, taking turns when several are on. */
export const LINE_FAULTS: readonly ScenarioName[] = [
  'mid-tweet-disconnect',
  'operational-disconnect',
  'errors-in-stream',
  'malformed',
  'stall',
];

export interface ScenarioSettings {
  /** Tweets delivered on the stream between two line faults. */
  everyLines: number;
  disconnectEveryMs: number;
  rateLimitEvery: number;
  duplicateCount: number;
  /** Longer than X's 20 s heartbeat plus the 10 s grace clients allow, so a stall detector must fire. */
  stallMs: number;
}

export const DEFAULT_SCENARIO_SETTINGS: ScenarioSettings = {
  everyLines: 20,
  disconnectEveryMs: 3000,
  rateLimitEvery: 3,
  duplicateCount: 5,
  stallMs: 35_000,
};

/** Parses `a,b,c` (the CLI's --scenario), naming the unknown entry in the error. */
export function parseScenarios(list: string): ScenarioName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const name of names) {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new TweetpipeError('USAGE', `unknown scenario '${name}' (known: ${SCENARIOS.join(', ')})`);
    }
  }
  return names as ScenarioName[];
}
