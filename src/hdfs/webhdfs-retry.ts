/**
 * The retry schedule of the WebHDFS client: bounded attempts, exponential backoff with "equal jitter"
 * (half the step fixed, half random), so that many sinks retrying after a NameNode hiccup do not return in lockstep
 * and a retry never comes back immediately.
 */
export interface RetryPolicy {
  /** Total tries of one call, the first included. */
  attempts: number;
  /** Backoff before the second try; doubles each time. */
  baseMs: number;
  /** Upper bound of one backoff. */
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, capMs: 10_000 };

/** Delay before retry number `retry` (1 = the first retry); `random` returns [0, 1). */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** (retry - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** State of one client call across its attempts. */
export interface Attempt {
  number: number;
  /** An earlier attempt may have taken effect without us seeing the answer. */
  ambiguous: boolean;
  /** Set by an attempt that must not be repeated (its streaming body is consumed). */
  stop: boolean;
  /** The credentials were refused once and replaced; a second refusal is final. */
  reauthenticated: boolean;
}
