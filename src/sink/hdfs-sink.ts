/**
 * The Kafka -> HDFS sink as the consumer loop sees it (the Kafka Connect SinkTask lifecycle): one
 * PartitionWriter per assigned partition, poison records routed to the dead-letter callback before anything
 * after them can be committed, and the offsets that are durable in HDFS handed out for the Kafka commit.
 *
 * Consumer loop contract:
 * - open(tps) on assignment; seek each partition to the returned offset (null: keep the group's committed
 *   offset, or the reset policy). Calling open() for a partition that is already open aborts its writer and
 *   recovers again: that is how to resume after an error.
 * - put(records) for every polled batch, in offset order per partition. Poison records go to `deadLetter`
 *   first; put() writes nothing until that promise resolves, so no committed window can cover a poison record
 *   that was not dead-lettered.
 * - maybeRotate() on a timer (nextRotationDueAt() says when), so that quiet partitions still commit within
 *   maxAge. It may run while put() runs: each writer serialises its operations.
 * - preCommit() before committing Kafka offsets; close(tps) on revoke (commit) or shutdown (commit or abort).
 * - Any error leaves the affected partition failed (the error's details name topic and partition): open() it
 *   again and seek. FENCED means another writer (a zombie after a rebalance) committed that range first.
 */

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import { type Logger, silentLogger } from '../log.ts';
import { type KafkaRecord, type TopicPartition, tpKey } from '../types.ts';
import { checkWriterId, SinkPaths } from './filenames.ts';
import { createFormat, type FormatName } from './formats/format.ts';
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
  gzipLevel?: number;
  parquet?: ParquetOptions;
  /** Manifests kept per partition (default 2, the minimum). */
  keepManifests?: number;
}

export interface SinkObserver extends WriterEvents {
  onPoison?(poison: PoisonRecord[]): void;
}

export interface HdfsSinkOptions extends SinkSettings {
  storage: Storage;
  /** Publishes poison records to the dead-letter topic; put() awaits it before writing the batch. */
  deadLetter: (poison: PoisonRecord[]) => Promise<void>;
  /** Prefix of the writer ids in temp paths and manifests (default host-pid-random). */
  writerId?: string;
  clock?: () => number;
  logger?: Logger;
  observer?: SinkObserver;
}

export interface PutResult {
  written: number;
  /** Records already durable or already in an open window (re-delivered after a seek), not written again. */
  skipped: number;
  poison: PoisonRecord[];
}

export interface SinkStats {
  recordsWritten: number;
  /** Uncompressed record bytes written. */
  bytesWritten: number;
  poisonRecords: number;
  skippedRecords: number;
  filesCommitted: number;
  /** Bytes of committed files (as stored, compressed). */
  bytesCommitted: number;
  windowsCommitted: number;
  lastCommitLatencyMs: number | null;
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
    gzipLevel: s.gzipLevel,
    parquet: { codec: s.parquetCodec === 'snappy' ? 'SNAPPY' : 'ZSTD' },
  };
}

export class HdfsSink {
  private readonly opts: HdfsSinkOptions;
  private readonly paths: SinkPaths;
  private readonly partitioner: Partitioner;
  private readonly events: WriterEvents;
  private readonly writerIdPrefix: string;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly writers = new Map<string, PartitionWriter>();
  /** Committed offsets of writers closed since the last preCommit(). */
  private readonly closedOffsets = new Map<string, bigint>();
  private writerSeq = 0;
  /** Per partition, the offset gap a writer refused last (`from-to`): seen again after a reset, it is Kafka's. */
  private readonly refusedGaps = new Map<string, string>();
  private readonly counters: SinkStats = {
    recordsWritten: 0,
    bytesWritten: 0,
    poisonRecords: 0,
    skippedRecords: 0,
    filesCommitted: 0,
    bytesCommitted: 0,
    windowsCommitted: 0,
    lastCommitLatencyMs: null,
  };

