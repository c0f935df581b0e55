/**
 * The rows of a committed file, per format, for rewriting: compaction concatenates the rows of several files into
 * one, compliance keeps the rows whose tweet id is not deleted.
 *
 * - JSON Lines (and gzip): a row is a line, copied byte for byte (no re-serialisation, like the sink).
 * - Parquet: a row is a record of the flat tweet schema, decoded by hyparquet and encoded again in row groups of
 *   the sink's size with the sink's schema and codec, so a merged file reads like one the sink wrote.
 */
import { promisify } from 'node:util';
import { gunzip, gzip, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { SINK_DEFAULTS } from '../config/sink.ts';
import { TweetpipeError } from '../errors.ts';
import { TWEET_COLUMNS, tweetSchema } from '../sink/formats/tweet-columns.ts';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

/** Rows of one file, each with the tweet id it holds. */
export interface FileRows {
  readonly ids: string[];
  /** The rows at the given positions, in order. */
  pick(keep: (index: number) => boolean): unknown[];
}

export interface RowCodec {
  read(bytes: Buffer, path: string): Promise<FileRows>;
  /** The bytes of one file holding `rows` (rows of files this codec read). */
  write(rows: unknown[]): Promise<Uint8Array>;
}

function idOf(line: Buffer, path: string, index: number): string {
  let id: unknown;
  try {
    id = (JSON.parse(line.toString('utf8')) as { id?: unknown }).id;
  } catch {
    id = undefined;
  }
  if (typeof id !== 'string')
    throw new TweetpipeError(
      'INTERNAL',
      `${path}: line ${index + 1} is not a tweet record with a string id`,
      {
        details: { path, line: index + 1 },
      },
    );
  return id;
}

function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
    lines.push(bytes.subarray(start, nl));
    start = nl + 1;
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines;
}

function jsonlRows(bytes: Buffer, path: string): FileRows {
  const lines = splitLines(bytes);
  return { ids: lines.map((l, i) => idOf(l, path, i)), pick: (keep) => lines.filter((_, i) => keep(i)) };
}

function joinLines(rows: unknown[]): Buffer {
  const parts: Buffer[] = [];
  for (const row of rows) parts.push(row as Buffer, NEWLINE);
  return Buffer.concat(parts);
}
const NEWLINE = Buffer.from('\n');

const jsonl: RowCodec = {
  read: async (bytes, path) => jsonlRows(bytes, path),
  write: async (rows) => joinLines(rows),
};

const jsonlGz: RowCodec = {
  read: async (bytes, path) => jsonlRows(await gunzipAsync(bytes), path),
  write: async (rows) => gzipAsync(joinLines(rows), { level: SINK_DEFAULTS.gzipLevel }),
};

/** The sink's row group size (src/sink/formats/parquet.ts): readers see merged files like the sink's own. */
const ROW_GROUP_ROWS = 100_000;
const CREATED_BY = 'tweetpipe compact (hyparquet-writer)';

const parquet: RowCodec = {
  async read(bytes, path) {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    const rows = (await parquetReadObjects({
      file,
      compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) },
    })) as Record<string, unknown>[];
    const ids = rows.map((r, i) => {
      if (typeof r.id !== 'string')
        throw new TweetpipeError('INTERNAL', `${path}: row ${i + 1} has no string id`, { details: { path } });
      return r.id;
    });
    return { ids, pick: (keep) => rows.filter((_, i) => keep(i)) };
  },
  async write(rows) {
    const writer = new ParquetRowWriter();
    const head = writer.add(rows);
    return Buffer.concat([head, writer.finish()]);
  },
};

/**
 * Parquet rows encoded into row groups of the sink's size, with the sink's schema and codec, the bytes of each row
 * group handed out as soon as it is full: a merge holds at most one row group of rows, whatever its file's size.
 */
export class ParquetRowWriter {
  private readonly out = new ByteWriter();
  private readonly writer = new ParquetWriter({
    writer: this.out,
    schema: tweetSchema(),
    codec: 'ZSTD',
    compressors: { ZSTD: (input: Uint8Array) => zstdCompressSync(input) },
    createdBy: CREATED_BY,
  });
  private pending: Record<string, unknown>[] = [];

  /** Adds rows (of files the parquet codec read); returns the bytes of the row groups they filled, maybe none. */
  add(rows: unknown[]): Uint8Array {
    for (const row of rows) {
      this.pending.push(row as Record<string, unknown>);
      if (this.pending.length === ROW_GROUP_ROWS) this.writeRowGroup();
    }
    return this.take();
  }

  /** Ends the file: the last row group and the footer. */
  finish(): Uint8Array {
    this.writeRowGroup();
    this.writer.finish();
    return this.take();
  }

  private writeRowGroup(): void {
    const group = this.pending;
    if (group.length === 0) return;
    this.pending = [];
    this.writer.write({
      columnData: TWEET_COLUMNS.map((c) => ({
        name: c.name,
        data: group.map((r) => r[c.name] ?? null),
        ...(c.statistics === false ? { statistics: false } : {}),
      })),
      rowGroupSize: group.length,
    });
  }

  /** Copies out what the ByteWriter holds and rewinds it; its `offset` keeps counting for the footer. */
  private take(): Uint8Array {
    const bytes = this.out.getBytes().slice();
    this.out.index = 0;
    return bytes;
  }
}

/** The codec of a committed file's extension (`jsonl`, `jsonl.gz`, `parquet`). */
export function rowCodec(extension: string): RowCodec {
  const codec = { jsonl, 'jsonl.gz': jsonlGz, parquet }[extension];
  if (!codec) throw new TweetpipeError('INTERNAL', `no row codec for .${extension} files`);
  return codec;
}
