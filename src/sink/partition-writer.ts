/**
 * Exactly-once writer for one Kafka partition (the model is kafka-connect-hdfs's TopicPartitionWriter).
 *
 * A window of consecutive offsets is written to temp files under `_tmp/`, one per output directory. Committing
 * the window walks an explicit state machine, and every state is resumable after a crash:
 *
 *   idle -> writing -> rotating -> manifest-written -> renamed -> committed -> idle
 *
 *   writing            records are encoded and appended to temp files (only temp files exist)
 *   rotating           temp files are completed; nothing is committed yet (a crash loses only temp files)
 *   manifest-written   the window's manifest exists: the window IS committed; recovery finishes the renames
 *   renamed            every temp file has its final name; old manifests are pruned
 *   committed          endOffset + 1 may be reported to Kafka
 *
 * recover() reads the newest manifest, finishes its renames, deletes the temp files that no writer can commit
 * any more and returns where the consumer must resume. Records at or below the last committed offset are
 * skipped, so a re-delivery after a seek (or without one) never duplicates data.
 *
 * Another writer of the partition may still be alive while this one recovers (the previous owner, before it
 * learns of the rebalance), and its window may start right after the newest manifest: it can still win the
 * manifest race, so its temp files are left alone. Deleting them could void a window whose manifest is being
 * written at that moment, or leave it half renamed. Temp files of windows starting at or below the committed
 * end can never pass the fencing, so those are deleted, at recovery and after later commits until none is left.
 *
 * Uploads: a temp file is written through one streaming WebHDFS request while records flow (ended after
 * uploadIdleMs without data, then continued by an append), and its bytes count as durable only once HDFS answered
 * that request; the window's commit ends every upload first.
 *
 * Memory: a file's encoder holds at most flushBytes (a Parquet row group) plus maxFlushesInFlight chunks on
 * their way to HDFS (and an upload buffer of ~1 MB), and a window never holds more than maxBytes of records however
 * many hours it spans.
 *
 * Operations on one writer run one at a time (an internal queue), so a rotation timer may call maybeRotate()
 * while put() is running. After any error the writer is failed: close it (abort) and recover a new one.
 * Storage calls are not retried here: an append whose outcome is unknown leaves the file in an unknown state,
 * so the window is redone from Kafka instead.
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import { TweetpipeError, toTweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import type { Logger } from '../log.ts';
import { committedFileName, parseTempFileWindowStart, type SinkPaths } from './filenames.ts';
import type { Format, RecordEncoder } from './formats/format.ts';
import { MANIFEST_VERSION, type Manifest, type ManifestFile, ManifestLog } from './manifest.ts';
import type { Partitioner } from './partitioner.ts';
import type { SinkRecord } from './sink-record.ts';

/** Bytes an upload buffers before a chunk waits for the socket: about one chunk, so memory stays bounded. */
const UPLOAD_BUFFER_BYTES = 1024 * 1024;

export type WriterState =
  | 'new'
  | 'idle'
  | 'writing'
  | 'rotating'
  | 'manifest-written'
  | 'renamed'
  | 'committed'
  | 'failed'
  | 'closed';

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
  /** Chunks in flight to HDFS per file before write() waits (default 2); with flushBytes this bounds memory. */
  maxFlushesInFlight?: number;
  /**
   * An upload that received nothing for this long is ended, so that no request outlives the WebHDFS client's
   * socket timeout while a quiet window waits for its age rotation (default 10 s); the next chunk appends.
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

/** One item of a batch: a record to write, or the offset of a record that was dead-lettered. */
export type WriteItem = { offset: bigint; record: SinkRecord | null };

interface TempFile {
  dir: string;
  tmp: string;
  encoder: RecordEncoder;
  records: number;
  firstOffset: bigint;
  lastOffset: bigint;
  /** Bytes durable in HDFS: those of the uploads that completed. */
  persisted: number;
  created: boolean;
  /** The upload that is taking the file's next chunks, if one is open. */
  upload: Upload | null;
  /** Flushes run in order; each link sends one chunk (or ends the upload). */
  tail: Promise<void>;
  /** Set when the window is aborted: chunks still queued must not open a new upload. */
  aborted: boolean;
  inFlight: number;
}

