/** Tuning of the sources without the X API: replay (src/sources/replay.ts), synthetic (src/sources/synthetic.ts). */

/** The replay source: NDJSON files of X payloads. */
export const REPLAY_DEFAULTS = {
  /** read() hands out at most this many tweets. */
  batchMaxTweets: 1000,
  /** Bytes read from a file (and out of gunzip) at a time. */
  chunkBytes: 1024 * 1024,
} as const;

/** The synthetic source: generated tweets, on worker threads. */
export const SYNTHETIC_DEFAULTS = {
  /** Tweets a batch (a stream segment one thread generates). */
  batchSize: 1000,
  /** Batches each worker generates ahead of read(). */
  prefetchBatches: 3,
} as const;