  constructor(opts: HdfsSinkOptions) {
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
      onRecordsWritten: (e) => {
        this.counters.recordsWritten += e.records;
        this.counters.bytesWritten += e.bytes;
        observer?.onRecordsWritten?.(e);
      },
      onCommit: (f: CommittedFileInfo) => {
        this.counters.filesCommitted++;
        this.counters.bytesCommitted += f.bytes;
        observer?.onCommit?.(f);
      },
      onWindowCommitted: (w: WindowCommitInfo) => {
        this.counters.windowsCommitted++;
        this.counters.lastCommitLatencyMs = w.latencyMs;
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
    const { flushBytes, gzipLevel, parquet } = this.opts;
    return {
      flushBytes,
      ...(gzipLevel === undefined ? {} : { gzipLevel }),
      ...(parquet === undefined ? {} : { parquet }),
    };
  }

  /** Recovers each partition from HDFS; returns where to seek (null: no commit yet, keep the group offset). */
  async open(tps: readonly TopicPartition[]): Promise<Map<string, bigint | null>> {
    const reopened = tps.filter((tp) => this.writers.has(tpKey(tp)));
    if (reopened.length > 0) await this.close(reopened, { abort: true }).catch(() => undefined);
    const results = await Promise.allSettled(
      tps.map(async (tp) => {
        const writer = this.newWriter(tp);
        const key = tpKey(tp);
        this.writers.set(key, writer);
        try {
          return [key, await writer.recover()] as const;
        } catch (err) {
          this.writers.delete(key);
          throw err;
        }
      }),
    );
    const seeks = new Map<string, bigint | null>();
    for (const r of results) {
      if (r.status === 'rejected') throw r.reason;
      seeks.set(r.value[0], r.value[1]);
    }
    return seeks;
  }

  private newWriter(tp: TopicPartition): PartitionWriter {
    const { storage, maxRecords, maxBytes, maxAgeMs } = this.opts;
    return new PartitionWriter({
      storage,
      paths: this.paths,
      topic: tp.topic,
      partition: tp.partition,
      format: createFormat(this.opts.format, this.formatOptions()),
      partitioner: this.partitioner,
      rotation: { maxRecords, maxBytes, maxAgeMs },
      writerId: `${this.writerIdPrefix}.${++this.writerSeq}`,
      keepManifests: this.opts.keepManifests ?? 2,
      clock: this.clock,
      logger: this.log,
      events: this.events,
      acceptGap: (from, to) => this.acceptGap(tp, from, to),
    });
  }

  /**
   * A gap is refused once, which resets the consumer; a fresh fetch from the committed offset that shows the same
   * gap proves Kafka has no records there (retention, transaction markers), and the writer goes on.
   */
  private acceptGap(tp: TopicPartition, from: bigint, to: bigint): boolean {
    const key = tpKey(tp);
    const gap = `${from}-${to}`;
    if (this.refusedGaps.get(key) !== gap) {
      this.refusedGaps.set(key, gap);
      return false;
    }
    this.refusedGaps.delete(key);
    this.log.warn(
      { topic: tp.topic, partition: tp.partition, from: String(from), next: String(to) },
      'Kafka has no records between these offsets (retention or transaction markers): writing on',
    );
    return true;
  }

  /** Writes a polled batch; poison records are dead-lettered (awaited) before anything is written. */
  async put(records: readonly KafkaRecord[]): Promise<PutResult> {
    const batches = new Map<PartitionWriter, WriteItem[]>();
    const poison: PoisonRecord[] = [];
    let skipped = 0;
    let written = 0;
    for (const r of records) {
      const writer = this.writers.get(tpKey(r));
      if (!writer)
        throw new TweetpipeError('INTERNAL', `record for ${tpKey(r)}, which is not open in the sink`, {
          details: { topic: r.topic, partition: r.partition },
        });
      if (writer.isProcessed(r.offset)) {
        skipped++;
        continue;
      }
      let items = batches.get(writer);
      if (!items) {
        items = [];
        batches.set(writer, items);
      }
      const c = classify(r);
      if (c.ok) {
        items.push({ offset: r.offset, record: c.record });
        written++;
      } else {
        items.push({ offset: r.offset, record: null });
        poison.push({ record: r, reason: c.reason });
      }
    }
    this.counters.skippedRecords += skipped;
    if (poison.length > 0) {
      await this.opts.deadLetter(poison);
      this.counters.poisonRecords += poison.length;
      this.opts.observer?.onPoison?.(poison);
    }
    await settleAll([...batches].map(([writer, items]) => writer.write(items)));
    return { written, skipped, poison };
  }

  /** Commits every window older than maxAge; returns how many were committed. */
  async maybeRotate(nowMs: number = this.clock()): Promise<number> {
    const rotated = await settleAll([...this.writers.values()].map((w) => w.maybeRotate(nowMs)));
    return rotated.filter(Boolean).length;
  }

  /** Earliest time a window must be committed (for the rotation timer), or null when no window is open. */
  nextRotationDueAt(): number | null {
    let due: number | null = null;
    for (const w of this.writers.values()) {
      const d = w.rotationDueAt();
      if (d !== null && (due === null || d < due)) due = d;
    }
    return due;
  }

  /** Offsets (next offset to consume) durable in HDFS and not yet handed out, by tpKey. */
  async preCommit(): Promise<Map<string, bigint>> {
    const out = new Map(this.closedOffsets);
    this.closedOffsets.clear();
    for (const [key, w] of this.writers) {
      const o = w.takeCommittedOffset();
      if (o !== null) out.set(key, o);
    }
    return out;
  }

  /** On revoke or shutdown: commits (or with abort discards) the open windows and forgets the partitions. */
  async close(tps: readonly TopicPartition[], opts: { abort: boolean }): Promise<void> {
    await settleAll(
      tps.map(async (tp) => {
        const key = tpKey(tp);
        const w = this.writers.get(key);
        if (!w) return;
        try {
          await w.close(opts.abort);
        } finally {
          this.writers.delete(key);
          const o = w.takeCommittedOffset();
          if (o !== null) this.closedOffsets.set(key, o);
        }
      }),
    );
  }

  /** Closes every open partition. */
  closeAll(opts: { abort: boolean }): Promise<void> {
    return this.close(
      [...this.writers.values()].map((w) => ({ topic: w.topic, partition: w.partition })),
      opts,
    );
  }

  stats(): SinkStats {
    return { ...this.counters };
  }
}

/** Waits for every promise (so no writer is left mid-operation) and rethrows the first failure. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
