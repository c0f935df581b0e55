/**
 * The output format contract: an encoder turns records into the bytes of one file, handing them out in chunks
 * so that the partition writer can append to HDFS while memory stays bounded.
 */
import type { SinkRecord } from '../sink-record.ts';

export type FormatName = 'jsonl' | 'jsonl.gz' | 'parquet';

export interface RecordEncoder {
  /** Adds one record (synchronous: the CPU work of a format is cheap per record or deferred to flush). */
  write(record: SinkRecord): void;
  /** Bytes held in memory and not yet handed out (uncompressed size for compressed formats). */
  readonly bufferedBytes: number;
  /** True when the encoder holds enough for a flush (flushBytes, a full JSONL block, or a full Parquet row group). */
  readonly wantsFlush: boolean;
  /** Hands out the bytes that can be persisted now (possibly empty); the file continues. */
  flush(): Promise<Uint8Array>;
  /**
   * Hands out every byte it holds, so that it keeps no buffer (a Parquet row group closes early); the file
   * continues. The writer calls it when the open files of a window together hold too much.
   */
  flushAll(): Promise<Uint8Array>;
  /** Ends the file and hands out its remaining bytes. The encoder is unusable afterwards. */
  finish(): Promise<Uint8Array>;
  /**
   * Told that nothing reads a chunk it handed out any more (the upload's socket took its bytes), so that it may
   * reuse the chunk's memory. Called at most once per chunk, and never for a chunk that may still be read. Optional:
   * an encoder that reuses nothing has none.
   */
  release?(chunk: Uint8Array): void;
}

export interface Format {
  readonly name: FormatName;
  /** File name extension without the dot: `jsonl`, `jsonl.gz`, `parquet`. */
  readonly extension: string;
  /** Starts a new file. */
  open(): RecordEncoder;
}