/** One streaming create or append request of a temp file. */
interface Upload {
  body: PassThrough;
  /** Settles with HDFS's answer, once the body has ended (or the request failed). */
  done: Promise<void>;
  failure: unknown;
  /** Bytes written into the body. */
  bytes: number;
  lastWriteAt: number;
}

interface Window {
  start: bigint;
  end: bigint;
  openedAt: number;
  files: Map<string, TempFile>;
  records: number;
  bytes: number;
}

export class PartitionWriter {
  readonly topic: string;
  readonly partition: number;
  private readonly opts: PartitionWriterOptions;
  private readonly manifests: ManifestLog;
  private readonly maxInFlight: number;
  private readonly uploadIdleMs: number;
  private stateValue: WriterState = 'new';
  private failure: TweetpipeError | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private window: Window | null = null;
  /** Highest offset that is durable in HDFS or in the open window; lower offsets are skipped. */
  private lastProcessed: bigint | null = null;
  /** Start of the next window: the committed end + 1 (null before anything was consumed). */
  private nextStart: bigint | null = null;
  /** Set once the window's manifest create was attempted: its temp files then belong to recovery. */
  private manifestAttempted = false;
  private unreported: bigint | null = null;
  /** Other writers' temp files were left at the last cleanup (their windows might still have been committed). */
  private foreignTempsLeft = false;

  constructor(opts: PartitionWriterOptions) {
    this.opts = opts;
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.maxInFlight = opts.maxFlushesInFlight ?? 2;
    this.uploadIdleMs = opts.uploadIdleMs ?? 10_000;
    this.manifests = new ManifestLog({
      storage: opts.storage,
      paths: opts.paths,
      topic: opts.topic,
      partition: opts.partition,
      keep: opts.keepManifests,
      logger: opts.logger,
    });
  }

  get state(): WriterState {
    return this.stateValue;
  }

  /** True when `offset` is already durable or in the open window (a re-delivery to skip). */
  isProcessed(offset: bigint): boolean {
    return this.lastProcessed !== null && offset <= this.lastProcessed;
  }

