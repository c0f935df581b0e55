/**
 * The sink task: the Kafka -> HDFS sink of one topic as the consumer loop (src/pipeline/sink-loop.ts) drives it,
 * after Kafka Connect's SinkTask lifecycle. One PartitionWriter per open partition writes through `Storage`;
 * poison records go to the dead-letter callback before anything after them can be committed; the offsets that are
 * durable in HDFS are handed out for the Kafka commit. Offsets travel per partition number.
 *
 * Call protocol (what the loop does):
 * - open(partitions) when records of a partition arrive that the task does not hold. It recovers each partition
 *   from HDFS and returns the next offset HDFS holds (null: nothing committed yet). The loop COMMITS that offset to
 *   the group (HDFS is never behind the group's committed offset) instead of seeking; the writers skip records
 *   already durable. open() on a partition already open aborts its writer and recovers again.
 * - put(records) for every polled batch, in offset order per partition. Poison records go to `deadLetter` first;
 *   put() writes nothing until that promise resolves, so no committed window can cover a poison record that was
 *   not dead-lettered.
 * - maybeRotate(now) after every poll (empty or not), so that quiet partitions still commit within maxAge;
 *   maybeRotate(Infinity) commits every open window. Each writer serialises its operations.
 * - preCommit() before committing Kafka offsets: the offsets made durable since the last call.
 * - close(partitions, {abort: true}) on revoke (the new owner re-reads the open windows) and on a reset;
 *   close(all, {abort: false}) on shutdown, bounded by a grace period after which the loop aborts instead.
 * - Any error leaves the affected partition failed (the error's details name topic and partition): the loop
 *   resets and open()s it again. FENCED means another writer (a zombie after a rebalance) committed that range
 *   first.
 */

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { SINK_DEFAULTS } from '../config/sink.ts';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { KafkaRecord } from '../types.ts';
import { checkWriterId, SinkPaths } from './filenames.ts';
import type { FormatName } from './formats/format.ts';
import { createFormat } from './formats/index.ts';
import type { ParquetOptions } from './formats/parquet.ts';
import {
  type CommittedFileInfo,
  PartitionWriter,
  type WindowCommitInfo,
  type WriteItem,
  type WriterEvents,
} from './partition-writer.ts';
import { createPartitioner, type Granularity, type Partitioner } from './partitioner.ts';
import { classify, type PoisonRecord } from './sink-record.ts';

export interface SinkSettings {
  /** Root directory of the layout (config hdfs.dir). */
  dir: string;
  format: FormatName;
  granularity: Granularity;
  timeZone: string;
  partitionFields: readonly string[];
  maxRecords: number;
  maxBytes: number;
  maxAgeMs: number;
  flushBytes: number;
  /**
   * Bytes the open files of all partitions hold together in their encoders (default SINK_DEFAULTS.maxBufferedBytes),
   * each open partition getting an equal share.
   */
  maxBufferedBytes?: number;
  gzipLevel?: number;
  parquet?: ParquetOptions;
  /** Manifests kept per partition (default SINK_DEFAULTS.keepManifests, the minimum). */
  keepManifests?: number;
}

export interface SinkObserver extends WriterEvents {
  onPoison?(poison: PoisonRecord[]): void;
}

export interface SinkTaskOptions extends SinkSettings {
  /** The topic whose partitions the task writes. */
  topic: string;
  storage: Storage;
  /** Publishes poison records to the dead-letter topic; put() awaits it before writing the batch. */
  deadLetter: (poison: PoisonRecord[]) => Promise<void>;
  /** Prefix of the writer ids in temp paths and manifests (default host-pid-random). */
  writerId?: string;
  clock?: () => number;
  logger?: Logger;
  observer?: SinkObserver;
}

/** The sink settings from the validated config. */
export function sinkSettingsFromConfig(config: Config): SinkSettings {
  const s = config.sink;
  return {
    dir: config.hdfs.dir,
    format: s.format,
    granularity: s.granularity,
    timeZone: s.timezone,
    partitionFields: s.partitionFields,
    maxRecords: s.maxRecords,
    maxBytes: s.maxBytes,
    maxAgeMs: Math.round(s.maxAgeS * 1000),
    flushBytes: s.flushBytes,
    maxBufferedBytes: s.maxBufferedBytes,
    gzipLevel: s.gzipLevel,
    parquet: { codec: s.parquetCodec === 'snappy' ? 'SNAPPY' : 'ZSTD' },
  };
}

