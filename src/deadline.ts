/** Waiting for work that may not end in time (a shutdown's commits, leaving a consumer group). */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * True when `work` fulfils within `ms`, false when the time runs out first (the work goes on unobserved: give it
 * its own error handling). Rejects when the work rejects in time.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      work.then(() => true),
      sleep(ms, false, { signal: timer.signal }).catch(() => false),
    ]);
  } finally {
    timer.abort();
  }
}
