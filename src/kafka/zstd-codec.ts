/**
 * The Kafka client's zstd codec, tuned: the compression level, and the output buffer of decompression.
 *
 * @platformatic/kafka compresses and decompresses record batches with node:zlib's zstdCompressSync and
 * zstdDecompressSync, on the calling thread, with zlib's defaults: level 3 and a 16 KiB output chunk.
 * - Compression was a third of the producer's CPU. Level 1 compresses tweet batches 1.4x faster for 2% larger
 *   batches (measured: see producer.zstdLevel in config.ts).
 * - Decompression was 15% of the sink's CPU. With a 16 KiB chunk a batch takes one native round trip per 16 KiB of
 *   output and a concat of the pieces; measured on synthetic tweet batches (64 KiB and 1 MiB, 4 alternating
 *   rounds), one chunk of exactly the output size decompressed 1.2-1.4x faster. A fixed 1 MiB chunk was slower on
 *   small batches (the allocation). The chunk is one byte
 *   larger than the content: zlib allocates a second chunk whenever a call fills the first to its last byte, and a
 *   chunk of exactly the content size always does (a wasted buffer of the batch's size and a second native call
 *   per batch, 0.3-0.4 us per tweet; docs/benchmarks.md, "Fifth round: sink CPU").
 * - Compression gets one output chunk large enough for any result (compressChunkFor says why).
 * The client exports its codec table (`compressionsAlgorithms`) and looks codecs up in it per batch, so the zstd
 * entry's two functions are replaced, decompression sizing its chunk from the frame's content size (written by
 * every zstd encoder that knows its input size, as node's does). The format on the wire is standard zstd.
 *
 * The sink's consumer decompresses into buffers it reuses instead (`zstdDecompressReused`, through libzstd), and
 * falls back to the codec table when it cannot.
 */

import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { compressionsAlgorithms } from '@platformatic/kafka';
import { libzstdDecompressInto, libzstdPageCompressor, type PageCompressor } from '../libzstd.ts';
import type { ReusedBuffers } from './reused-buffers.ts';

const ZSTD_MAGIC = 0xfd2fb528;
/** zlib's smallest chunk; below it zlib refuses the option. */
const MIN_CHUNK = 64;
/** For frames that do not say their size (streamed by a Java producer, for example): zlib's default. */
const UNKNOWN_SIZE_CHUNK = 16 * 1024;
/** A claimed size above this is not believed: the buffer is allocated before a byte is decoded. */
const MAX_CHUNK = 64 * 1024 * 1024;

/** The Frame_Content_Size of the zstd frame at the start of `b` (RFC 8878 §3.1.1.1), or undefined. */
export function zstdContentSize(b: Uint8Array): number | undefined {
  if (b.length < 6) return undefined;
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (view.readUInt32LE(0) !== ZSTD_MAGIC) return undefined;
  const descriptor = view[4]!;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const didSize = [0, 1, 2, 4][descriptor & 3]!;
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsSize === 0) return undefined;
  const at = 5 + (singleSegment ? 0 : 1) + didSize;
  if (b.length < at + fcsSize) return undefined;
  switch (fcsSize) {
    case 1:
      return view[at];
    case 2:
      return view.readUInt16LE(at) + 256;
    case 4:
      return view.readUInt32LE(at);
    default:
      return Number(view.readBigUInt64LE(at));
  }
}

/**
 * The zstd frames of `input` decompressed into a buffer of `buffers` (give it back there once no view of it is
 * read any more), or undefined when that cannot be done: libzstd not loadable, a first frame that does not say its
 * size, or libzstd refusing the input (corrupt, or more frames than the first one's size). The caller then
 * decompresses the usual way, which also names what is wrong with a corrupt input.
 */
export function zstdDecompressReused(input: Buffer, buffers: ReusedBuffers): Buffer | undefined {
  const decompress = libzstdDecompressInto();
  const size = zstdContentSize(input);
  if (!decompress || size === undefined || size > MAX_CHUNK) return undefined;
  const output = buffers.take(size);
  if (decompress(input, output) === size) return output;
  buffers.giveBack(output);
  return undefined;
}