  /** Wall-clock time at which the open window must be committed, or null when no window is open. */
  rotationDueAt(): number | null {
    return this.window ? this.window.openedAt + this.opts.rotation.maxAgeMs : null;
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
      if (this.stateValue !== 'new') throw new TweetpipeError('INTERNAL', `${this.label()}: recover() twice`);
      let latest = await this.manifests.latest();
      while (latest) {
        const pending = await this.unrenamed(latest);
        if (pending) {
          for (const f of pending) await this.rename(f);
          break;
        }
        // None of its files exists in any form: no reader ever saw this window, Kafka still has its records.
        this.opts.logger.warn(
          {
            topic: this.topic,
            partition: this.partition,
            startOffset: latest.startOffset,
            endOffset: latest.endOffset,
          },
          'rolling back a manifest whose files never landed (its writer lost its temp files to a new owner)',
        );
        await this.manifests.discard(latest);
        latest = await this.manifests.latest();
      }
      const end = latest ? BigInt(latest.endOffset) : null;
      this.foreignTempsLeft = await this.deleteObsoleteTemps(end);
      this.stateValue = 'idle';
      if (!latest || end === null) return null;
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
  write(items: WriteItem[]): Promise<void> {
    return this.serial(async () => {
      this.assertUsable();
      let records = 0;
      let bytes = 0;
      for (const item of items) {
        if (this.isProcessed(item.offset)) continue;
        if (this.lastProcessed !== null && item.offset > this.lastProcessed + 1n) this.checkGap(item.offset);
        const w = this.window ?? this.openWindow(item.offset);
        if (item.record) {
          await this.append(w, item.record);
          records++;
          bytes += item.record.value.length;
        }
        w.end = item.offset;
        this.lastProcessed = item.offset;
        const { maxRecords, maxBytes } = this.opts.rotation;
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
      this.assertUsable();
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
      if (this.stateValue === 'closed') return;
      if (!abort && this.stateValue !== 'failed') {
        await this.commit();
        // Empty now; without this _tmp keeps one directory per assignment until a recovery removes it.
        await this.deleteOwnTemps().catch(() => undefined);
      } else if (this.window) {
        this.abortUploads(this.window);
        if (!this.manifestAttempted) await this.discardWindow(this.window);
      }
      this.window = null;
      this.stateValue = 'closed';
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
      details: { ...e.details, topic: this.topic, partition: this.partition, state: this.stateValue },
    });
    if (this.stateValue !== 'closed') this.stateValue = 'failed';
    return this.failure;
  }

  private assertUsable(): void {
    if (this.failure) throw this.failure;
    if (this.stateValue === 'new' || this.stateValue === 'closed')
      throw new TweetpipeError('INTERNAL', `${this.label()}: writer is ${this.stateValue}`);
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
    const w: Window = {
      start: this.nextStart ?? firstOffset,
      end: firstOffset,
      openedAt: this.opts.clock(),
      files: new Map(),
      records: 0,
      bytes: 0,
    };
    this.window = w;
    this.manifestAttempted = false;
    this.stateValue = 'writing';
    return w;
  }

  private async append(w: Window, record: SinkRecord): Promise<void> {
    const dir = this.opts.partitioner.path(record);
    let file = w.files.get(dir);
    if (!file) {
      const { paths, writerId, format } = this.opts;
      file = {
        dir,
        tmp: paths.tmpFile(this.topic, this.partition, writerId, w.start, w.files.size, format.extension),
        encoder: format.open(),
        records: 0,
        firstOffset: record.offset,
        lastOffset: record.offset,
        persisted: 0,
        created: false,
        upload: null,
        tail: Promise.resolve(),
        aborted: false,
        inFlight: 0,
      };
      w.files.set(dir, file);
    }
    file.encoder.write(record);
    record.releaseDoc?.();
    file.records++;
    file.lastOffset = record.offset;
    w.records++;
    w.bytes += record.value.length;
    if (file.encoder.wantsFlush) {
      if (file.inFlight >= this.maxInFlight) await file.tail;
      this.schedule(file, file.encoder.flush());
    }
  }

  /**
   * Queues the persistence of a chunk that is still being encoded (gzip runs on the thread pool), so encoding,
   * HDFS uploads and the next records overlap; chunks are persisted in order.
   */
  private schedule(file: TempFile, chunk: Promise<Uint8Array>): void {
    file.inFlight++;
    this.chain(file, async () => {
      try {
        await this.send(file, await chunk);
      } finally {
        file.inFlight--;
      }
    });
    chunk.catch(() => undefined);
  }

  private chain(file: TempFile, step: () => Promise<void>): void {
    file.tail = file.tail.then(step);
    // Failures surface at the next await of the tail; this only keeps them from being reported as unhandled.
    file.tail.catch(() => undefined);
  }

  /**
   * Writes a chunk into the file's open upload, opening one when there is none (a create, then appends): a file
   * is one long request while records flow, not one request per chunk (an HDFS append costs ~30 ms of pipeline
   * setup whatever its size; streaming doubled the write rate of one file). Waits while the upload is behind.
   */
  private async send(file: TempFile, bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    if (file.aborted) throw new TweetpipeError('INTERNAL', `${this.label()}: window aborted`);
    const upload = file.upload ?? this.startUpload(file);
    if (upload.failure) throw upload.failure;
    upload.bytes += bytes.length;
    upload.lastWriteAt = this.opts.clock();
    if (upload.body.write(bytes)) return;
    const drained = new AbortController();
    try {
      await Promise.race([
        once(upload.body, 'drain', { signal: drained.signal }),
        upload.done.then(() => {
          throw new TweetpipeError('INTERNAL', `${this.label()}: the upload of ${file.tmp} ended early`);
        }),
      ]);
    } finally {
      drained.abort();
    }
  }

  private startUpload(file: TempFile): Upload {
    const body = new PassThrough({ highWaterMark: UPLOAD_BUFFER_BYTES });
    const { storage } = this.opts;
    const upload: Upload = {
      body,
      done: file.created
        ? storage.append(file.tmp, body)
        : storage.create(file.tmp, body, { overwrite: true }),
      failure: undefined,
      bytes: 0,
      lastWriteAt: this.opts.clock(),
    };
    upload.done.catch((err: unknown) => {
      upload.failure = err;
    });
    // An abort fails the body; until the upload pipes it (after the NameNode step) nothing else listens.
    body.on('error', (err) => {
      upload.failure ??= err;
    });
    file.created = true;
    file.upload = upload;
    return upload;
  }

  /** Ends the file's upload and waits for HDFS to confirm it: its bytes are then durable. */
  private async endUpload(file: TempFile): Promise<void> {
    const upload = file.upload;
    if (!upload) return;
    file.upload = null;
    upload.body.end();
    await upload.done;
    file.persisted += upload.bytes;
  }

  /** Ends the uploads that received nothing for uploadIdleMs (they reopen as appends when records come). */
  private async endIdleUploads(nowMs: number): Promise<void> {
    if (!this.window) return;
    for (const file of this.window.files.values()) {
      if (file.upload && nowMs - file.upload.lastWriteAt >= this.uploadIdleMs) {
        this.chain(file, () => this.endUpload(file));
        await file.tail;
      }
    }
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

    this.stateValue = 'rotating';
    const files = [...w.files.values()];
    for (const f of files) {
      this.schedule(f, f.encoder.finish());
      this.chain(f, () => this.endUpload(f));
    }
    await Promise.all(files.map((f) => f.tail));
    for (const f of files) await this.checkTempFile(f);

    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      topic,
      partition,
      startOffset: w.start.toString(),
      endOffset: w.end.toString(),
      files: files.map((f) => ({
        tmp: f.tmp,
        final: paths.committedFile(
          topic,
          f.dir,
          committedFileName(topic, partition, f.firstOffset, f.lastOffset, this.opts.format.extension),
        ),
        records: f.records,
        bytes: f.persisted,
        firstOffset: f.firstOffset.toString(),
        lastOffset: f.lastOffset.toString(),
      })),
      createdAt: new Date(this.opts.clock()).toISOString(),
      writerId: this.opts.writerId,
    };
    this.manifestAttempted = true;
    let prunable: string[];
    try {
      prunable = await this.manifests.commit(manifest);
    } catch (err) {
      // Fenced: the manifest is not ours (or was removed again), so the temp files are garbage.
      if (err instanceof TweetpipeError && err.code === 'FENCED') {
        this.manifestAttempted = false;
        await this.deleteOwnTemps();
      }
      throw err;
    }
    this.stateValue = 'manifest-written';

    for (const f of manifest.files) await this.rename(f);
    this.stateValue = 'renamed';
    await this.manifests.prune(prunable);
    if (this.foreignTempsLeft) await this.cleanUpAfterCommit(w.end);

    this.stateValue = 'committed';
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
    this.stateValue = 'idle';
  }

  /**
   * The files of a recovered manifest that still need their rename, or null when none of them exists in any
   * form (a void window). Some renamed and others lost is an inconsistency no recovery can repair.
   *
   * The manifest's writer may be renaming right now: a file found under neither name is looked up once more under
   * its final name, or a rename between the two looks would roll back a window that readers already see.
   */
  private async unrenamed(m: Manifest): Promise<ManifestFile[] | null> {
    const { storage } = this.opts;
    const pending: ManifestFile[] = [];
    const lost: ManifestFile[] = [];
    for (const f of m.files) {
      const final = await storage.status(f.final);
      const tmp = final ? null : await storage.status(f.tmp);
      const renamed = final ?? (tmp ? null : await storage.status(f.final));
      if (renamed) checkSize(f.final, renamed.length, f.bytes);
      else if (tmp) {
        checkSize(f.tmp, tmp.length, f.bytes);
        pending.push(f);
      } else lost.push(f);
    }
    if (lost.length === 0) return pending;
    if (lost.length === m.files.length) return null;
    throw new TweetpipeError(
      'HDFS_NOT_FOUND',
      `inconsistent state: neither the temp file nor the final file exists for ${lost.map((f) => f.final).join(', ')}`,
      { details: { manifestStart: m.startOffset, lost: lost.map((f) => f.final) } },
    );
  }

  /**
   * Deletes the other writers' temp files that belong to windows starting at or below `committedEnd` (no
   * manifest can ever name them), and their directories once empty. Returns whether any temp file was left.
   * A directory delete is not recursive: a zombie that creates a file in it meanwhile keeps the directory.
   */
  private async deleteObsoleteTemps(committedEnd: bigint | null): Promise<boolean> {
    const { storage, paths, writerId } = this.opts;
    const partitionDir = paths.partitionTmpDir(this.topic, this.partition);
    let left = false;
    for (const writerDir of await storage.list(partitionDir)) {
      if (writerDir.name === writerId) continue;
      const dir = `${partitionDir}/${writerDir.name}`;
      let kept = 0;
      for (const f of writerDir.type === 'DIRECTORY' ? await storage.list(dir) : []) {
        const start = parseTempFileWindowStart(f.name);
        // A name no writer gives is nobody's temp file.
        if (start === null || (committedEnd !== null && start <= committedEnd))
          await storage.delete(`${dir}/${f.name}`, true);
        else kept++;
      }
      if (kept > 0) left = true;
      else
        await storage.delete(dir).catch(() => {
          left = true;
        });
    }
    return left;
  }

  /** The window is committed whatever happens here: a failed cleanup is retried after the next commit. */
  private async cleanUpAfterCommit(committedEnd: bigint): Promise<void> {
    try {
      this.foreignTempsLeft = await this.deleteObsoleteTemps(committedEnd);
    } catch (err) {
      this.opts.logger.warn(
        { err, topic: this.topic, partition: this.partition },
        'could not delete obsolete temp files (retried after the next commit)',
      );
    }
  }

  /** Gives a temp file its final name, accepting a rename that another writer (or a lost reply) already did. */
  private async rename(f: ManifestFile): Promise<void> {
    const { storage } = this.opts;
    await storage.mkdirs(f.final.slice(0, f.final.lastIndexOf('/')));
    if (await storage.rename(f.tmp, f.final)) return;
    const final = await storage.status(f.final);
    if (final) return checkSize(f.final, final.length, f.bytes);
    const tmp = await storage.status(f.tmp);
    throw new TweetpipeError(
      tmp ? 'HDFS_RENAME_FAILED' : 'HDFS_NOT_FOUND',
      tmp
        ? `cannot rename ${f.tmp} to ${f.final}`
        : `inconsistent state: neither ${f.tmp} nor ${f.final} exists for a committed manifest`,
      { details: { tmp: f.tmp, final: f.final } },
    );
  }

  /**
   * A temp file must hold exactly the bytes this writer persisted before a manifest may name it. Missing means
   * a new owner of the partition deleted it (this writer is a zombie); a wrong size means an append went
   * through twice or not at all.
   */
  private async checkTempFile(f: TempFile): Promise<void> {
    const st = await this.opts.storage.status(f.tmp);
    if (!st)
      throw new TweetpipeError(
        'FENCED',
        `${this.label()}: temp file ${f.tmp} was removed, another writer owns the partition`,
        {
          details: { tmp: f.tmp },
        },
      );
    checkSize(f.tmp, st.length, f.persisted);
  }

  /** Fails the open requests, so that the DataNode drops them now rather than after a socket timeout. */
  private abortUploads(w: Window): void {
    for (const f of w.files.values()) {
      f.aborted = true;
      f.upload?.body.destroy(new TweetpipeError('INTERNAL', `${this.label()}: window aborted`));
      f.upload = null;
    }
  }

  private async discardWindow(w: Window): Promise<void> {
    await Promise.allSettled([...w.files.values()].map((f) => f.tail));
    await this.deleteOwnTemps();
  }

  private async deleteOwnTemps(): Promise<void> {
    const { storage, paths, writerId } = this.opts;
    await storage.delete(paths.writerTmpDir(this.topic, this.partition, writerId), true);
  }
}

function checkSize(path: string, actual: number, expected: number): void {
  if (actual !== expected)
    throw new TweetpipeError('INTERNAL', `${path} has ${actual} bytes where ${expected} were written`, {
      details: { path, actual, expected },
    });
}
