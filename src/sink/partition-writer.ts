/**
 * Exactly-once writer for one Kafka partition (the model is kafka-connect-hdfs's TopicPartitionWriter).
 *
 * A window of consecutive offsets is written to temp files under `_tmp/`, one per output directory (temp-file.ts
 * streams each to HDFS while records flow). Committing the window is a sequence in which every step is resumable
 * after a crash:
 *
 *   1. every temp file is completed and its size checked (a crash loses only temp files);
 *   2. the window's manifest is created: the window IS committed (recovery finishes the renames);
 *   3. every temp file gets its final name, old manifests are pruned;
 *   4. endOffset + 1 may be reported to Kafka.
 *
 * recover() (partition-recovery.ts) reads the newest manifest, finishes its renames, deletes the temp files that
 * no writer can commit any more and returns where the consumer must resume. Records at or below the last committed
 * offset are skipped, so a re-delivery after a seek (or without one) never duplicates data.
 *
 * Memory: a window never holds more than maxBytes of records however many hours it spans; each file's bound is
 * in temp-file.ts.
 *
 * Operations on one writer run one at a time (an internal queue), so a rotation timer may call maybeRotate()
 * while put() is running. After any error the writer is failed: close it (abort) and recover a new one.
 * Storage calls are not retried here: an append whose outcome is unknown leaves the file in an unknown state,
 * so the window is redone from Kafka instead.
 */
