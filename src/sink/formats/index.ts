/**
 * The formats by name: createFormat checks the options and returns the format the config names. The contract the
 * formats implement is in format.ts (which imports none of them, so there is no import cycle).
 */
import { TweetpipeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Format, FormatName } from './format.ts';
import { jsonlFormat, jsonlGzipFormat } from './jsonl.ts';
import { type ParquetOptions, parquetFormat } from './parquet.ts';

export interface FormatOptions {
  /** Uncompressed bytes a JSONL encoder gathers before a flush. */
  flushBytes: number;
  gzipLevel?: number;
  parquet?: ParquetOptions;
  /** Told which gzip engine jsonl.gz uses (libdeflate or node:zlib), once per process. */
  logger?: Logger;
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
      return jsonlGzipFormat(opts.flushBytes, opts.gzipLevel, opts.logger ? { logger: opts.logger } : {});
    case 'parquet':
      return parquetFormat(opts.parquet);
  }
}
