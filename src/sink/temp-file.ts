/**
 * One temp file of a window and its streaming upload: records are encoded into the file's encoder, and the chunks
 * the encoder hands out are written, in order, into one long WebHDFS request (a create, then appends) while records
 * flow. An HDFS append costs ~30 ms of pipeline setup whatever its size; streaming doubled the write rate of one
 * file against one request per chunk.
 *
 * Its bytes count as durable (`persisted`) only once HDFS answered the request that carried them. An upload that
 * received nothing for a while is ended (endIfIdle), so that no request outlives the WebHDFS client's socket
 * timeout while a quiet window waits for its age rotation; the next chunk opens an append.
 *
 * Memory: the encoder holds at most flushBytes (a Parquet row group), plus maxInFlight chunks on their way to
 * HDFS and an upload buffer of ~1 MB. An encoder that reuses its chunks' memory (RecordEncoder.release) gets each
 * chunk back once the storage reported its bytes sent (the socket took them), never earlier.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { SINK_DEFAULTS } from '../config/sink.ts';
import { TweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import type { RecordEncoder } from './formats/format.ts';
import type { SinkRecord } from './sink-record.ts';

/** One streaming create or append request of a temp file. */
interface Upload {
  body: PassThrough;
  /** Settles with HDFS's answer, once the body has ended (or the request failed). */
  done: Promise<void>;
  failure: unknown;
  /** Bytes written into the body. */
  bytes: number;
  lastWriteAt: number;
  /** Chunks written into the body whose bytes the storage has not all sent on yet, oldest first. */
  unsent: Uint8Array[];
  /** Bytes of unsent[0] already sent on. */
  sentOfFirst: number;
}

export interface TempFileOptions {
  storage: Storage;
  /** Output directory (relative to the topic) whose final file this temp file becomes. */
  dir: string;
  /** Path of the temp file. */
  tmp: string;
  encoder: RecordEncoder;
  firstOffset: bigint;
  /** Chunks in flight to HDFS before add() waits. */
  maxInFlight: number;
  clock: () => number;
  /** Names the partition in errors (`topic/partition`). */
  label: string;
}

export class TempFile {
  readonly dir: string;
  readonly tmp: string;
  readonly firstOffset: bigint;
  lastOffset: bigint;
  records = 0;
  /** Bytes durable in HDFS: those of the uploads that completed. */
  persisted = 0;
  private readonly opts: TempFileOptions;
  private readonly encoder: RecordEncoder;
  private created = false;
  /** The upload that is taking the file's next chunks, if one is open. */
  private upload: Upload | null = null;
  /** Flushes run in order; each link sends one chunk (or ends the upload). */
  private tail: Promise<void> = Promise.resolve();
  /** Set when the window is aborted: chunks still queued must not open a new upload. */
  private aborted = false;
  private inFlight = 0;
  private encoding = 0;
  /** The chunks being encoded. */
  private readonly encodings = new Set<Promise<unknown>>();

  constructor(opts: TempFileOptions) {
    this.opts = opts;
    this.dir = opts.dir;
    this.tmp = opts.tmp;
    this.encoder = opts.encoder;
    this.firstOffset = opts.firstOffset;
    this.lastOffset = opts.firstOffset;
  }

  /** Bytes the encoder holds (uncompressed). */
  get bufferedBytes(): number {
    return this.encoder.bufferedBytes;
  }

  /**
   * Bytes the encoder handed out whose chunk is still being encoded (jsonl.gz: blocks waiting for, or in, a
   * compression on the thread pool): they are still in memory, uncompressed.
   */
  get encodingBytes(): number {
    return this.encoding;
  }

  /** Resolves once every chunk handed out so far is encoded (whatever the outcome: the upload reports failures). */
  async encoded(): Promise<void> {
    await Promise.all(this.encodings);
  }

  /**
   * Encodes a record; when the encoder has a chunk ready, queues its upload. Returns a promise to await before
   * the next add() when maxInFlight chunks are queued (synchronous otherwise: no promise per record).
   */
  add(record: SinkRecord): Promise<void> | undefined {
    this.encoder.write(record);
    this.records++;
    this.lastOffset = record.offset;
    return this.encoder.wantsFlush ? this.flush(false) : undefined;
  }

  /**
   * Queues the upload of what the encoder can hand out (with `all`, everything it holds, so that it keeps no
   * buffer). Returns a promise to await when maxInFlight chunks were already queued.
   */
  flush(all: boolean): Promise<void> | undefined {
    const take = () => this.schedule(() => (all ? this.encoder.flushAll() : this.encoder.flush()));
    if (this.inFlight < this.opts.maxInFlight) {
      take();
      return undefined;
    }
    return this.tail.then(take);
  }