import { performance } from 'node:perf_hooks';
import { SINK_DEFAULTS } from '../config/sink.ts';
import { TweetpipeError, toTweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import type { Logger } from '../log.ts';
import type { SinkPaths } from './filenames.ts';
import type { Format } from './formats/format.ts';
import { ManifestLog } from './manifest.ts';
import { PartitionRecovery } from './partition-recovery.ts';
import type { Partitioner } from './partitioner.ts';
import type { SinkRecord } from './sink-record.ts';
import { TempFile } from './temp-file.ts';
import { Window } from './window.ts';

/**
 * What the writer accepts: recover() only when `new`; write() and maybeRotate() only when `open`; close() commits
 * only when `open` (a `failed` writer's window is discarded); nothing after `closed`.
 */
type WriterState = 'new' | 'open' | 'failed' | 'closed';

export interface RotationPolicy {
  /** Records per window. */
  maxRecords: number;
  /** Uncompressed record bytes per window (for JSONL about the size of the files). */
  maxBytes: number;
  /** Wall-clock age of a window, counted from its first record. */
  maxAgeMs: number;
}

export interface CommittedFileInfo {
  topic: string;
  partition: number;
  path: string;
  bytes: number;
  records: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

export interface WindowCommitInfo {
  topic: string;
  partition: number;
  startOffset: bigint;
  endOffset: bigint;
  files: CommittedFileInfo[];
  records: number;
  /** Time from the start of the rotation to the end of the commit. */
  latencyMs: number;
}

/** Callbacks for metrics and the dashboard; they must not throw. */
export interface WriterEvents {
  onRecordsWritten?(e: { topic: string; partition: number; records: number; bytes: number }): void;
  onCommit?(file: CommittedFileInfo): void;
  onWindowCommitted?(w: WindowCommitInfo): void;
}

export interface PartitionWriterOptions {
  storage: Storage;
  paths: SinkPaths;
  topic: string;
  partition: number;
  format: Format;
  partitioner: Partitioner;
  rotation: RotationPolicy;
  /** Identifies this writer instance in temp paths and manifests (unique per process and assignment). */
  writerId: string;
  /** Manifests kept per partition (at least 2). */
  keepManifests: number;
  /** Chunks in flight to HDFS per file before write() waits; with flushBytes this bounds memory. */
  maxFlushesInFlight?: number;
  /**
   * Bytes the open files of a window may hold together in their encoders (default SINK_DEFAULTS.maxBufferedBytes;
   * the sink task gives each partition its share of sink.maxBufferedBytes, setBufferBudget), bytes handed out and
   * still being encoded included: past it the files holding most hand out everything and the write waits for
   * their encoding (window.ts), so that many open files (field partitions) do not each hold flushBytes, and a
   * Parquet row group (held as parsed values) closes early.
   */
  maxBufferedBytes?: number;
  /**
   * An upload that received nothing for this long is ended, so that no request outlives the WebHDFS client's
   * socket timeout while a quiet window waits for its age rotation; the next chunk appends.
   */
  uploadIdleMs?: number;
  clock: () => number;
  logger: Logger;
  events?: WriterEvents;
  /**
   * Whether to write on past a jump in offsets (`from`..`to` - 1 never delivered). Kafka has such gaps only
   * where retention deleted records or transaction markers sit; but a fetch answered after the partition moved
   * away and back can deliver records from a position the consumer had left, and writing on would lose the
   * records in between. Refused by default: write() then fails with OFFSET_GAP.
   */
  acceptGap?: (from: bigint, to: bigint) => boolean;
}

/**
 * One item of a batch: a record to write, or the offset of a record that was dead-lettered (a bare offset, so
 * that a batch costs no object per record beyond the record itself).
 */
export type WriteItem = SinkRecord | bigint;

export class PartitionWriter {
  readonly topic: string;
  readonly partition: number;
  private readonly opts: PartitionWriterOptions;
  private readonly manifests: ManifestLog;
  private readonly recovery: PartitionRecovery;
  private readonly maxInFlight: number;
  private readonly uploadIdleMs: number;
  private bufferBudget: number;
  private state: WriterState = 'new';
  private failure: TweetpipeError | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private window: Window | null = null;
  /** Highest offset that is durable in HDFS or in the open window; lower offsets are skipped. */
  private lastProcessed: bigint | null = null;
  /** Start of the next window: the committed end + 1 (null before anything was consumed). */
  private nextStart: bigint | null = null;
  private unreported: bigint | null = null;

  constructor(opts: PartitionWriterOptions) {
    this.opts = opts;
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.maxInFlight = opts.maxFlushesInFlight ?? SINK_DEFAULTS.maxFlushesInFlight;
    this.uploadIdleMs = opts.uploadIdleMs ?? SINK_DEFAULTS.uploadIdleMs;
    this.bufferBudget = opts.maxBufferedBytes ?? SINK_DEFAULTS.maxBufferedBytes;
    const { storage, paths, topic, partition, writerId, logger } = opts;
    this.manifests = new ManifestLog({ storage, paths, topic, partition, keep: opts.keepManifests, logger });
    this.recovery = new PartitionRecovery({
      storage,
      paths,
      manifests: this.manifests,
      topic,
      partition,
      writerId,
      logger,
    });
  }

  /** True when `offset` is already durable or in the open window (a re-delivery to skip). */
  isProcessed(offset: bigint): boolean {
    return this.lastProcessed !== null && offset <= this.lastProcessed;
  }

  /** Wall-clock time at which the open window must be committed, or null when no window is open. */
  rotationDueAt(): number | null {
    return this.window ? this.window.openedAt + this.opts.rotation.maxAgeMs : null;
  }

  /** Bytes this partition's open files may hold together from now on (the open window's next check uses it). */
  setBufferBudget(bytes: number): void {
    this.bufferBudget = bytes;
  }

  /** The committed offset (end + 1) not yet handed out; hands it out. */
  takeCommittedOffset(): bigint | null {
    const o = this.unreported;
    this.unreported = null;
    return o;
  }

  /**
   * Brings HDFS to a consistent state for this partition and returns the offset to resume from
   * (the newest manifest's end + 1), or null when the partition never committed.
   */
  recover(): Promise<bigint | null> {
    return this.serial(async () => {
      if (this.state !== 'new') throw new TweetpipeError('INTERNAL', `${this.label()}: recover() twice`);
      const latest = await this.recovery.recover();
      this.state = 'open';
      if (!latest) return null;
      const end = BigInt(latest.endOffset);
      this.lastProcessed = end;
      this.nextStart = end + 1n;
      this.unreported = end + 1n;
      this.opts.logger.info(
        {
          topic: this.topic,
          partition: this.partition,
          resumeAt: String(end + 1n),
          files: latest.files.length,
        },
        'partition recovered from HDFS',
      );
      return end + 1n;
    });
  }

  /** Writes a batch in offset order; rotates on the way when a limit is reached. */
  write(items: readonly WriteItem[]): Promise<void> {
    return this.serial(async () => {
      this.assertOpen();
      let records = 0;
      let bytes = 0;
      const { maxRecords, maxBytes } = this.opts.rotation;
      for (const item of items) {
        const isRecord = typeof item !== 'bigint';
        const offset = isRecord ? item.offset : item;
        if (this.lastProcessed !== null) {
          if (offset <= this.lastProcessed) continue;
          if (offset - this.lastProcessed !== 1n) this.checkGap(offset);
        }
        const w = this.window ?? this.openWindow(offset);
        if (isRecord) {
          // Awaited only when the file has too many chunks in flight: no promise per record otherwise.
          const backpressure = this.append(w, item);
          if (backpressure) await backpressure;
          records++;
          bytes += item.value.length;
        }
        w.end = offset;
        this.lastProcessed = offset;
        if (w.records >= maxRecords || w.bytes >= maxBytes) await this.commit();
      }
      if (records > 0)
        this.opts.events?.onRecordsWritten?.({
          topic: this.topic,
          partition: this.partition,
          records,
          bytes,
        });
      const now = this.opts.clock();
      if (!(await this.rotateIfOld(now))) await this.endIdleUploads(now);
    });
  }

  /** Commits the open window when it is older than maxAge; call it on a timer so quiet streams land too. */
  maybeRotate(nowMs: number): Promise<boolean> {
    return this.serial(async () => {
      this.assertOpen();
      if (await this.rotateIfOld(nowMs)) return true;
      await this.endIdleUploads(nowMs);
      return false;
    });
  }

  /**
   * On revoke or shutdown: commits the open window, or with abort deletes this writer's temp files.
   * An abort after a failed commit leaves the temp files to recovery when the manifest may exist.
   */
  close(abort: boolean): Promise<void> {
    return this.serial(async () => {
      if (this.state === 'closed') return;
      if (!abort && this.state === 'open') {
        await this.commit();
        // Empty now; without this _tmp keeps one directory per assignment until a recovery removes it.
        await this.recovery.deleteOwnTemps().catch(() => undefined);
        if (this.nextStart !== null) await this.recovery.sweepObsoleteTemps(this.nextStart - 1n);
      } else if (this.window) {
        const files = [...this.window.files.values()];
        for (const f of files) f.abort();
        if (!this.window.manifestAttempted) {
          await Promise.all(files.map((f) => f.settled()));
          await this.recovery.deleteOwnTemps();
        }
      }
      this.window = null;
      this.state = 'closed';
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run.catch((err: unknown) => {
      throw this.fail(err);
    });
  }

  private fail(err: unknown): TweetpipeError {
    if (this.failure && err === this.failure) return this.failure;
    const e = toTweetpipeError(err);
    const message = e.message.startsWith(this.label()) ? e.message : `${this.label()}: ${e.message}`;
    this.failure = new TweetpipeError(e.code, message, {
      retryable: e.retryable,
      cause: err,
      details: { ...e.details, topic: this.topic, partition: this.partition, state: this.state },
    });
    if (this.state !== 'closed') this.state = 'failed';
    return this.failure;
  }

  private assertOpen(): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'open')
      throw new TweetpipeError('INTERNAL', `${this.label()}: writer is ${this.state}`);
  }

  private checkGap(next: bigint): void {
    const from = (this.lastProcessed as bigint) + 1n;
    if (this.opts.acceptGap?.(from, next)) return;
    throw new TweetpipeError(
      'OFFSET_GAP',
      `${this.label()}: offsets ${from}..${next - 1n} were not delivered before offset ${next}`,
      { retryable: true, details: { from: String(from), next: String(next) } },
    );
  }

  private label(): string {
    return `${this.topic}/${this.partition}`;
  }

  private openWindow(firstOffset: bigint): Window {
    const w = new Window(
      this.nextStart ?? firstOffset,
      firstOffset,
      this.opts.clock(),
      () => this.bufferBudget,
    );
    this.window = w;
    return w;
  }

  /** Adds a record to its file; returns a promise to await when the file's uploads are behind. */
  private append(w: Window, record: SinkRecord): Promise<void> | undefined {
    const dir = this.opts.partitioner.path(record);
    let file = w.files.get(dir);
    if (!file) {
      const { storage, paths, writerId, format, clock } = this.opts;
      file = new TempFile({
        storage,
        dir,
        tmp: paths.tmpFile(this.topic, this.partition, writerId, w.start, w.files.size, format.extension),
        encoder: format.open(),
        firstOffset: record.offset,
        maxInFlight: this.maxInFlight,
        clock,
        label: this.label(),
      });
      w.files.set(dir, file);
    }
    const backpressure = file.add(record);
    record.releaseDoc?.();
    const budget = w.counted(record.value.length);
    if (!budget) return backpressure;
    return backpressure ? backpressure.then(() => budget) : budget;
  }

  /** Ends the uploads that received nothing for uploadIdleMs. */
  private async endIdleUploads(nowMs: number): Promise<void> {
    if (!this.window) return;
    for (const file of this.window.files.values()) await file.endIfIdle(nowMs, this.uploadIdleMs);
  }

  private async rotateIfOld(nowMs: number): Promise<boolean> {
    const due = this.rotationDueAt();
    if (due === null || nowMs < due) return false;
    await this.commit();
    return true;
  }

  private async commit(): Promise<void> {
    const w = this.window;
    if (!w) return;
    const started = performance.now();
    const { paths, topic, partition } = this.opts;

    const files = [...w.files.values()];
    await Promise.all(files.map((f) => f.finish()));
    for (const f of files) await this.recovery.checkTempFile(f.tmp, f.persisted);

    const manifest = w.manifest({
      paths,
      topic,
      partition,
      extension: this.opts.format.extension,
      writerId: this.opts.writerId,
      createdAt: new Date(this.opts.clock()),
    });
    w.manifestAttempted = true;
    let prunable: string[];
    try {
      prunable = await this.manifests.commit(manifest);
    } catch (err) {
      // Fenced: the manifest is not ours (or was removed again), so the temp files are garbage.
      if (err instanceof TweetpipeError && err.code === 'FENCED') {
        w.manifestAttempted = false;
        await this.recovery.deleteOwnTemps();
      }
      throw err;
    }

    for (const f of manifest.files) await this.recovery.rename(f);
    await this.manifests.prune(prunable);
    await this.recovery.cleanUpAfterCommit(w.end);

    this.window = null;
    this.nextStart = w.end + 1n;
    this.unreported = w.end + 1n;
    const committed: CommittedFileInfo[] = manifest.files.map((f) => ({
      topic,
      partition,
      path: f.final,
      bytes: f.bytes,
      records: f.records,
      firstOffset: BigInt(f.firstOffset),
      lastOffset: BigInt(f.lastOffset),
    }));
    const { events } = this.opts;
    for (const c of committed) events?.onCommit?.(c);
    events?.onWindowCommitted?.({
      topic,
      partition,
      startOffset: w.start,
      endOffset: w.end,
      files: committed,
      records: w.records,
      latencyMs: performance.now() - started,
    });
  }
}
