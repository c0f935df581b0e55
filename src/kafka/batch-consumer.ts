/**
 * A consumer-group member that hands out records in batches, pulls only as fast as they are processed (the stream is
 * paused while the buffer is full: bounded memory when HDFS is slow or down), commits offsets only when told, and
 * reports each rebalance so the sink can drop writers of partitions it lost.
 *
 * It never hands out a record of a partition it does not own at that moment: the messages stream keeps delivering
 * what it fetched before a rebalance (its buffer, fetches in flight). A sink that wrote those would be a zombie
 * writer of a partition that now belongs to another member, starting at whatever offset the stream had reached
 * after the buffered records before it were dropped. Such a window starts past a gap, passes the manifest fencing,
 * and the real owner then resumes after it: the gap is lost (test/chaos/sink-rebalance.test.ts found this).
 */

import type { CallbackWithPromise, MessagesStream } from '@platformatic/kafka';
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes } from '@platformatic/kafka';
import { CONSUMER_DEFAULTS } from '../config/kafka.ts';
import { settlesWithin } from '../deadline.ts';
import { TweetpipeError } from '../errors.ts';
import { LIBZSTD_LIBRARY, libzstdDecompressInto } from '../libzstd.ts';
import type { Logger } from '../log.ts';
import type { KafkaRecord, TopicPartition } from '../types.ts';
import type { KafkaConnection } from './client-options.ts';
import { FetchWatch } from './fetch-watch.ts';
import {
  FetchedBuffer,
  type FetchedPartition,
  type FetchResponse,
  requestedOffsets,
  takeFetchedRecords,
} from './fetched-records.ts';
import { kafkaError, type NeededPermissions } from './kafka-errors.ts';
import { useRawRecordBatches } from './record-batch-fetch.ts';

export interface BatchConsumerOptions {
  groupId: string;
  topic: string;
  log: Logger;
  /** Buffered records above which fetching pauses. */
  maxBuffered?: number;
  /**
   * Buffered bytes (of the fetched batches as fetched, compressed: each is decompressed as its records are handed
   * out) above which fetching pauses: a count alone lets large records (or a burst of them) take memory without
   * bound. The fetch that crosses it is kept whole (at most fetchMaxBytes).
   */
  maxBufferedBytes?: number;
  sessionTimeoutMs?: number;
  /** How long close() may wait for the group to let this member leave. */
  closeDeadlineMs?: number;
  /**
   * Owning partitions and not paused, with no Fetch response for this long: the fetch loop is dead (fetch-watch.ts),
   * and next() fails so that the sink starts a new consumer. Default: twice the session timeout (which is also the
   * rebalance timeout), at least a minute (twice the request timeout).
   */
  fetchStallMs?: number;
}

/** Whether this process said yet how it decompresses zstd batches (once, not once per consumer). */
let zstdEngineAnnounced = false;

function announceZstdEngine(log: Logger): void {
  if (zstdEngineAnnounced) return;
  zstdEngineAnnounced = true;
  if (libzstdDecompressInto())
    log.info({ library: LIBZSTD_LIBRARY }, 'zstd batches decompress with libzstd into reused buffers');
  else
    log.warn(
      { library: LIBZSTD_LIBRARY },
      'libzstd could not be loaded (Debian/Ubuntu package libzstd1): zstd batches decompress through node:zlib into new buffers, about 6 us more CPU per tweet',
    );
}

/** ListOffsets' timestamp for "the log start offset" (Kafka's protocol constant). */
const EARLIEST = -2n;

export interface PartitionLag {
  /** The group's committed offset (the next to read), or -1 when it never committed. */
  committed: bigint;
  /** The log end offset (the next offset a producer will write). */
  end: bigint;
  lag: bigint;
}