/** One byte of room past the content, so that the output never fills the chunk (see the header). */
const chunkFor = (size: number): number => Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, size + 1));

/**
 * Room for any zstd output of `size` input bytes (ZSTD_compressBound: size + size/256, plus at most 64 bytes under
 * 128 KiB of input). Given one output chunk this large, a batch comes out as one piece instead of 16 KiB pieces
 * concatenated into a new buffer (zstd's own 1.3 MiB context is still made per call). With the CLI's 64 KiB mmap
 * threshold (bin/tweetpipe.js) every buffer from 64 KiB up is mapped, faulted in and unmapped: ~0.55 ms of system
 * time per 700 KB batch of tweets before, ~0.1-0.2 ms this way (docs/benchmarks.md, "Sixth round: produce and
 * replay"). The chunk is mostly untouched address space: pages are only faulted in where zstd writes.
 */
const compressChunkFor = (size: number): number => Math.max(MIN_CHUNK, size + (size >> 8) + 1024);

type Bytes = Buffer | { buffer: Buffer };
/** The client hands its codecs either a Buffer or its DynamicBuffer (whose `buffer` is the bytes). */
const bytesOf = (data: Bytes): Buffer => (Buffer.isBuffer(data) ? data : data.buffer);

let level = 1;

/** node:zlib's zstd at `level`, into one output chunk (compressChunkFor says why). */
const zlibCompress = (input: Buffer): Buffer =>
  zstdCompressSync(input, {
    chunkSize: compressChunkFor(input.length),
    params: { [constants.ZSTD_c_compressionLevel]: level },
  });

/**
 * This thread's compressor of encoded batches at the installed level: made at first use after installZstdCodec; null
 * before it, or where libzstd cannot be loaded (the codec table's compressSync then).
 */
let recordsCompressor: PageCompressor | null | undefined = null;

/** Replaces the zstd functions of the client's codec table (once) and sets the compression level. */
export function installZstdCodec(compressionLevel: number): void {
  level = compressionLevel;
  recordsCompressor = undefined;
  const zstd = compressionsAlgorithms.zstd as {
    compressSync(data: Bytes): Buffer;
    decompressSync(data: Bytes): Buffer;
    available: boolean;
  };
  if (!zstd.available) return;
  zstd.compressSync = (data) => zlibCompress(bytesOf(data));
  zstd.decompressSync = (data) => {
    const input = bytesOf(data);
    return zstdDecompressSync(input, {
      chunkSize: chunkFor(zstdContentSize(input) ?? UNKNOWN_SIZE_CHUNK),
    });
  };
}

/**
 * The records of a batch encoded by record-batch-encode.ts, compressed at the installed level: a view of an output
 * buffer that the next call overwrites (the caller copies it into the batch at once). Through libzstd with one
 * context and one output buffer per thread (the page compressor of libzstd.ts, whose bytes are node:zlib's at the
 * same level), where each zstdCompressSync builds a context of ~1.3 MiB and takes an output chunk of the batch's
 * size: that chunk was ~2 KB of new external memory per tweet, which starts V8's full collections early
 * (docs/benchmarks.md, "Seventh round: synthetic produce"). The codec table's before installZstdCodec, or when
 * libzstd cannot be loaded.
 */
export function zstdCompressRecords(records: Buffer): Uint8Array {
  const compressor = recordsCompressorOfThisThread();
  return compressor ? compressor(records) : compressionsAlgorithms.zstd.compressSync(records);
}

/**
 * Whether zstdCompressRecords goes through libzstd on this thread; false before installZstdCodec, or when libzstd
 * cannot be loaded (node:zlib then: a context and an output chunk per batch).
 */
export const zstdRecordsThroughLibzstd = (): boolean => recordsCompressorOfThisThread() !== null;

function recordsCompressorOfThisThread(): PageCompressor | null {
  if (recordsCompressor === undefined) {
    try {
      recordsCompressor = libzstdPageCompressor(level);
    } catch {
      recordsCompressor = null;
    }
  }
  return recordsCompressor;
}
