/**
 * Output buffers reused instead of left to the garbage collector. A JSON Lines block or a compressed chunk is ~2 KB
 * of new memory per tweet; V8 frees a dead Buffer only at its next major collection, which it starts after ~64 MiB
 * of new external memory, so a sink that allocates them per chunk peaks with tens of MiB of dead buffers and pays
 * for the collections (docs/benchmarks.md, "Fifth round: sink memory" and "Sixth round: output buffers").
 *
 * Sizes are rounded up to a power of two, so that buffers of a size class serve every later request of it. A buffer
 * comes back only through `give`, and only once: the caller gives it when nothing reads its bytes any more (the
 * upload's socket took them, or they were copied). A buffer that is never given back (a failed upload) is simply
 * collected. Free buffers are kept up to a byte cap; a buffer given beyond it is freed at once (its ArrayBuffer
 * detached), not left for the next major collection (docs/benchmarks.md, "Tenth round").
 *
 * Not src/kafka/reused-buffers.ts, the consumer's pool: that one detaches every view of memory given back, because
 * the records it backs are read by code it cannot see (a record kept too long must read empty, not another's
 * bytes), and sizes its buffers to the batch (64 KiB steps, best fit). Here the only reader is the upload, which says
 * when it is done (Storage's `sent`), and chunks come in few sizes, so exact power-of-two classes serve them.
 */

export class BufferPool {
  /** Free buffers by size class (a power of two). */
  private readonly free = new Map<number, Buffer[]>();
  /** The memory of the buffers lent and not yet given back: only these are taken back, and each only once. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;
  private readonly maxFreeBytes: number;

  constructor(maxFreeBytes: number) {
    this.maxFreeBytes = maxFreeBytes;
  }

  /** A buffer of at least `bytes` bytes (exactly its size class), its contents undefined. */
  take(bytes: number): Buffer {
    const size = sizeClass(bytes);
    let buffer = this.free.get(size)?.pop();
    if (buffer) this.freeBytes -= size;
    else buffer = Buffer.allocUnsafeSlow(size);
    this.lent.add(buffer.buffer as ArrayBuffer);
    return buffer;
  }

  /**
   * Takes back the buffer a view of which is `chunk`, if this pool lent it and it was not given back since: the
   * caller promises that nothing reads any byte of it any more. Any other chunk is ignored.
   */
  give(chunk: Uint8Array): void {
    const memory = chunk.buffer as ArrayBuffer;
    if (!this.lent.delete(memory)) return;
    const size = memory.byteLength;
    if (this.freeBytes + size > this.maxFreeBytes) {
      memory.transfer(0);
      return;
    }
    let list = this.free.get(size);
    if (!list) {
      list = [];
      this.free.set(size, list);
    }
    list.push(Buffer.from(memory));
    this.freeBytes += size;
  }
}

/** The smallest power of two that holds `bytes` (at least 1). */
function sizeClass(bytes: number): number {
  return bytes <= 1 ? 1 : 2 ** Math.ceil(Math.log2(bytes));
}