export class BatchConsumer {
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** Fetched batches not yet handed out; their records are decoded only then (fetched-records.ts says why). */
  private readonly buffer: FetchedBuffer;
  private readonly leaderEpochs = new Map<number, number>();
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private closing = false;
  private readonly maxBuffered: number;
  private readonly maxBufferedBytes: number;
  private rebalanceListener: ((assigned: TopicPartition[]) => void) | undefined;
  /** Partitions of the latest group join: records of any other partition are dropped. */
  private owned = new Set<number>();
  private readonly opts: BatchConsumerOptions;
  private readonly closeDeadlineMs: number;
  private readonly fetchWatch: FetchWatch;
  private fetchWatchTimer: NodeJS.Timeout | undefined;

  constructor(conn: KafkaConnection, opts: BatchConsumerOptions) {
    this.opts = opts;
    this.buffer = new FetchedBuffer(opts.topic);
    this.maxBuffered = opts.maxBuffered ?? CONSUMER_DEFAULTS.maxBuffered;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? CONSUMER_DEFAULTS.maxBufferedBytes;
    this.closeDeadlineMs = opts.closeDeadlineMs ?? CONSUMER_DEFAULTS.closeDeadlineMs;
    const sessionTimeout = opts.sessionTimeoutMs ?? CONSUMER_DEFAULTS.sessionTimeoutMs;
    this.fetchWatch = new FetchWatch(
      opts.fetchStallMs ?? Math.max(CONSUMER_DEFAULTS.minFetchStallMs, 2 * sessionTimeout),
      performance.now(),
    );
    this.consumer = new Consumer({
      ...conn,
      groupId: opts.groupId,
      sessionTimeout,
      heartbeatInterval: Math.min(CONSUMER_DEFAULTS.maxHeartbeatIntervalMs, Math.floor(sessionTimeout / 3)),
      rebalanceTimeout: sessionTimeout,
      timeout: CONSUMER_DEFAULTS.requestTimeoutMs,
      retries: CONSUMER_DEFAULTS.retries,
      retryDelay: CONSUMER_DEFAULTS.retryDelayMs,
    });
    useRawRecordBatches(this.consumer);
    this.takeRecordsFromFetches();
    // The client emits 'error' when rejoining the group after a rebalance failed; an EventEmitter throws an
    // 'error' nobody listens to, which took a whole sink worker down when close() cut the connections under a
    // pending rejoin. While open, the member is then out of its group: the consumer fails (next() throws) and the
    // sink starts a new one, as after a stalled fetch. While closing, the connections were cut on purpose.
    this.consumer.on('error', (err: Error) => {
      if (this.closing || this.failure) return;
      this.failure = kafkaError(`rejoining consumer group ${this.opts.groupId}`, err, this.needs());
      this.opts.log.error({ err: this.failure }, 'rejoining the consumer group failed');
      this.wake?.();
    });
    // A rebalance may hold fetching up to its timeout (the session timeout here): the watch's clock starts over
    // when one starts and when it ends.
    this.consumer.on('consumer:group:rebalance', () => this.fetchWatch.alive(performance.now()));
    this.consumer.on('consumer:group:join', () => {
      this.fetchWatch.alive(performance.now());
      const assigned = this.assignments();
      this.opts.log.info({ assignments: assigned }, 'consumer group joined');
      this.owned = new Set(assigned.map((tp) => tp.partition));
      this.buffer.keepOnly(this.owned);
      this.rebalanceListener?.(assigned);
    });
  }

  /** Called after every (re)join with the partitions this member now owns. */
  onRebalance(listener: (assigned: TopicPartition[]) => void): void {
    this.rebalanceListener = listener;
  }

  /** What consuming needs beyond a connection: READ on the topic and on the group. */
  private readonly needs = (): NeededPermissions => ({
    TOPIC_AUTHORIZATION_FAILED: { operation: 'READ', resource: `topic ${this.opts.topic}` },
    GROUP_AUTHORIZATION_FAILED: { operation: 'READ', resource: `group ${this.opts.groupId}` },
  });

