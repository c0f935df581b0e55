/**
 * The output format contract: an encoder turns records into the bytes of one file, handing them out in chunks
 * so that the partition writer can append to HDFS while memory stays bounded.
 */
import { TweetpipeError } from '../../errors.ts';
import type { SinkRecord } from '../sink-record.ts';
import { jsonlFormat, jsonlGzipFormat } from './jsonl.ts';
import { type ParquetOptions, parquetFormat } from './parquet.ts';

export type FormatName = 'jsonl' | 'jsonl.gz' | 'parquet';

export interface RecordEncoder {
  /** Adds one record (synchronous: the CPU work of a format is cheap per record or deferred to flush). */
  write(record: SinkRecord): void;
  /** Bytes held in memory and not yet handed out (uncompressed size for compressed formats). */
  readonly bufferedBytes: number;
  /** True when the encoder holds enough for a flush (flushBytes, or a full Parquet row group). */
  readonly wantsFlush: boolean;
  /** Hands out the bytes that can be persisted now (possibly empty); the file continues. */
  flush(): Promise<Uint8Array>;
  /** Ends the file and hands out its remaining bytes. The encoder is unusable afterwards. */
  finish(): Promise<Uint8Array>;
}

export interface Format {
  readonly name: FormatName;
  /** File name extension without the dot: `jsonl`, `jsonl.gz`, `parquet`. */
  readonly extension: string;
  /** Starts a new file. */
  open(): RecordEncoder;
}

export interface FormatOptions {
  /** Uncompressed bytes a JSONL encoder gathers before a flush. */
  flushBytes: number;
  gzipLevel?: number;
  parquet?: ParquetOptions;
}

const positiveInt = (v: number | undefined): boolean => v === undefined || (Number.isSafeInteger(v) && v > 0);

export function createFormat(name: FormatName, opts: FormatOptions): Format {
  const { gzipLevel, parquet } = opts;
  const problem = !positiveInt(opts.flushBytes)
    ? `flushBytes must be a positive integer (got ${opts.flushBytes})`
    : gzipLevel !== undefined && !(Number.isInteger(gzipLevel) && gzipLevel >= 0 && gzipLevel <= 9)
      ? `gzipLevel must be 0..9 (got ${gzipLevel})`
      : !positiveInt(parquet?.rowGroupRows) || !positiveInt(parquet?.rowGroupBytes)
        ? 'parquet row group limits must be positive integers'
        : null;
  if (problem) throw new TweetpipeError('CONFIG_INVALID', `format ${name}: ${problem}`);
  switch (name) {
    case 'jsonl':
      return jsonlFormat(opts.flushBytes);
    case 'jsonl.gz':
      return jsonlGzipFormat(opts.flushBytes, opts.gzipLevel);
    case 'parquet':
      return parquetFormat(opts.parquet);
  }
}
