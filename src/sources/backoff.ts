/**
 * X's documented reconnect policy for the filtered stream, as pure functions plus a small stateful counter.
 * The three failure classes back off differently (X may throttle or ban clients that reconnect too eagerly):
 * - network errors (TCP/IP level, including stalls): linear, +250 ms per attempt, up to 16 s;
 * - HTTP errors: exponential from 5 s, doubling, up to 320 s;
 * - HTTP 429: exponential from 60 s, doubling, capped at 15 min.
 * The policy is a value so tests can shrink it to milliseconds.
 */
import { setTimeout as delay } from 'node:timers/promises';

export type BackoffKind = 'network' | 'http' | 'rate-limit';

export interface BackoffPolicy {
  network: { stepMs: number; maxMs: number };
  http: { initialMs: number; maxMs: number };
  rateLimit: { initialMs: number; maxMs: number };
}

export const X_RECONNECT_POLICY: BackoffPolicy = {
  network: { stepMs: 250, maxMs: 16_000 },
  http: { initialMs: 5_000, maxMs: 320_000 },
  rateLimit: { initialMs: 60_000, maxMs: 15 * 60_000 },
};

/** Delay before reconnect attempt number `attempt` (1 = first retry) of the given kind. */
export function backoffDelay(
  kind: BackoffKind,
  attempt: number,
  policy: BackoffPolicy = X_RECONNECT_POLICY,
): number {
  const n = Math.max(1, Math.floor(attempt));
  switch (kind) {
    case 'network':
      return Math.min(policy.network.stepMs * n, policy.network.maxMs);
    case 'http':
      return exponential(policy.http.initialMs, n, policy.http.maxMs);
    case 'rate-limit':
      return exponential(policy.rateLimit.initialMs, n, policy.rateLimit.maxMs);
  }
}

function exponential(initialMs: number, attempt: number, maxMs: number): number {
  // Capping the exponent keeps 2 ** n finite however long an outage lasts.
  return Math.min(initialMs * 2 ** Math.min(attempt - 1, 40), maxMs);
}

/**
 * Counts consecutive failures per kind. Each kind keeps its own schedule (a 429 after network errors starts at
 * 60 s, not at "attempt 5"); all reset once a connection has delivered data.
 */
export class ReconnectBackoff {
  readonly #policy: BackoffPolicy;
  readonly #attempts: Record<BackoffKind, number> = { network: 0, http: 0, 'rate-limit': 0 };

  constructor(policy: BackoffPolicy = X_RECONNECT_POLICY) {
    this.#policy = policy;
  }

  /** Registers one more failure of this kind and returns how long to wait before the next attempt. */
  next(kind: BackoffKind): number {
    this.#attempts[kind] += 1;
    return backoffDelay(kind, this.#attempts[kind], this.#policy);
  }

  attempts(kind: BackoffKind): number {
    return this.#attempts[kind];
  }

  reset(): void {
    this.#attempts.network = 0;
    this.#attempts.http = 0;
    this.#attempts['rate-limit'] = 0;
  }
}

/** Waits `ms`; rejects with an AbortError as soon as `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;