  async start(): Promise<void> {
    announceZstdEngine(this.opts.log);
    const stream = await this.consumer
      .consume({
        topics: [this.opts.topic],
        // Resume from the group's committed offsets: they never pass what HDFS holds (they are committed after it),
        // and the writers skip what a manifest says is already there.
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        autocommit: false,
        maxWaitTime: CONSUMER_DEFAULTS.fetchMaxWaitMs,
        maxBytes: CONSUMER_DEFAULTS.fetchMaxBytes,
        maxBytesPerPartition: CONSUMER_DEFAULTS.fetchMaxBytesPerPartition,
        highWaterMark: CONSUMER_DEFAULTS.streamHighWaterMark,
      })
      .catch((err: unknown) => {
        throw kafkaError(
          `joining consumer group ${this.opts.groupId} on topic ${this.opts.topic}`,
          err,
          this.needs(),
        );
      });
    this.stream = stream;
    // The stream pushes no message (takeRecordsFromFetches empties the batches first), but it fetches only while
    // it flows, which a 'data' listener starts.
    stream.on('data', () => {});
    stream.on('error', (err: Error) => {
      this.failure = kafkaError(
        `consuming ${this.opts.topic} in group ${this.opts.groupId}`,
        err,
        this.needs(),
      );
      this.wake?.();
    });
    this.fetchWatch.alive(performance.now());
    this.fetchWatchTimer = setInterval(() => this.checkFetching(), CONSUMER_DEFAULTS.fetchWatchEveryMs);
    this.fetchWatchTimer.unref();
  }

  /** Fails the consumer (next() throws, the sink starts a new one) when its fetching went silent (fetch-watch.ts). */
  private checkFetching(): void {
    if (this.failure) return;
    const partitions = this.assignments().map((tp) => tp.partition);
    const silentMs = this.fetchWatch.stalledFor(performance.now(), {
      assigned: partitions.length > 0,
      paused: this.stream?.isPaused() ?? true,
    });
    if (silentMs === undefined) return;
    this.failure = new TweetpipeError(
      'KAFKA_FETCH_STALLED',
      `no Fetch response for ${Math.round(silentMs / 1000)} s on partitions ${partitions.join(', ')} of ${this.opts.topic} ` +
        `(group ${this.opts.groupId}), though this member owns them and is not paused: the Kafka ` +
        `client's fetching stopped without an error; starting a new consumer`,
      { retryable: true, details: { partitions, silentMs: Math.round(silentMs) } },
    );
    this.opts.log.error({ err: this.failure }, 'consumer fetching stalled');
    this.wake?.();
  }

  /**
   * Wraps the client's fetch so that each response's batches land in the buffer (their records decoded by
   * record-batch-records.ts as next() hands them out), and the stream, which still reads the batch headers for its
   * offsets, pushes no per-message object (fetched-records.ts says why). Fetching pauses once the buffer is full, as the stream would under backpressure.
   */
  private takeRecordsFromFetches(): void {
    const consumer = this.consumer;
    const fetch = consumer.fetch.bind(consumer) as (
      options: Parameters<typeof consumer.fetch>[0],
      callback?: CallbackWithPromise<FetchResponse>,
    ) => Promise<FetchResponse> | undefined;
    consumer.fetch = ((options, callback?: CallbackWithPromise<FetchResponse>) => {
      // Only the stream fetches, always with a callback; a promise-style call is left as it was.
      if (!callback) return fetch(options);
      const requested = requestedOffsets(options.topics);
      return fetch(options, (error, response) => {
        this.fetchWatch.alive(performance.now());
        if (!error && response) this.accept(takeFetchedRecords(response, requested));
        callback(error, response);
      });
    }) as typeof consumer.fetch;
  }

