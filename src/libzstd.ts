/**
 * The OS's libzstd (Debian/Ubuntu package libzstd1, which apt and dpkg themselves depend on) through koffi's FFI, as
 * src/sink/formats/libdeflate-gzip.ts calls libdeflate, for the two places where node:zlib's zstd costs what it
 * need not:
 *
 * - The consumer decompresses record batches into buffers it reuses (src/kafka/reused-buffers.ts): node:zlib
 *   decompresses only into buffers it allocates, one per batch, and that external memory started half of the sink's
 *   full garbage collections (docs/benchmarks.md, "Fifth round: sink CPU", "Sixth round: consumer buffers").
 *   `ZSTD_decompressDCtx` writes into any buffer, with one context per thread.
 * - Parquet pages: hyparquet-writer compresses every page on its own (~30 a row group), and each zstdCompressSync
 *   call builds a new context (its tables allocated and zeroed: ~30 us even for a page of 100 bytes) and a new
 *   output Buffer. `ZSTD_compressCCtx` at the same level writes the same bytes (a test checks it) with one context and
 *   one output buffer per compressor ("Sixth round: Parquet").
 * - The producer's record batches take the same compressor (src/kafka/zstd-codec.ts, `zstdCompressRecords`): each
 *   zstdCompressSync call also took an output chunk of the batch's size, new external memory that started V8's full
 *   collections early ("Seventh round: synthetic produce").
 *
 * Both are synchronous, like the node:zlib calls they replace. koffi and the library load on first use, once per
 * thread: a process that neither consumes, produces zstd batches nor writes Parquet never loads koffi's native addon.
 */
import { createRequire } from 'node:module';

/** The library's soname: the dynamic loader finds it where the OS installed it. */
export const LIBZSTD_LIBRARY = 'libzstd.so.1';

interface Libzstd {
  createDCtx(): object | null;
  decompressDCtx(
    dctx: object,
    dst: Uint8Array,
    capacity: number,
    src: Uint8Array,
    size: number,
  ): number | bigint;
  createCCtx(): object | null;
  compressBound(bytes: number): number | bigint;
  compressCCtx(
    cctx: object,
    dst: Uint8Array,
    capacity: number,
    src: Uint8Array,
    size: number,
    level: number,
  ): number | bigint;
  /** koffi hands size_t back as a bigint when it exceeds 2^53, which every error code (size_t)-code does. */
  isError(code: number | bigint): number;
  getErrorName(code: number | bigint): string;
}

const libraries = new Map<string, Libzstd>();

/** koffi and `library`, once per thread; throws when either cannot be loaded. */
function loadLibzstd(library: string): Libzstd {
  const loaded = libraries.get(library);
  if (loaded) return loaded;
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load(library);
  const libzstd: Libzstd = {
    createDCtx: lib.func('void *ZSTD_createDCtx()'),
    decompressDCtx: lib.func(
      'size_t ZSTD_decompressDCtx(void *dctx, void *dst, size_t dst_capacity, const void *src, size_t src_size)',
    ),
    createCCtx: lib.func('void *ZSTD_createCCtx()'),
    compressBound: lib.func('size_t ZSTD_compressBound(size_t srcSize)'),
    compressCCtx: lib.func(
      'size_t ZSTD_compressCCtx(void *cctx, void *dst, size_t dstCapacity, const void *src, size_t srcSize, int level)',
    ),
    isError: lib.func('unsigned int ZSTD_isError(size_t code)'),
    getErrorName: lib.func('const char *ZSTD_getErrorName(size_t code)'),
  };
  libraries.set(library, libzstd);
  return libzstd;
}

/**
 * Decompresses every zstd frame of `input` into `output`; returns the bytes written, or undefined when libzstd
 * refused (corrupt input, or output too small): the caller then decompresses otherwise, which names the error.
 */
export type ZstdDecompressInto = (input: Uint8Array, output: Uint8Array) => number | undefined;

const decompressors = new Map<string, ZstdDecompressInto | null>();

/** libzstd's decompression into a given buffer, or null when koffi or the library cannot be loaded. */
export function libzstdDecompressInto(library: string = LIBZSTD_LIBRARY): ZstdDecompressInto | null {
  let decompress = decompressors.get(library);
  if (decompress !== undefined) return decompress;
  try {
    const lib = loadLibzstd(library);
    const dctx = lib.createDCtx();
    if (!dctx) throw new Error('ZSTD_createDCtx returned NULL');
    decompress = (input, output) => {
      const n = lib.decompressDCtx(dctx, output, output.length, input, input.length);
      return lib.isError(n) !== 0 ? undefined : Number(n);
    };
  } catch {
    decompress = null;
  }
  decompressors.set(library, decompress);
  return decompress;
}

/**
 * Compresses a page into one zstd frame. The result is a view of a buffer the next call overwrites: hyparquet-writer
 * copies each compressed page into its file before it compresses the next.
 */
export type PageCompressor = (page: Uint8Array) => Uint8Array;

/**
 * A page compressor at zstd `level` through the libzstd at `library` (a soname or a path), with its own context and
 * output buffer (one caller at a time: hyparquet-writer's calls are synchronous). Throws when koffi or the library
 * cannot be loaded.
 */
export function libzstdPageCompressor(level: number, library: string = LIBZSTD_LIBRARY): PageCompressor {
  const lib = loadLibzstd(library);
  const context = lib.createCCtx();
  if (!context) throw new Error(`${library}: ZSTD_createCCtx returned no context`);
  // Grows to zstd's worst case for the largest page seen (about one page size, 1 MiB by default) and stays.
  let out = new Uint8Array(0);
  return (page) => {
    const bound = Number(lib.compressBound(page.length));
    if (out.length < bound) out = new Uint8Array(bound);
    const n = lib.compressCCtx(context, out, out.length, page, page.length, level);
    if (lib.isError(n) !== 0) throw new Error(`${library}: ZSTD_compressCCtx failed: ${lib.getErrorName(n)}`);
    return out.subarray(0, Number(n));
  };
}
