/**
 * Every wait between two attempts in tweetpipe comes from here: a schedule is data (how the delay grows, where it
 * starts, where it stops, how it is jittered), `delayFor` turns it into the delay before one attempt, and
 * `ReconnectBackoff` counts consecutive failures per kind of failure. The schedules themselves are in
 * schedules.ts, so a reader finds every retry policy of the pipeline on one page.
 */
import { setTimeout as delay } from 'node:timers/promises';

/**
 * How the delays randomise, so that many clients failing together do not all return together:
 * - `none`: the delay as the schedule says (X's reconnect rules are exact);
 * - `equal`: half the step fixed, half random, never less than half the step;
 * - `spread`: the step times a factor drawn from [0.8, 1.2).
 */
export type Jitter = 'none' | 'equal' | 'spread';

export interface Schedule {
  /** linear: attempt n waits n * firstMs; exponential: firstMs * 2^(n-1). */
  growth: 'linear' | 'exponential';
  /** The delay before the first retry. */
  firstMs: number;
  /** No delay (before jitter) exceeds this. */
  maxMs: number;
  jitter: Jitter;
}

/** The delay before retry number `attempt` (1 = the first retry); `random` returns [0, 1). */
export function delayFor(schedule: Schedule, attempt: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  // Capping the exponent keeps 2 ** n finite however long an outage lasts.
  const grown =
    schedule.growth === 'linear' ? schedule.firstMs * n : schedule.firstMs * 2 ** Math.min(n - 1, 40);
  const step = Math.min(grown, schedule.maxMs);
  switch (schedule.jitter) {
    case 'none':
      return step;
    case 'equal':
      return Math.round(step / 2 + random() * (step / 2));
    case 'spread':
      return step * (0.8 + random() * 0.4);
  }
}

/**
 * Counts consecutive failures per kind, each kind on its own schedule (X: a 429 after network errors starts at
 * 60 s, not at "attempt 5"); `reset` once an attempt succeeded (a connection delivered data).
 */
export class ReconnectBackoff<Kind extends string> {
  readonly #schedules: Readonly<Record<Kind, Schedule>>;
  readonly #attempts = new Map<Kind, number>();

  constructor(schedules: Readonly<Record<Kind, Schedule>>) {
    this.#schedules = schedules;
  }

  /** Registers one more failure of this kind and returns how long to wait before the next attempt. */
  next(kind: Kind): number {
    const attempt = this.attempts(kind) + 1;
    this.#attempts.set(kind, attempt);
    return delayFor(this.#schedules[kind], attempt);
  }

  attempts(kind: Kind): number {
    return this.#attempts.get(kind) ?? 0;
  }

  reset(): void {
    this.#attempts.clear();
  }
}

/** Waits `ms`; rejects with an AbortError as soon as `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;
