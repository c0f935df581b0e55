/**
 * JSON Lines: each value exactly as it was consumed plus '\n' (no re-serialisation, so the bytes in HDFS are the
 * bytes the producer wrote; a pretty-printed value loses only its whitespace between tokens). `jsonl.gz` compresses
 * each flushed chunk as one gzip member on libuv's thread pool, off the event loop, with libdeflate when the OS
 * has it (a third less CPU, libdeflate-gzip.ts) and node:zlib otherwise; concatenated members are one valid gzip
 * file (RFC 1952 §2.2) that gunzip, zlib, Hadoop's GzipCodec (hence Spark and Hive) and DuckDB read whole.
 */

import { createGzip } from 'node:zlib';
import { SINK_DEFAULTS } from '../../config/sink.ts';
import type { Logger } from '../../log.ts';
import { compactJson } from '../json-compact.ts';
import type { SinkRecord } from '../sink-record.ts';
import { BufferPool } from './buffer-pool.ts';
import type { Format, RecordEncoder } from './format.ts';
import { type GzipChunk, LIBDEFLATE_LIBRARY, libdeflateGzip } from './libdeflate-gzip.ts';

const NEWLINE = 0x0a;
const EMPTY = new Uint8Array(0);

/**
 * The bytes of one line. A raw CR or LF in valid JSON can only be whitespace between tokens (pretty-printed JSON):
 * such a value is compacted, its tokens kept byte for byte, so it stays one line. A value that validation already
 * found free of control bytes (`oneLine`) is not searched again (two searches of ~2 KB, 0.15-0.3 us a tweet).
 */
function lineOf(record: SinkRecord): Buffer {
  const v = record.value;
  return record.oneLine || (v.indexOf(10) === -1 && v.indexOf(13) === -1) ? v : compactJson(v);
}

/**
 * Size of the blocks lines are copied into: small enough that many open files (field partitions) stay cheap. A
 * file's first block is FIRST_BLOCK_BYTES and each next one twice the last, so a file that gets few records
 * holds little.
 */
const BLOCK_BYTES = 1024 * 1024;
const FIRST_BLOCK_BYTES = 64 * 1024;

/**
 * Free blocks and compressed chunks jsonl.gz keeps for its files to reuse (buffer-pool.ts): about the blocks a few
 * files have in flight at once; 16 MiB let V8's heap grow by ~30 MiB with 100 field-partition folders (fewer full
 * collections), docs/benchmarks.md.
 */
const POOL_FREE_BYTES = 4 * 1024 * 1024;

/**
 * jsonl.gz's blocks, all of one size: they go back to the pool as soon as their chunk is compressed (libdeflate
 * copies them together anyway), so small blocks cost nothing more and a file holds at most one block it does not
 * fill, where doubling blocks could hold twice its lines (many open files: field partitions).
 */
const GZIP_BLOCK_BYTES = 64 * 1024;

class JsonlEncoder implements RecordEncoder {
  /**
   * Lines are copied into blocks as they come. Collecting the values and concatenating them one by one at the
   * flush cost 1.9-3.0 us per 2 KB record against 1.2-2.0 us for copying them in (measured in isolation). A line
   * never spans two blocks; the last block is the one being filled, the others are sealed (trimmed to what they
   * hold).
   */
  private blocks: Buffer[] = [];
  private used = 0;
  private size = 0;
  /** Bytes of the sealed blocks. */
  private sealedBytes = 0;
  private readonly flushBytes: number;
  private readonly blockBytes: number;
  private nextBlockBytes: number;
  private readonly compress: GzipChunk | null;
  /** Where blocks come from and go back to once nothing reads them (shared by the format's files). */
  private readonly pool: BufferPool;

  constructor(flushBytes: number, compress: GzipChunk | null, pool: BufferPool) {
    this.flushBytes = flushBytes;
    this.blockBytes = Math.min(flushBytes, compress ? GZIP_BLOCK_BYTES : BLOCK_BYTES);
    this.nextBlockBytes = Math.min(FIRST_BLOCK_BYTES, this.blockBytes);
    this.compress = compress;
    this.pool = pool;
  }

  get bufferedBytes(): number {
    return this.size;
  }

  /**
   * Uncompressed, every sealed block is handed out as it is (no copy, and a file holds about one block); gzip
   * compresses flushBytes at a time, each chunk one gzip member.
   */
  get wantsFlush(): boolean {
    return this.compress ? this.size >= this.flushBytes : this.sealedBytes > 0;
  }

  write(record: SinkRecord): void {
    const line = lineOf(record);
    const need = line.length + 1;
    let block = this.blocks.at(-1);
    if (!block || this.used + need > block.length) {
      this.seal();
      block = this.pool.take(Math.max(need, this.nextBlockBytes));
      this.nextBlockBytes = Math.min(this.nextBlockBytes * 2, this.blockBytes);
      this.blocks.push(block);
      this.used = 0;
    }
    block.set(line, this.used);
    block[this.used + line.length] = NEWLINE;
    this.used += need;
    this.size += need;
  }

  async flush(): Promise<Uint8Array> {
    if (this.compress) return this.takeAll();
    if (this.sealedBytes === 0) return EMPTY;
    const sealed = this.blocks.slice(0, -1);
    this.blocks = this.blocks.slice(-1);
    const bytes = this.sealedBytes;
    this.size -= bytes;
    this.sealedBytes = 0;
    return this.joined(sealed, bytes);
  }