  /** Hands the encoder's last bytes to the upload and ends it: once this resolves, `persisted` is final. */
  async finish(): Promise<void> {
    this.schedule(() => this.encoder.finish());
    this.chain(() => this.endUpload());
    await this.tail;
  }

  /** Ends the upload when it received nothing for idleMs (it reopens as an append when records come). */
  async endIfIdle(nowMs: number, idleMs: number): Promise<void> {
    if (this.upload && nowMs - this.upload.lastWriteAt >= idleMs) {
      this.chain(() => this.endUpload());
      await this.tail;
    }
  }

  /** Fails the open request, so that the DataNode drops it now rather than after a socket timeout. */
  abort(): void {
    this.aborted = true;
    this.upload?.body.destroy(new TweetpipeError('INTERNAL', `${this.opts.label}: window aborted`));
    this.upload = null;
  }

  /** Resolves once no queued chunk is running any more, whatever its outcome. */
  async settled(): Promise<void> {
    await this.tail.catch(() => undefined);
  }

  /**
   * Takes a chunk from the encoder and queues its persistence while it is still being encoded (gzip runs on the
   * thread pool), so encoding, HDFS uploads and the next records overlap; chunks are persisted in order.
   */
  private schedule(take: () => Promise<Uint8Array>): void {
    const held = this.encoder.bufferedBytes;
    const chunk = take();
    const handedOut = held - this.encoder.bufferedBytes;
    this.encoding += handedOut;
    const settle = () => {
      this.encoding -= handedOut;
      this.encodings.delete(encoded);
    };
    const encoded = chunk.then(settle, settle);
    this.encodings.add(encoded);
    this.inFlight++;
    this.chain(async () => {
      try {
        await this.send(await chunk);
      } finally {
        this.inFlight--;
      }
    });
    chunk.catch(() => undefined);
  }

  private chain(step: () => Promise<void>): void {
    this.tail = this.tail.then(step);
    // Failures surface at the next await of the tail; this only keeps them from being reported as unhandled.
    this.tail.catch(() => undefined);
  }

  /** Writes a chunk into the open upload, opening one when there is none. Waits while the upload is behind. */
  private async send(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    if (this.aborted) throw new TweetpipeError('INTERNAL', `${this.opts.label}: window aborted`);
    const upload = this.upload ?? this.startUpload();
    if (upload.failure) throw upload.failure;
    upload.bytes += bytes.length;
    upload.lastWriteAt = this.opts.clock();
    if (this.encoder.release) upload.unsent.push(bytes);
    if (upload.body.write(bytes)) return;
    const drained = new AbortController();
    try {
      await Promise.race([
        once(upload.body, 'drain', { signal: drained.signal }),
        upload.done.then(() => {
          throw new TweetpipeError('INTERNAL', `${this.opts.label}: the upload of ${this.tmp} ended early`);
        }),
      ]);
    } finally {
      drained.abort();
    }
  }

  private startUpload(): Upload {
    const body = new PassThrough({ highWaterMark: SINK_DEFAULTS.uploadBufferBytes });
    const { storage } = this.opts;
    const upload: Upload = {
      body,
      done: Promise.resolve(),
      failure: undefined,
      bytes: 0,
      lastWriteAt: this.opts.clock(),
      unsent: [],
      sentOfFirst: 0,
    };
    // An encoder that reuses its chunks' memory gets each back once the storage no longer reads it.
    const options = this.encoder.release ? { sent: (bytes: number) => this.releaseSent(upload, bytes) } : {};
    upload.done = this.created
      ? storage.append(this.tmp, body, options)
      : storage.create(this.tmp, body, { overwrite: true, ...options });
    upload.done.catch((err: unknown) => {
      upload.failure = err;
    });
    // An abort fails the body; until the upload pipes it (after the NameNode step) nothing else listens.
    body.on('error', (err) => {
      upload.failure ??= err;
    });
    this.created = true;
    this.upload = upload;
    return upload;
  }

  /** Gives the encoder back the chunks whose bytes the upload has all sent on. */
  private releaseSent(upload: Upload, bytes: number): void {
    let sent = upload.sentOfFirst + bytes;
    let first = upload.unsent[0];
    while (first && sent >= first.length) {
      sent -= first.length;
      upload.unsent.shift();
      this.encoder.release?.(first);
      first = upload.unsent[0];
    }
    upload.sentOfFirst = sent;
  }

  /** Ends the upload and waits for HDFS to confirm it: its bytes are then durable. */
  private async endUpload(): Promise<void> {
    const upload = this.upload;
    if (!upload) return;
    this.upload = null;
    upload.body.end();
    await upload.done;
    this.persisted += upload.bytes;
  }
}
