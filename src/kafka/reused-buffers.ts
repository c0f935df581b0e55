/**
 * Buffers handed out, given back and handed out again: the consumer decompresses its record batches into them
 * instead of into a new Buffer per batch.
 *
 * Why: every new Buffer is external memory to V8, which starts a full garbage collection once external memory grew
 * by 64 MiB since the last one. The decompressed batches were the sink's largest such allocation (each tweet's ~2 KB
 * per batch), and the collections they started cost about a third of its CPU on V8's helper threads
 * (docs/benchmarks.md, "Fifth round: sink CPU" and "Sixth round: consumer buffers").
 *
 * Reuse is only safe when no view of a given-back buffer is read again: a view read after its bytes were
 * overwritten by another batch would be silent data corruption. So `giveBack` detaches the buffer's memory from
 * every view made so far (`ArrayBuffer.prototype.transfer`, which moves the memory to a new ArrayBuffer without
 * copying it): a record still held reads as empty (length 0), never as another record's bytes. That turns a misuse
 * into a visible error (an empty value is a poison record, an empty Parquet row) instead of a wrong file in HDFS.
 * (The sink's output pool, src/sink/formats/buffer-pool.ts, need not detach what it reuses: its one reader, the
 * upload, says when it is done. Both detach what they give up beyond their cap, which frees it at once.)
 */

/** Sizes are rounded up to this, so that batches of similar size fit each other's buffers. */
const GRANULE = 64 * 1024;

export class ReusedBuffers {
  /** Memory given back and not handed out again, smallest first. */
  #free: ArrayBuffer[] = [];
  #freeBytes = 0;
  /** Memory handed out: only these come back into `#free`. */
  readonly #lent = new Set<ArrayBuffer>();
  readonly #maxFreeBytes: number;

  /** `maxFreeBytes`: memory kept for reuse; what is given back beyond it is freed. */
  constructor(maxFreeBytes: number) {
    this.#maxFreeBytes = maxFreeBytes;
  }

  /** A buffer of `size` bytes (contents undefined), reused when one given back is large enough. */
  take(size: number): Buffer {
    const free = this.#free;
    let i = 0;
    while (i < free.length && free[i]!.byteLength < size) i++;
    let memory: ArrayBuffer;
    if (i < free.length) {
      memory = free[i]!;
      free.splice(i, 1);
      this.#freeBytes -= memory.byteLength;
    } else memory = new ArrayBuffer(Math.ceil(Math.max(size, 1) / GRANULE) * GRANULE);
    this.#lent.add(memory);
    return Buffer.from(memory, 0, size);
  }

  /**
   * Takes back a buffer from `take` (any other buffer is ignored): every view of it made so far reads as empty from
   * now on, and its memory may be handed out again.
   */
  giveBack(buffer: Uint8Array): void {
    const memory = buffer.buffer as ArrayBuffer;
    if (!this.#lent.delete(memory)) return;
    // Beyond the cap the memory is freed now (a transfer to length 0), not at the collector's next major collection.
    if (this.#freeBytes + memory.byteLength > this.#maxFreeBytes) {
      memory.transfer(0);
      return;
    }
    const moved = memory.transfer();
    const free = this.#free;
    let i = 0;
    while (i < free.length && free[i]!.byteLength < moved.byteLength) i++;
    free.splice(i, 0, moved);
    this.#freeBytes += moved.byteLength;
  }
}