  flushAll(): Promise<Uint8Array> {
    this.nextBlockBytes = Math.min(FIRST_BLOCK_BYTES, this.blockBytes);
    return this.takeAll();
  }

  finish(): Promise<Uint8Array> {
    return this.takeAll();
  }

  /** Hands out every byte held, compressed when the format is. */
  private async takeAll(): Promise<Uint8Array> {
    if (this.size === 0) return EMPTY;
    this.seal();
    const blocks = this.blocks;
    const bytes = this.size;
    this.blocks = [];
    this.size = 0;
    this.sealedBytes = 0;
    this.used = 0;
    if (!this.compress) return this.joined(blocks, bytes);
    const member = await this.compress(blocks, bytes, this.pool);
    for (const block of blocks) this.pool.give(block);
    return member;
  }

  /** A chunk handed out, or one of its blocks, is back: the upload sent its bytes on (format.ts). */
  release(chunk: Uint8Array): void {
    this.pool.give(chunk);
  }

  /** The blocks as one chunk: the block itself when there is one, else a copy into a pooled buffer. */
  private joined(blocks: readonly Buffer[], bytes: number): Buffer {
    if (blocks.length === 1) return blocks[0]!;
    const chunk = this.pool.take(bytes);
    let at = 0;
    for (const block of blocks) {
      chunk.set(block, at);
      at += block.length;
      this.pool.give(block);
    }
    return chunk.subarray(0, bytes);
  }

  /** Trims the block being filled to what it holds; it is sealed from then on. */
  private seal(): void {
    const last = this.blocks.length - 1;
    if (last < 0) return;
    this.blocks[last] = this.blocks[last]!.subarray(0, this.used);
    this.sealedBytes += this.used;
  }
}

export function jsonlFormat(flushBytes: number): Format {
  // Keeps no free block: an uncompressed block leaves with the upload within moments, and is freed as the upload
  // gives it back (pooled, blocks lived long: measured with the consumer's reuse, ~15 MiB more at the peak, more
  // full collections, no less CPU; docs/benchmarks.md).
  const pool = new BufferPool(0);
  return { name: 'jsonl', extension: 'jsonl', open: () => new JsonlEncoder(flushBytes, null, pool) };
}

/**
 * The output buffer zlib fills per step. Node's default (16 KiB) makes a 4 MiB chunk of tweets at level 1 a few
 * hundred steps, each a round trip between the thread pool and the event loop: 256 KiB cut the CPU per tweet from
 * 10.8 to 8.8 us (docs/benchmarks.md, "Parquet and gzip, fourth round"), the bytes unchanged.
 */
const GZIP_CHUNK_BYTES = 256 * 1024;

/**
 * The blocks as one gzip member, fed to zlib block by block: concatenating them first cost a copy of every byte
 * and the garbage collection a 4 MiB buffer per flush brings, 2-3 us a tweet (docs/benchmarks.md). zlib's output
 * does not depend on how its input is split, so the bytes are the same (tested).
 */
function gzipBlocks(blocks: readonly Buffer[], level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gzip = createGzip({ level, chunkSize: GZIP_CHUNK_BYTES });
    const out: Buffer[] = [];
    let length = 0;
    gzip.on('data', (chunk: Buffer) => {
      out.push(chunk);
      length += chunk.length;
    });
    gzip.on('error', reject);
    gzip.on('end', () => resolve(out.length === 1 ? out[0]! : Buffer.concat(out, length)));
    for (const block of blocks) gzip.write(block);
    gzip.end();
  });
}

export interface GzipEngineOptions {
  /** The libdeflate to load (a soname the dynamic loader finds, or a path); node:zlib when it cannot be loaded. */
  libdeflate?: string;
  /** Told once per process which engine compresses. */
  logger?: Logger;
}

/** The engine per library and level: chosen, and logged, once per process (formats open per partition). */
const engines = new Map<string, GzipChunk>();

function gzipEngine(
  level: number,
  { libdeflate = LIBDEFLATE_LIBRARY, logger }: GzipEngineOptions,
): GzipChunk {
  const key = `${libdeflate}\0${level}`;
  let engine = engines.get(key);
  if (engine) return engine;
  try {
    engine = libdeflateGzip(level, libdeflate);
    logger?.info(
      { gzipEngine: 'libdeflate', library: libdeflate, gzipLevel: level },
      'jsonl.gz compresses with libdeflate',
    );
  } catch (err) {
    engine = (blocks) => gzipBlocks(blocks, level);
    logger?.warn(
      { gzipEngine: 'zlib', library: libdeflate, gzipLevel: level, reason: (err as Error).message },
      'jsonl.gz compresses with node:zlib: libdeflate could not be loaded (install libdeflate0 for a third less CPU)',
    );
  }
  engines.set(key, engine);
  return engine;
}

export function jsonlGzipFormat(
  flushBytes: number,
  level: number = SINK_DEFAULTS.gzipLevel,
  engine: GzipEngineOptions = {},
): Format {
  const compress = gzipEngine(level, engine);
  const pool = new BufferPool(POOL_FREE_BYTES);
  return {
    name: 'jsonl.gz',
    extension: 'jsonl.gz',
    open: () => new JsonlEncoder(flushBytes, compress, pool),
  };
}