export class SinkTask {
  private readonly opts: SinkTaskOptions;
  private readonly paths: SinkPaths;
  private readonly partitioner: Partitioner;
  private readonly events: WriterEvents;
  private readonly writerIdPrefix: string;
  private readonly clock: () => number;
  private readonly log: Logger;
  /** Open partitions by number. */
  private readonly writers = new Map<number, PartitionWriter>();
  /** Committed offsets of writers closed since the last preCommit(). */
  private readonly closedOffsets = new Map<number, bigint>();
  private writerSeq = 0;
  /** Per partition, the offset gap a writer refused last (`from-to`): seen again after a reset, it is Kafka's. */
  private readonly refusedGaps = new Map<number, string>();

  constructor(opts: SinkTaskOptions) {
    this.opts = opts;
    this.paths = new SinkPaths(opts.dir);
    this.partitioner = createPartitioner({
      granularity: opts.granularity,
      timeZone: opts.timeZone,
      fields: opts.partitionFields,
    });
    // Validates the format options once, before any partition is opened.
    createFormat(opts.format, this.formatOptions());
    const host = hostname()
      .replace(/[^A-Za-z0-9.-]/g, '_')
      .slice(0, 64);
    this.writerIdPrefix = checkWriterId(
      opts.writerId ?? `${host}-${process.pid}-${randomUUID().slice(0, 8)}`,
    );
    this.clock = opts.clock ?? Date.now;
    this.log = opts.logger ?? silentLogger;
    const observer = opts.observer;
    this.events = {
      onRecordsWritten: (e) => observer?.onRecordsWritten?.(e),
      onCommit: (f: CommittedFileInfo) => observer?.onCommit?.(f),
      onWindowCommitted: (w: WindowCommitInfo) => {
        this.log.info(
          {
            topic: w.topic,
            partition: w.partition,
            startOffset: String(w.startOffset),
            endOffset: String(w.endOffset),
            files: w.files.length,
            records: w.records,
            latencyMs: Math.round(w.latencyMs),
          },
          'window committed',
        );
        observer?.onWindowCommitted?.(w);
      },
    };
  }

  private formatOptions() {
    const { flushBytes, gzipLevel, parquet, logger } = this.opts;
    return {
      flushBytes,
      ...(gzipLevel === undefined ? {} : { gzipLevel }),
      ...(parquet === undefined ? {} : { parquet }),
      ...(logger === undefined ? {} : { logger }),
    };
  }

  /** Recovers each partition from HDFS; returns the next offset HDFS holds per partition (null: none yet). */
  async open(partitions: readonly number[]): Promise<Map<number, bigint | null>> {
    const reopened = partitions.filter((p) => this.writers.has(p));
    if (reopened.length > 0) await this.close(reopened, { abort: true }).catch(() => undefined);
    const results = await Promise.allSettled(
      partitions.map(async (partition) => {
        const writer = this.newWriter(partition);
        this.writers.set(partition, writer);
        this.shareBufferBudget();
        try {
          return [partition, await writer.recover()] as const;
        } catch (err) {
          this.writers.delete(partition);
          this.shareBufferBudget();
          throw err;
        }
      }),
    );
    const recovered = new Map<number, bigint | null>();
    for (const r of results) {
      if (r.status === 'rejected') throw r.reason;
      recovered.set(r.value[0], r.value[1]);
    }
    return recovered;
  }

  private newWriter(partition: number): PartitionWriter {
    const { storage, maxRecords, maxBytes, maxAgeMs } = this.opts;
    return new PartitionWriter({
      storage,
      paths: this.paths,
      topic: this.opts.topic,
      partition,
      format: createFormat(this.opts.format, this.formatOptions()),
      partitioner: this.partitioner,
      rotation: { maxRecords, maxBytes, maxAgeMs },
      writerId: `${this.writerIdPrefix}.${++this.writerSeq}`,
      keepManifests: this.opts.keepManifests ?? SINK_DEFAULTS.keepManifests,
      clock: this.clock,
      logger: this.log,
      events: this.events,
      acceptGap: (from, to) => this.acceptGap(partition, from, to),
    });
  }

