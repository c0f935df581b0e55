/**
 * Retry-until-it-works for the hops where giving up would lose data (Kafka sends, HDFS commits): retryable errors
 * back off on a schedule and are reported; anything else is thrown to the caller.
 */
import { type TweetpipeError, toTweetpipeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { delayFor, type Schedule, sleep } from './backoff.ts';
import { UNTIL_IT_WORKS } from './schedules.ts';

export interface RetryOptions {
  what: string;
  log: Logger;
  /** Called on every failed attempt (metrics, dashboard state). */
  onError?: (err: TweetpipeError, attempt: number, delayMs: number) => void;
  schedule?: Schedule;
  /** When aborted, stop retrying and throw the last error. */
  signal?: AbortSignal;
}

export async function retryForever<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const schedule = opts.schedule ?? UNTIL_IT_WORKS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (raw) {
      const err = toTweetpipeError(raw);
      if (!err.retryable || opts.signal?.aborted) throw err;
      const delay = delayFor(schedule, attempt);
      opts.onError?.(err, attempt, delay);
      opts.log.warn(
        { err, attempt, retryInMs: Math.round(delay) },
        `${opts.what} failed (attempt ${attempt}); retrying in ${(delay / 1000).toFixed(1)} s`,
      );
      await sleep(delay);
    }
  }
}
