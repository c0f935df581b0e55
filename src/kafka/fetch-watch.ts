/**
 * Notices a consumer whose fetching stopped without an error. A healthy consumer that owns partitions and is not
 * paused gets a Fetch response at least every fetch.max.wait (the broker answers an empty long poll then), and a
 * request that hangs fails at the request timeout. Silence for much longer than both, with nothing to explain it
 * (no assignment, paused on a full buffer; the caller restarts the clock when a rebalance starts and ends), means the client's fetch loop died: a lost
 * callback or a loop that returned without scheduling its next turn (@platformatic/kafka's MessagesStream has such
 * paths; it drops a fetch it has waited on for 120 s). Nothing would say so: no record, no error, lag growing. The
 * watch turns it into an error the sink resets on, logs and counts.
 *
 * Pure bookkeeping on a clock the caller passes, so its logic is tested without a broker.
 */

export interface FetchActivity {
  /** The member owns partitions of the topic (no fetch is expected without). */
  assigned: boolean;
  /** Fetching is paused on purpose (a full buffer). */
  paused: boolean;
}

export class FetchWatch {
  readonly stallMs: number;
  /** The last sign of life: a Fetch response or error, the start, a rebalance, a resume, or a moment nothing was due. */
  #aliveAt: number;

  constructor(stallMs: number, now: number) {
    this.stallMs = stallMs;
    this.#aliveAt = now;
  }

  /** A fetch answered (or failed), or fetching (re)started: the clock restarts. */
  alive(now: number): void {
    this.#aliveAt = now;
  }

  /** How long fetching has been silent when that is a stall (at least stallMs), else undefined. */
  stalledFor(now: number, activity: FetchActivity): number | undefined {
    if (!activity.assigned || activity.paused) {
      this.#aliveAt = now;
      return undefined;
    }
    const silent = now - this.#aliveAt;
    return silent >= this.stallMs ? silent : undefined;
  }
}
