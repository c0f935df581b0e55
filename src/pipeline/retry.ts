/**
 * Retry-until-it-works for the hops where giving up would lose data (Kafka sends, HDFS commits): retryable errors
 * back off exponentially and are reported; anything else is thrown to the caller.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type TweetpipeError, toTweetpipeError } from '../errors.ts';
import type { Logger } from '../log.ts';

export interface RetryOptions {
  what: string;
  log: Logger;
  /** Called on every failed attempt (metrics, dashboard state). */
  onError?: (err: TweetpipeError, attempt: number, delayMs: number) => void;
  baseMs?: number;
  maxMs?: number;
  /** When aborted, stop retrying and throw the last error. */
  signal?: AbortSignal;
}

export async function retryForever<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const base = opts.baseMs ?? 200;
  const max = opts.maxMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (raw) {
      const err = toTweetpipeError(raw);
      if (!err.retryable || opts.signal?.aborted) throw err;
      const delay = Math.min(max, base * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
      opts.onError?.(err, attempt, delay);
      opts.log.warn(
        { err, attempt, retryInMs: Math.round(delay) },
        `${opts.what} failed (attempt ${attempt}); retrying in ${(delay / 1000).toFixed(1)} s`,
      );
      await sleep(delay);
    }
  }
}
