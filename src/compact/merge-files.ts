/**
 * The merged file of a compaction group, written to its temp path one input at a time (a create, then an append
 * per input), so that memory holds one input file, never the whole group (up to --target-size):
 *
 * - jsonl: the inputs' bytes, concatenated. Every line the sink commits ends with '\n' (src/sink/formats/jsonl.ts),
 *   so the concatenation is the inputs' lines in order, byte for byte.
 * - jsonl.gz: the inputs' gzip members, concatenated: a series of members is one valid gzip file (RFC 1952 §2.2)
 *   that gunzip, Node's zlib, Hadoop's GzipCodec (Spark, Hive) and DuckDB read whole; the sink's own files are
 *   such series already. Nothing is compressed again.
 * - parquet: rows are decoded input by input and encoded again in row groups of the sink's size; each row group
 *   is appended as soon as it is full, so memory holds one input's rows and one row group.
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

/** A temp file written in pieces: the first creates it (replacing a leftover of a killed run), the others append. */
class TempFile {
  bytes = 0;
  private readonly storage: Storage;
  private readonly path: string;

  constructor(storage: Storage, path: string) {
    this.storage = storage;
    this.path = path;
  }

  async write(data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    if (this.bytes === 0) await this.storage.create(this.path, data, { overwrite: true });
    else await this.storage.append(this.path, data);
    this.bytes += data.length;
  }
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

async function concatenateLines(
  storage: Storage,
  inputs: string[],
  out: TempFile,
  gzipped: boolean,
): Promise<number> {
  let records = 0;
  for (const path of inputs) {
    const bytes = await storage.read(path);
    const lines = await linesOf(bytes, gzipped);
    await out.write(bytes);
    if (!lines.endsWithNewline) await out.write(gzipped ? GZIP_LINE_END : LINE_END);
    records += lines.count;
  }
  return records;
}

async function reencodeParquet(storage: Storage, inputs: string[], out: TempFile): Promise<number> {
  const codec = rowCodec('parquet');
  const writer = new ParquetRowWriter();
  let records = 0;
  for (const path of inputs) {
    const rows = (await codec.read(await storage.read(path), path)).pick(() => true);
    records += rows.length;
    await out.write(writer.add(rows));
  }
  await out.write(writer.finish());
  return records;
}

/** Writes the merge of `inputs` (committed files of one format, in offset order) to `tmp`. */
export async function mergeFiles(
  storage: Storage,
  inputs: string[],
  extension: string,
  tmp: string,
): Promise<MergedFile> {
  const out = new TempFile(storage, tmp);
  const records =
    extension === 'parquet'
      ? await reencodeParquet(storage, inputs, out)
      : await concatenateLines(storage, inputs, out, extension === 'jsonl.gz');
  return { records, bytes: out.bytes };
}
