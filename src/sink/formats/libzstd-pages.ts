/**
 * zstd for Parquet pages through the OS's libzstd (Debian/Ubuntu package libzstd1), called through koffi's FFI.
 *
 * Why not node:zlib's zstdCompressSync: hyparquet-writer compresses every page on its own, synchronously, ~30 pages a
 * row group, and each zstdCompressSync call builds a new zstd context (its tables allocated and zeroed: ~30 us even
 * for a page of 100 bytes) and a new output Buffer. Here one context and one output buffer per thread serve every
 * page: `ZSTD_compressCCtx` at the same level writes the same bytes as zstdCompressSync (a test checks it), so the
 * files do not change.
 */
import { createRequire } from 'node:module';

/** The library's soname: the dynamic loader finds it where the OS installed it. */
export const LIBZSTD_LIBRARY = 'libzstd.so.1';

/**
 * Compresses a page into one zstd frame. The result is a view of a buffer the next call overwrites: hyparquet-writer
 * copies each compressed page into its file before it compresses the next.
 */
export type PageCompressor = (page: Uint8Array) => Uint8Array;

interface Libzstd {
  createContext(): object | null;
  bound(bytes: number): number;
  compress(
    context: object,
    out: Uint8Array,
    capacity: number,
    page: Uint8Array,
    bytes: number,
    level: number,
  ): number;
  isError(code: number): boolean;
  errorName(code: number): string;
}

const libraries = new Map<string, Libzstd>();

/** Loads koffi and the library once per thread; throws when either cannot be loaded. */
function loadLibzstd(library: string): Libzstd {
  const loaded = libraries.get(library);
  if (loaded) return loaded;
  // Loaded on first use only: a process that writes no Parquet never loads koffi's native addon.
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load(library);
  const createContext = lib.func('void *ZSTD_createCCtx()');
  const bound = lib.func('size_t ZSTD_compressBound(size_t srcSize)');
  const compress = lib.func(
    'size_t ZSTD_compressCCtx(void *cctx, void *dst, size_t dstCapacity, const void *src, size_t srcSize, int level)',
  );
  const isError = lib.func('unsigned int ZSTD_isError(size_t code)');
  const errorName = lib.func('const char *ZSTD_getErrorName(size_t code)');
  const libzstd: Libzstd = {
    createContext: () => createContext(),
    bound: (bytes) => Number(bound(bytes)),
    compress: (context, out, capacity, page, bytes, level) =>
      compress(context, out, capacity, page, bytes, level),
    isError: (code) => isError(code) !== 0,
    errorName: (code) => errorName(code),
  };
  libraries.set(library, libzstd);
  return libzstd;
}

/**
 * A page compressor at zstd `level` through the libzstd at `library` (a soname or a path), with its own context and
 * output buffer (one caller at a time: hyparquet-writer's calls are synchronous). Throws when koffi or the library
 * cannot be loaded.
 */
export function libzstdPageCompressor(level: number, library: string = LIBZSTD_LIBRARY): PageCompressor {
  const lib = loadLibzstd(library);
  const context = lib.createContext();
  if (!context) throw new Error(`${library}: ZSTD_createCCtx returned no context`);
  // Grows to zstd's worst case for the largest page seen (about one page size, 1 MiB by default) and stays.
  let out = new Uint8Array(0);
  return (page) => {
    const bound = lib.bound(page.length);
    if (out.length < bound) out = new Uint8Array(bound);
    const n = lib.compress(context, out, out.length, page, page.length, level);
    if (lib.isError(n)) throw new Error(`${library}: ZSTD_compressCCtx failed: ${lib.errorName(n)}`);
    return out.subarray(0, Number(n));
  };
}