  private accept(fetched: FetchedPartition[]): void {
    if (fetched.length === 0) return;
    for (const { partition, leaderEpoch, batches } of fetched) {
      // Fetched before the latest rebalance moved the partition away.
      if (!this.owned.has(partition)) continue;
      this.leaderEpochs.set(partition, leaderEpoch);
      for (const b of batches) this.buffer.push(b);
    }
    if (this.buffer.records >= this.maxBuffered || this.buffer.bytes >= this.maxBufferedBytes)
      this.stream?.pause();
    this.wake?.();
  }

  assignments(): TopicPartition[] {
    return (this.consumer.assignments ?? []).flatMap((a) =>
      a.partitions.map((partition) => ({ topic: a.topic, partition })),
    );
  }

  /** Up to `max` records; waits at most `waitMs` for the first one. */
  async next(max: number, waitMs: number): Promise<KafkaRecord[]> {
    if (this.failure) throw this.failure;
    if (this.buffer.records === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      if (this.failure) throw this.failure;
    }
    const out = this.buffer.take(max);
    if (
      this.stream?.isPaused() &&
      this.buffer.records < this.maxBuffered / 2 &&
      this.buffer.bytes < this.maxBufferedBytes / 2
    ) {
      this.fetchWatch.alive(performance.now());
      this.stream.resume();
    }
    return out;
  }

  /** Commits the next offsets to read, per partition. Best effort: Kafka's offsets serve lag monitoring. */
  async commit(offsets: Map<number, bigint>): Promise<void> {
    if (offsets.size === 0) return;
    try {
      await this.consumer.commit({
        offsets: [...offsets].map(([partition, offset]) => ({
          topic: this.opts.topic,
          partition,
          offset,
          leaderEpoch: this.leaderEpochs.get(partition) ?? -1,
        })),
      });
    } catch (err) {
      this.opts.log.warn(
        { err },
        'committing offsets to Kafka failed (HDFS holds the data; the next commit catches up)',
      );
    }
  }

  /**
   * Per partition of the topic (all of them, not only this member's): the group's committed offset as the broker
   * holds it, the log end offset, and the records between them. A partition the group never committed counts from
   * its log start, so an empty partition (or one whose records all expired) has no lag.
   */
  async lag(): Promise<Map<number, PartitionLag>> {
    const topic = this.opts.topic;
    const [ends, starts] = await Promise.all([
      this.consumer.listOffsets({ topics: [topic] }),
      this.consumer.listOffsets({ topics: [topic], timestamp: EARLIEST }),
    ]);
    const end = ends.get(topic) ?? [];
    const committed =
      (
        await this.consumer.listCommittedOffsets({
          topics: [{ topic, partitions: end.map((_, partition) => partition) }],
        })
      ).get(topic) ?? [];
    const start = starts.get(topic) ?? [];
    return new Map(
      end.map((e, partition) => {
        const c = committed[partition] ?? -1n;
        const from = c >= 0n ? c : (start[partition] ?? 0n);
        return [partition, { committed: c, end: e, lag: e > from ? e - from : 0n }];
      }),
    );
  }

  /**
   * Leaves the group and closes the connections, in at most `closeDeadlineMs`. Leaving is a request on the
   * coordinator connection, where the broker answers in order: during a rebalance it queues behind this member's
   * pending JoinGroup, which the broker holds until every member rejoined or the rebalance timed out. A sink told to
   * stop (or resetting) then sat ~30 s in close. Past the deadline the connections are closed instead: the broker
   * drops the member after its session timeout, as it would after a crash, and the committed offsets and HDFS
   * manifests make that safe.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.fetchWatchTimer);
    const leave = (async () => {
      await this.stream?.close().catch(() => {});
      await this.consumer.close(true).catch(() => {});
    })();
    if (await settlesWithin(leave, this.closeDeadlineMs)) return;
    this.opts.log.warn(
      { deadlineMs: this.closeDeadlineMs },
      'leaving the consumer group did not finish in time (a rebalance holds it): closing the connections; the broker drops this member after its session timeout',
    );
    await this.consumer.connections.close().catch(() => {});
  }
}
