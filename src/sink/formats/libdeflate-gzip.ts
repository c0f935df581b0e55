/**
 * gzip through libdeflate (the system's shared library, Debian/Ubuntu package libdeflate0), called through koffi's
 * FFI. Hand-written because no maintained npm binding of libdeflate exists; koffi is a maintained, typed FFI with
 * prebuilt binaries. libdeflate compresses a whole buffer in one call, which is what jsonl.gz needs (one gzip
 * member per flushed chunk, `libdeflate_gzip_compress` writes exactly one complete member), and its level 1 costs
 * about a third less CPU than zlib's on tweets, for slightly smaller files (docs/benchmarks.md, "Fifth round: gzip
 * through libdeflate").
 *
 * Each compression runs on libuv's thread pool (koffi's async call), off the event loop. A libdeflate compressor
 * is not thread-safe, so each call in flight owns a workspace (compressor, input and output buffers); there are at
 * most as many as calls can run at once (one per core, and no more than libuv's pool has threads), further calls
 * wait for one: with many open files (field partitions) the workspaces' memory stays bounded.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { BufferPool } from './buffer-pool.ts';

/** The library's soname: the dynamic loader finds it where the OS installed it. */
export const LIBDEFLATE_LIBRARY = 'libdeflate.so.0';

/**
 * Compresses `bytes` bytes held in `blocks` (in order) into one gzip member, in a buffer taken from `output` when the
 * engine copies its result out anyway (the caller gives it back there once nothing reads it).
 */
export type GzipChunk = (blocks: readonly Buffer[], bytes: number, output: BufferPool) => Promise<Buffer>;

/** An opaque `struct libdeflate_compressor *`, as koffi hands it out. */
type Compressor = object;

interface Libdeflate {
  alloc(level: number): Compressor | null;
  bound(compressor: Compressor, inBytes: number): number;
  /** Returns the member's length, 0 when `outBytes` is too small. */
  compress(
    compressor: Compressor,
    input: Buffer,
    inBytes: number,
    output: Buffer,
    outBytes: number,
  ): Promise<number>;
}

const libraries = new Map<string, Libdeflate>();

/** Loads koffi and the library once per process; throws when either cannot be loaded. */
function loadLibdeflate(library: string): Libdeflate {
  const loaded = libraries.get(library);
  if (loaded) return loaded;
  // Loaded on first use only: a process that writes no jsonl.gz never loads koffi's native addon.
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load(library);
  const alloc = lib.func('void *libdeflate_alloc_compressor(int compression_level)');
  const bound = lib.func('size_t libdeflate_gzip_compress_bound(void *compressor, size_t in_nbytes)');
  const compress = lib.func(
    'size_t libdeflate_gzip_compress(void *compressor, const void *in, size_t in_nbytes, void *out, size_t out_nbytes_avail)',
  );
  const libdeflate: Libdeflate = {
    alloc: (level) => alloc(level),
    bound: (compressor, inBytes) => Number(bound(compressor, inBytes)),
    compress: (compressor, input, inBytes, output, outBytes) =>
      new Promise((resolve, reject) => {
        compress.async(compressor, input, inBytes, output, outBytes, (err: unknown, n: number | bigint) =>
          err ? reject(err) : resolve(Number(n)),
        );
      }),
  };
  libraries.set(library, libdeflate);
  return libdeflate;
}

interface Workspace {
  readonly compressor: Compressor;
  /** The chunk's blocks copied together: libdeflate takes one contiguous input. Grows to the largest chunk. */
  input: Buffer;
  /** libdeflate's worst case for the input; grows with it. */
  output: Buffer;
}

/**
 * A workspace buffer's size for `bytes`: an eighth more, in 64 KiB steps. Chunks are flushBytes plus the part of a
 * line that crossed it, so sized exactly, a workspace grew again at nearly every larger chunk: 11 new 2 MiB buffers
 * per workspace (input and output) in a 300,000-tweet run, each dead at once and freed only by a full collection.
 */
const roomFor = (bytes: number): number => Math.ceil((bytes * 1.125) / 65536) * 65536;

/** Workspaces of one library at one level, shared by every file the process writes. */
class WorkspacePool {
  private readonly free: Workspace[] = [];
  private readonly waiting: ((ws: Workspace) => void)[] = [];
  private created = 0;
  private readonly max = Math.min(availableParallelism(), Number(process.env.UV_THREADPOOL_SIZE) || 4);

  readonly lib: Libdeflate;
  private readonly level: number;

  /** The first compressor is allocated here, so that a level libdeflate refuses fails when the engine loads. */
  constructor(lib: Libdeflate, level: number) {
    this.lib = lib;
    this.level = level;
    this.free.push(this.create());
  }

  acquire(): Workspace | Promise<Workspace> {
    const ws = this.free.pop();
    if (ws) return ws;
    if (this.created < this.max) return this.create();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(ws: Workspace): void {
    const next = this.waiting.shift();
    if (next) next(ws);
    else this.free.push(ws);
  }

  private create(): Workspace {
    const compressor = this.lib.alloc(this.level);
    if (!compressor) throw new Error(`libdeflate refused compression level ${this.level}`);
    this.created++;
    return { compressor, input: Buffer.alloc(0), output: Buffer.alloc(0) };
  }
}

const pools = new Map<string, WorkspacePool>();

/**
 * gzip at `level` (libdeflate takes 0-12; 1-9 mean what they mean to zlib) through the libdeflate at `library`
 * (a soname or a path). Throws when koffi or the library cannot be loaded or the level is refused.
 */
export function libdeflateGzip(level: number, library: string = LIBDEFLATE_LIBRARY): GzipChunk {
  const key = `${library}\0${level}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new WorkspacePool(loadLibdeflate(library), level);
    pools.set(key, pool);
  }
  const shared = pool;
  return async (blocks, bytes, output) => {
    const ws = await shared.acquire();
    try {
      return await compressInto(shared.lib, ws, blocks, bytes, output);
    } finally {
      shared.release(ws);
    }
  };
}

async function compressInto(
  lib: Libdeflate,
  ws: Workspace,
  blocks: readonly Buffer[],
  bytes: number,
  output: BufferPool,
): Promise<Buffer> {
  let input = blocks[0];
  if (blocks.length !== 1 || !input) {
    if (ws.input.length < bytes) ws.input = Buffer.allocUnsafe(roomFor(bytes));
    input = ws.input;
    let at = 0;
    for (const block of blocks) {
      input.set(block, at);
      at += block.length;
    }
  }
  const bound = lib.bound(ws.compressor, bytes);
  if (ws.output.length < bound) ws.output = Buffer.allocUnsafe(roomFor(bound));
  const n = await lib.compress(ws.compressor, input, bytes, ws.output, ws.output.length);
  if (n === 0)
    throw new Error(`libdeflate: no room for ${bytes} bytes compressed in its own bound (${bound})`);
  // A copy: the workspace's buffer is the next call's. Into a pooled buffer of its size class rather than one
  // sized to the worst case, which would hold ~6 times the member's bytes while it waits for the upload.
  const member = output.take(n);
  ws.output.copy(member, 0, 0, n);
  return member.subarray(0, n);
}
