/**
 * How one WebHDFS call is tried: retryable errors only (webhdfs-errors.ts), a NameNode not yet tried in this call at
 * once, a full round after the backoff of WEBHDFS_CALL (src/retry/schedules.ts), and one try with new credentials
 * after an authentication refusal. It marks the call "ambiguous" once a request may have reached the server unseen,
 * which the non-idempotent operations of webhdfs.ts resolve.
 */
import type { TweetpipeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { delayFor } from '../retry/backoff.ts';
import { WEBHDFS_CALL } from '../retry/schedules.ts';
import { isConnectFailure, isRemoteAnswer, transportError } from './webhdfs-errors.ts';
import type { NamenodeFailover } from './webhdfs-namenodes.ts';
import type { Attempt } from './webhdfs-types.ts';

/** How often one WebHDFS call is tried; the delays follow WEBHDFS_CALL with these bounds. */
export interface RetryPolicy {
  /** Total tries of one call, the first included. */
  attempts: number;
  /** Backoff before the second try; doubles each time. */
  baseMs: number;
  /** Upper bound of one backoff. */
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseMs: WEBHDFS_CALL.firstMs,
  capMs: WEBHDFS_CALL.maxMs,
};

export interface CallRetrier {
  policy: RetryPolicy;
  namenodes: NamenodeFailover;
  /** After an authentication refusal: whether new credentials are worth one more try. */
  reauthenticate(err: TweetpipeError): Promise<boolean>;
  log: Logger;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export async function callWithRetries<T>(
  retrier: CallRetrier,
  op: string,
  path: string,
  attemptOnce: (attempt: Attempt) => Promise<T>,
): Promise<T> {
  const { policy, namenodes, log } = retrier;
  const attempt: Attempt = { number: 1, ambiguous: false, stop: false, reauthenticated: false };
  let untried = new Set(namenodes.urls.keys());
  for (;;) {
    const tried = namenodes.active;
    untried.delete(tried);
    try {
      return await attemptOnce(attempt);
    } catch (thrown) {
      const err = transportError(op, path, thrown);
      // A refusal is the server's answer (nothing was done): new credentials may be tried once at once.
      if (err.code === 'HDFS_AUTH' && !attempt.stop && !attempt.reauthenticated) {
        attempt.reauthenticated = true;
        if (await retrier.reauthenticate(err)) continue;
      }
      if (!err.retryable || attempt.stop || attempt.number >= policy.attempts) {
        err.details.attempts = attempt.number;
        throw err;
      }
      if (!isRemoteAnswer(err) && !isConnectFailure(err)) attempt.ambiguous = true;
      attempt.number++;
      if (namenodes.active !== tried && untried.has(namenodes.active)) {
        log.warn(
          { op, path, code: err.code, url: namenodes.activeUrl },
          'WebHDFS: trying the other NameNode',
        );
        continue;
      }
      const delay = delayFor(
        { ...WEBHDFS_CALL, firstMs: policy.baseMs, maxMs: policy.capMs },
        attempt.number - 1,
        retrier.random,
      );
      log.warn({ op, path, code: err.code, attempt: attempt.number, delay }, 'WebHDFS: retrying');
      await retrier.sleep(delay);
      untried = new Set(namenodes.urls.keys());
    }
  }
}
