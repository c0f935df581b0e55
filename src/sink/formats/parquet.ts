/**
 * Parquet through hyparquet-writer: rows are buffered column-wise and encoded one row group at a time, so a
 * file is appended to HDFS row group by row group and only one row group per open file is held in memory.
 * Compression is zstd (native, faster and smaller than the pure-JS snappy that hyparquet-writer ships) through the
 * OS's libzstd with one context per thread (src/libzstd.ts), else through Node's own zlib binding; snappy on request.
 */
import { zstdCompressSync } from 'node:zlib';
import type { CompressionCodec } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { libzstdPageCompressor, type PageCompressor } from '../../libzstd.ts';
import type { SinkRecord } from '../sink-record.ts';
import type { Format, RecordEncoder } from './format.ts';
import { TweetColumnBuilder, tweetSchema } from './tweet-columns.ts';

export type ParquetCodec = 'ZSTD' | 'SNAPPY';

export interface ParquetOptions {
  codec?: ParquetCodec;
  /** Rows per row group (default 100k, a size Spark, Trino and DuckDB scan well). */
  rowGroupRows?: number;
  /** Uncompressed value bytes that also close a row group, bounding memory (default 128 MiB). */
  rowGroupBytes?: number;
}

const EMPTY = new Uint8Array(0);
const CREATED_BY = 'tweetpipe (hyparquet-writer)';
/** zstd's default level, what zstdCompressSync uses: both engines write the same bytes. */
const ZSTD_LEVEL = 3;

let pageZstd: PageCompressor | undefined;

/** The thread's zstd page compressor, chosen on first use: libzstd when it loads, else node:zlib (same bytes). */
function zstd(page: Uint8Array): Uint8Array {
  if (!pageZstd) {
    try {
      pageZstd = libzstdPageCompressor(ZSTD_LEVEL);
    } catch {
      pageZstd = (input) => zstdCompressSync(input);
    }
  }
  return pageZstd(page);
}

class ParquetEncoder implements RecordEncoder {
  private readonly out = new ByteWriter();
  private readonly writer: ParquetWriter;
  private readonly rowGroupRows: number;
  private readonly rowGroupBytes: number;
  private readonly columns = new TweetColumnBuilder();
  private size = 0;

  constructor(opts: Required<ParquetOptions>) {
    this.rowGroupRows = opts.rowGroupRows;
    this.rowGroupBytes = opts.rowGroupBytes;
    const codec: CompressionCodec = opts.codec;
    this.writer = new ParquetWriter({
      writer: this.out,
      schema: tweetSchema(),
      codec,
      compressors: { ZSTD: zstd },
      createdBy: CREATED_BY,
    });
  }

  get bufferedBytes(): number {
    return this.size;
  }

  get wantsFlush(): boolean {
    return this.columns.rows >= this.rowGroupRows || this.size >= this.rowGroupBytes;
  }

  write(record: SinkRecord): void {
    this.columns.add(record);
    this.size += record.value.length;
  }

  async flush(): Promise<Uint8Array> {
    this.writeRowGroup();
    return this.take();
  }

  flushAll(): Promise<Uint8Array> {
    return this.flush();
  }

  async finish(): Promise<Uint8Array> {
    this.writeRowGroup();
    this.writer.finish();
    return this.take();
  }

  /** Encodes the rows held as one row group. */
  private writeRowGroup(): void {
    const rows = this.columns.rows;
    if (rows === 0) return;
    this.writer.write({ columnData: this.columns.columnData(), rowGroupSize: rows });
    this.keepStatistics();
    this.columns.clear();
    this.size = 0;
  }

  /**
   * The min and max of a string column are views of the builder's buffers, which the next row group overwrites,
   * while the footer that holds them is written at finish: copy them now.
   */
  private keepStatistics(): void {
    for (const { meta_data } of this.writer.row_groups.at(-1)?.columns ?? []) {
      const stats = meta_data?.statistics;
      if (stats?.min_value instanceof Uint8Array) stats.min_value = stats.min_value.slice();
      if (stats?.max_value instanceof Uint8Array) stats.max_value = stats.max_value.slice();
    }
  }

  /** Copies out what the ByteWriter holds and rewinds it; `offset` keeps counting for the footer. */
  private take(): Uint8Array {
    if (this.out.index === 0) return EMPTY;
    const bytes = this.out.getBytes().slice();
    this.out.index = 0;
    return bytes;
  }
}

export function parquetFormat(opts: ParquetOptions = {}): Format {
  const resolved: Required<ParquetOptions> = {
    codec: opts.codec ?? 'ZSTD',
    rowGroupRows: opts.rowGroupRows ?? 100_000,
    rowGroupBytes: opts.rowGroupBytes ?? 128 * 1024 * 1024,
  };
  return { name: 'parquet', extension: 'parquet', open: () => new ParquetEncoder(resolved) };
}
