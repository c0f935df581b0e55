/**
 * The merged file of a compaction group, streamed to its temp path one input at a time (one create whose body is
 * read from the inputs as the upload goes), so that memory holds about one input file, never the whole group (up
 * to --target-size). One streamed create, not a create and an append per input: appends cost a NameNode call
 * and a DataNode pipeline each, and made merges of 60 inputs about 1.5x slower (docs/benchmarks.md).
 *
 * - jsonl: the inputs' bytes, concatenated. Every line the sink commits ends with '\n' (src/sink/formats/jsonl.ts),
 *   so the concatenation is the inputs' lines in order, byte for byte.
 * - jsonl.gz: the inputs' gzip members, concatenated: a series of members is one valid gzip file (RFC 1952 §2.2)
 *   that gunzip, Node's zlib, Hadoop's GzipCodec (Spark, Hive) and DuckDB read whole; the sink's own files are
 *   such series already. Nothing is compressed again.
 * - parquet: rows are decoded input by input and encoded again in row groups of the sink's size; each row group
 *   is sent as soon as it is full, so memory holds one input's rows and one row group.
 *
 * The record count (the job manifest's) is the number of lines, counted on the decompressed stream for gzip.
 * An input whose last line lacks its '\n' (not a file the sink wrote) gets one, so its last record and the next
 * input's first stay two lines.
 */
import { Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import type { Storage } from '../hdfs/storage.ts';
import { ParquetRowWriter, rowCodec } from './file-rows.ts';

const NEWLINE = 0x0a;
const LINE_END = Buffer.from('\n');
const GZIP_LINE_END = gzipSync(LINE_END);

export interface MergedFile {
  records: number;
  bytes: number;
}

interface Tally {
  records: number;
  bytes: number;
}

interface Lines {
  count: number;
  endsWithNewline: boolean;
}

function countLines(chunk: Uint8Array, into: Lines): void {
  if (chunk.length === 0) return;
  for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, nl + 1)) into.count++;
  into.endsWithNewline = chunk[chunk.length - 1] === NEWLINE;
}

/** Lines of a JSON Lines file; a last line without '\n' is counted too. */
async function linesOf(bytes: Buffer, gzipped: boolean): Promise<Lines> {
  const lines: Lines = { count: 0, endsWithNewline: true };
  if (!gzipped) countLines(bytes, lines);
  else for await (const chunk of Readable.from([bytes]).pipe(createGunzip())) countLines(chunk, lines);
  if (!lines.endsWithNewline) lines.count++;
  return lines;
}

async function* concatenatedLines(
  storage: Storage,
  inputs: string[],
  gzipped: boolean,
  tally: Tally,
): AsyncGenerator<Uint8Array> {
  for (const path of inputs) {
    const bytes = await storage.read(path);
    const lines = await linesOf(bytes, gzipped);
    tally.records += lines.count;
    yield bytes;
    if (!lines.endsWithNewline) yield gzipped ? GZIP_LINE_END : LINE_END;
  }
}

async function* reencodedParquet(
  storage: Storage,
  inputs: string[],
  tally: Tally,
): AsyncGenerator<Uint8Array> {
  const codec = rowCodec('parquet');
  const writer = new ParquetRowWriter();
  for (const path of inputs) {
    const rows = (await codec.read(await storage.read(path), path)).pick(() => true);
    tally.records += rows.length;
    yield writer.add(rows);
  }
  yield writer.finish();
}

async function* measured(pieces: AsyncGenerator<Uint8Array>, tally: Tally): AsyncGenerator<Uint8Array> {
  for await (const piece of pieces) {
    if (piece.length === 0) continue;
    tally.bytes += piece.length;
    yield piece;
  }
}

/**
 * Writes the merge of `inputs` (committed files of one format, in offset order) to `tmp`, replacing a leftover of
 * a killed run.
 */
export async function mergeFiles(
  storage: Storage,
  inputs: string[],
  extension: string,
  tmp: string,
): Promise<MergedFile> {
  const tally: Tally = { records: 0, bytes: 0 };
  const pieces =
    extension === 'parquet'
      ? reencodedParquet(storage, inputs, tally)
      : concatenatedLines(storage, inputs, extension === 'jsonl.gz', tally);
  // One piece read ahead of the upload at most: memory holds about one input, however large the group.
  await storage.create(tmp, Readable.from(measured(pieces, tally), { highWaterMark: 1 }), {
    overwrite: true,
  });
  return tally;
}