  /**
   * A gap is refused once, which resets the consumer; a fresh fetch from the committed offset that shows the same
   * gap proves Kafka has no records there (retention, transaction markers), and the writer goes on.
   */
  private acceptGap(partition: number, from: bigint, to: bigint): boolean {
    const gap = `${from}-${to}`;
    if (this.refusedGaps.get(partition) !== gap) {
      this.refusedGaps.set(partition, gap);
      return false;
    }
    this.refusedGaps.delete(partition);
    this.log.warn(
      { topic: this.opts.topic, partition, from: String(from), next: String(to) },
      'Kafka has no records between these offsets (retention or transaction markers): writing on',
    );
    return true;
  }

  /** Writes a polled batch; poison records are dead-lettered (awaited) before anything is written. */
  async put(records: readonly KafkaRecord[]): Promise<void> {
    const batches = new Map<PartitionWriter, WriteItem[]>();
    const poison: PoisonRecord[] = [];
    // A fetch hands out runs of one partition: the writer is looked up once per run, not per record.
    let partition = -1;
    let writer: PartitionWriter | undefined;
    let items: WriteItem[] = [];
    for (const r of records) {
      if (r.partition !== partition || !writer || r.topic !== this.opts.topic) {
        writer = r.topic === this.opts.topic ? this.writers.get(r.partition) : undefined;
        if (!writer)
          throw new TweetpipeError(
            'INTERNAL',
            `record for ${r.topic}/${r.partition}, which is not open in the sink`,
            { details: { topic: r.topic, partition: r.partition } },
          );
        partition = r.partition;
        let forWriter = batches.get(writer);
        if (!forWriter) {
          forWriter = [];
          batches.set(writer, forWriter);
        }
        items = forWriter;
      }
      // Already durable or already in an open window (re-delivered after a reset): not written again.
      if (writer.isProcessed(r.offset)) continue;
      const c = classify(r);
      if (c.ok) items.push(c.record);
      else {
        items.push(r.offset);
        poison.push({ record: r, reason: c.reason });
      }
    }
    if (poison.length > 0) {
      await this.opts.deadLetter(poison);
      this.opts.observer?.onPoison?.(poison);
    }
    await settleAll([...batches].map(([w, batch]) => w.write(batch)));
  }

  /** Commits every window older than maxAge; returns how many were committed. */
  async maybeRotate(nowMs: number = this.clock()): Promise<number> {
    const rotated = await settleAll([...this.writers.values()].map((w) => w.maybeRotate(nowMs)));
    return rotated.filter(Boolean).length;
  }

  /** Gives every open partition an equal share of the encoders' byte budget (called whenever partitions change). */
  private shareBufferBudget(): void {
    const total = this.opts.maxBufferedBytes ?? SINK_DEFAULTS.maxBufferedBytes;
    const share = Math.floor(total / Math.max(1, this.writers.size));
    for (const w of this.writers.values()) w.setBufferBudget(share);
  }

  /** Offsets (next offset to consume) durable in HDFS and not yet handed out, by partition. */
  async preCommit(): Promise<Map<number, bigint>> {
    const out = new Map(this.closedOffsets);
    this.closedOffsets.clear();
    for (const [partition, w] of this.writers) {
      const o = w.takeCommittedOffset();
      if (o !== null) out.set(partition, o);
    }
    return out;
  }

  /** On revoke or shutdown: commits (or with abort discards) the open windows and forgets the partitions. */
  async close(partitions: readonly number[], opts: { abort: boolean }): Promise<void> {
    await settleAll(
      partitions.map(async (partition) => {
        const w = this.writers.get(partition);
        if (!w) return;
        try {
          await w.close(opts.abort);
        } finally {
          this.writers.delete(partition);
          this.shareBufferBudget();
          const o = w.takeCommittedOffset();
          if (o !== null) this.closedOffsets.set(partition, o);
        }
      }),
    );
  }
}

/** Waits for every promise (so no writer is left mid-operation) and rethrows the first failure. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
