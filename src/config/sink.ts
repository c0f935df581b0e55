/** The sink (`sink.*`): consumer group, output format, file rotation, partitioning, threads, and its Hive table. */
import { z } from 'zod';
import { bool, int, list, num } from './setting-types.ts';

/** Defaults the sink's own modules read too (the encoders take them when a caller gives none). */
export const SINK_DEFAULTS = {
  /**
   * gzip level of jsonl.gz. Measured on ~2 KB tweet records (synthetic X payloads through the record mapper), CPU
   * per record on zlib's thread pool: level 1 17 us (ratio 5.5), level 3 26 us (5.8), level 6 43 us (6.7); the event
   * loop's own per-record work (JSON validation, partitioning) does not depend on the level. On 2 cores only level 1
   * keeps compression (~58k records/s per core) ahead of the >= 50k tweets/s target; 6 would cap the sink near
   * 23k/s. Level 6 buys 20% smaller files for 2.5x the CPU: set sink.gzipLevel when disk matters more than CPU.
   */
  gzipLevel: 1,
  /**
   * Bytes a temp file's upload buffers before a chunk waits for the socket: about one chunk. With field partitions
   * every open file has its own upload (src/hdfs/webhdfs.ts), so this is paid per open file.
   */
  uploadBufferBytes: 1024 * 1024,
  /** Chunks in flight to HDFS per file before write() waits; with flushBytes this bounds memory. */
  maxFlushesInFlight: 2,
  /** sink.maxBufferedBytes: bytes a sink thread's open files hold in their encoders, shared by its partitions. */
  maxBufferedBytes: 32 * 1024 * 1024,
  /**
   * An upload that received nothing for this long is ended, so that no request outlives the WebHDFS client's
   * socket timeout while a quiet window waits for its age rotation; the next chunk appends.
   */
  uploadIdleMs: 10_000,
  /** Manifests kept per partition under _wal/ (2, the minimum: the latest and the one before it). */
  keepManifests: 2,
} as const;

/** The sink loop (src/pipeline/sink-loop.ts) and its threads. */
export const SINK_LOOP_DEFAULTS = {
  /** Records per poll, and how long a poll waits for the first. */
  pollMaxRecords: 5000,
  pollWaitMs: 200,
  /** How often the lag metric is read from Kafka. */
  lagMetricEveryMs: 5000,
  /** How often --exit-when-idle logs the lag it still waits for. */
  lagReportEveryMs: 10_000,
  /** How long shutdown may spend committing open windows before it drops them instead. */
  shutdownGraceMs: 30_000,
  /** Dead letters of each DLQ partition read back at the start, to skip what an earlier run already sent. */
  deadLetterTailPerPartition: 10_000,
  /** How often a sink thread's metric updates travel to the main thread (the progress line ticks every second). */
  metricsFlushMs: 250,
} as const;

/** `sink.hive.*`: the table over the output (`tweetpipe table ddl`), and its partitions registered in a Hive Metastore. */
const hiveSettings = z
  .strictObject({
    /** Register each committed partition in the metastore (and create the table when missing). */
    enabled: bool().default(false),
    metastoreUri: z
      .string()
      .regex(
        /^thrift:\/\/[^\s:/]+:\d{1,5}$/,
        'expected thrift://host:port, for example thrift://localhost:9083',
      )
      .default('thrift://localhost:9083'),
    database: z
      .string()
      .regex(/^[a-z0-9_]+$/, 'expected a Hive database name: lower-case letters, digits, _')
      .default('default'),
    /** Default: the topic name with every character other than letters, digits and _ made _. */
    table: z
      .string()
      .regex(/^[a-z0-9_]+$/, 'expected a Hive table name: lower-case letters, digits, _')
      .optional(),
    /** Deadline of each metastore call. */
    timeoutMs: int(100).default(10_000),
  })
  .prefault({});

export const sinkSettings = z
  .strictObject({
    group: z.string().min(1).default('twitter_hdfs_group'),
    format: z.enum(['jsonl', 'jsonl.gz', 'parquet']).default('jsonl.gz'),
    /** Compression of Parquet pages; snappy for readers that predate zstd. */
    parquetCodec: z.enum(['zstd', 'snappy']).default('zstd'),
    /** gzip level of jsonl.gz (0-9); see SINK_DEFAULTS.gzipLevel for the CPU each level costs. */
    gzipLevel: int(0, 9).default(SINK_DEFAULTS.gzipLevel),
    maxRecords: int(1).default(500_000),
    maxBytes: int(1024).default(128 * 1024 * 1024),
    maxAgeS: num(0.1).default(60),
    timezone: z.string().min(1).default('UTC'),
    granularity: z.enum(['day', 'hour', 'minute']).default('hour'),
    /** Extra partition columns taken from the tweet, e.g. ["lang"]. */
    partitionFields: list(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/)).default([]),
    /**
     * A sink that dies (kill -9) keeps its partitions until the group coordinator misses it for this long: the
     * restart waits about as long. Shorter reacts faster; too short evicts a sink stalled by GC or a slow HDFS call.
     */
    sessionTimeoutS: num(6).default(10),
    /**
     * Bytes an open file gathers in memory before they go out on its HDFS upload (jsonl.gz: one gzip member each;
     * 2 MiB compresses as well as 8 MiB and holds a quarter of the memory per file).
     */
    flushBytes: int(1024).default(2 * 1024 * 1024),
    /**
     * Bytes the open files of a sink thread hold together in their encoders, shared equally among its partitions:
     * past a partition's share its fullest files hand out what they hold (a Parquet row group closes early), so
     * neither many partitions nor many field-partition folders multiply it.
     */
    maxBufferedBytes: int(1024 * 1024).default(SINK_DEFAULTS.maxBufferedBytes),
    /**
     * Sink threads in one process, each a consumer group member with its own partitions (a topic with fewer
     * partitions than workers leaves some idle). One thread is CPU-bound near 30-37k tweets/s; on a 2-core
     * machine that also runs Kafka and the DataNode, 2 threads measured no steadier gain and 1.7x the memory.
     */
    workers: int(1, 64).default(1),
    hive: hiveSettings,
  })
  .prefault({});
