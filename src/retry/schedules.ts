/**
 * The retry schedules of the pipeline, as data (see backoff.ts for what the fields mean).
 */
import type { Schedule } from './backoff.ts';

/** The failure classes X's reconnect rules tell apart. */
export type XFailureKind = 'network' | 'http' | 'rate-limit';

/**
 * X's documented reconnect policy for the filtered stream (X may throttle or ban clients that reconnect too
 * eagerly), without jitter:
 * - network errors (TCP/IP level, including stalls): linear, +250 ms per attempt, up to 16 s;
 * - HTTP errors: exponential from 5 s, doubling, up to 320 s;
 * - HTTP 429: exponential from 60 s, doubling, capped at 15 min.
 */
export type XReconnectSchedules = Readonly<Record<XFailureKind, Schedule>>;

export const X_RECONNECT: XReconnectSchedules = {
  network: { growth: 'linear', firstMs: 250, maxMs: 16_000, jitter: 'none' },
  http: { growth: 'exponential', firstMs: 5_000, maxMs: 320_000, jitter: 'none' },
  'rate-limit': { growth: 'exponential', firstMs: 60_000, maxMs: 15 * 60_000, jitter: 'none' },
};

/**
 * The hops where giving up would lose data (Kafka sends, HDFS commits, dead letters): retried until they work,
 * from 200 ms up to 10 s, spread so that the retries of many batches do not hit the broker together.
 */
export const UNTIL_IT_WORKS: Schedule = {
  growth: 'exponential',
  firstMs: 200,
  maxMs: 10_000,
  jitter: 'spread',
};

/**
 * Kafka set-up before anything flows (topics ensured, the dedup window seeded from the topic's end): as
 * UNTIL_IT_WORKS, capped at 5 s, so a start waiting for a broker notices it soon after it is back.
 */
export const KAFKA_SETUP: Schedule = { ...UNTIL_IT_WORKS, maxMs: 5_000 };

/**
 * One WebHDFS call: exponential from 200 ms up to 10 s with equal jitter, so that many sinks retrying after a
 * NameNode hiccup do not return in lockstep and a retry never comes back immediately.
 */
export const WEBHDFS_CALL: Schedule = { growth: 'exponential', firstMs: 200, maxMs: 10_000, jitter: 'equal' };

/**
 * Between two sink resets: 500 ms doubling, capped at 5 s: after a long outage (a NameNode gone for a minute) the
 * sink must be writing again within 10 s of the cluster's return, and a reset (rejoin, recovery from HDFS, first
 * commit) takes a few seconds.
 */
export const SINK_RESET: Schedule = { growth: 'exponential', firstMs: 500, maxMs: 5_000, jitter: 'none' };

/** Registering partitions in the Hive Metastore: 500 ms doubling up to 30 s; the sink writes on meanwhile. */
export const HIVE_REGISTER: Schedule = { growth: 'exponential', firstMs: 500, maxMs: 30_000, jitter: 'none' };
