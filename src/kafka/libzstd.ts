/**
 * zstd decompression into a buffer the caller owns, through the OS's libzstd (Debian/Ubuntu package libzstd1, which
 * apt and dpkg themselves depend on) called through koffi's FFI, as libdeflate-gzip.ts calls libdeflate.
 *
 * Why: node:zlib decompresses only into buffers it allocates, one per record batch, so the sink allocated each
 * tweet's ~2 KB anew per batch, and that external memory started half of its full garbage collections
 * (docs/benchmarks.md, "Fifth round: sink CPU"). `ZSTD_decompressDCtx` writes into any buffer, so the consumer can
 * reuse its buffers (reused-buffers.ts), and one decompression context per thread is reused instead of one
 * created per batch. Synchronous, like the node:zlib call it replaces: a batch takes about a millisecond.
 */
import { createRequire } from 'node:module';

/** The library's soname: the dynamic loader finds it where the OS installed it. */
export const LIBZSTD_LIBRARY = 'libzstd.so.1';

/**
 * Decompresses every zstd frame of `input` into `output`; returns the bytes written, or undefined when libzstd
 * refused (corrupt input, or output too small): the caller then decompresses otherwise, which names the error.
 */
export type ZstdDecompressInto = (input: Uint8Array, output: Uint8Array) => number | undefined;

const loaded = new Map<string, ZstdDecompressInto | null>();

/** libzstd's decompression into a given buffer, or null when koffi or the library cannot be loaded (once per process). */
export function libzstdDecompressInto(library: string = LIBZSTD_LIBRARY): ZstdDecompressInto | null {
  let decompress = loaded.get(library);
  if (decompress !== undefined) return decompress;
  try {
    decompress = load(library);
  } catch {
    decompress = null;
  }
  loaded.set(library, decompress);
  return decompress;
}

function load(library: string): ZstdDecompressInto {
  // Loaded on first use only, like libdeflate: a process that consumes nothing never loads koffi's native addon.
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load(library);
  const createDCtx = lib.func('void *ZSTD_createDCtx()');
  const decompressDCtx = lib.func(
    'size_t ZSTD_decompressDCtx(void *dctx, void *dst, size_t dst_capacity, const void *src, size_t src_size)',
  );
  const dctx: unknown = createDCtx();
  if (!dctx) throw new Error('ZSTD_createDCtx returned NULL');
  return (input, output) => {
    // An error is a size_t of (size_t)-code, far above any capacity.
    const n = Number(decompressDCtx(dctx, output, output.length, input, input.length));
    return n <= output.length ? n : undefined;
  };
}
