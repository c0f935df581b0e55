/**
 * A bounded window of recently seen tweet ids, so stream reconnects, gap-filling searches, overlapping search
 * pages and replayed files publish each tweet once. The produce loop keeps the only one (src/pipeline/produce.ts),
 * seeded from the end of the topic; sources hand out what they read, repeats included.
 *
 * Written by hand, off the JavaScript heap: a Set of id strings (the first design) held a million heap objects at
 * the default window, ~70 bytes each, which V8's every full collection marked again while producing
 * (docs/benchmarks.md, "Eighth round: the dedup window"). X's ids are decimal numbers, so an id is kept as two
 * numbers (its digits before the last nine, and those nine) in an open-addressing hash table of typed arrays
 * (linear probing, backward-shift deletion: no tombstones to clean up), with a ring of the same numbers that evicts
 * the oldest id once the window is full. Both grow by doubling up to the window's size, so a short run stays small.
 * An id that is not such a number (never from X; the window takes any string) goes to a Set of its own.
 */

/** Digits kept in the low number: 10^9 < 2^31, and the high one stays below 2^53 for ids up to 24 digits. */
const LOW_DIGITS = 9;
const MAX_DIGITS = 24;
const MIN_TABLE = 1 << 10;
/** An id that is not a canonical decimal number of at most MAX_DIGITS digits. */
const NOT_NUMERIC = -1;

export class DedupWindow {
  readonly capacity: number;
  /** Slots of the hash table: high part + 1 (0 marks a free slot) and the low part. */
  #tableHigh = new Float64Array(0);
  #tableLow = new Int32Array(0);
  #mask = -1;
  #numeric = 0;
  /** The ids in arrival order (high part + 1, 0 for an id of #others), as a ring of `capacity` once full. */
  #ringHigh = new Float64Array(0);
  #ringLow = new Int32Array(0);
  #ringIds = 0;
  #next = 0;
  /** Ids that are not decimal numbers, by their ring slot. */
  readonly #others = new Set<string>();
  readonly #otherAt = new Map<number, string>();
  /** parse()'s result: the id's low part (the high part is its return value). */
  #low = 0;

  /** `capacity` ids are remembered; 0 disables deduplication. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`dedup capacity must be >= 0, got ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#numeric + this.#others.size;
  }

  has(id: string): boolean {
    const high = this.#parse(id);
    if (high === NOT_NUMERIC) return this.#others.has(id);
    return this.#find(high + 1, this.#low) >= 0;
  }

  /** Remembers `id`; returns false when it was already in the window (a duplicate). */
  add(id: string): boolean {
    if (this.capacity === 0) return true;
    const high = this.#parse(id);
    const low = this.#low;
    if (high === NOT_NUMERIC ? this.#others.has(id) : this.#find(high + 1, low) >= 0) return false;
    if (this.#ringIds === this.capacity) this.#evict(this.#next);
    else if (this.#ringIds === this.#ringHigh.length) this.#growRing();
    const slot = this.#next;
    if (high === NOT_NUMERIC) {
      this.#others.add(id);
      this.#otherAt.set(slot, id);
      this.#ringHigh[slot] = 0;
    } else {
      this.#insert(high + 1, low);
      this.#ringHigh[slot] = high + 1;
      this.#ringLow[slot] = low;
    }
    if (this.#ringIds < this.capacity) this.#ringIds++;
    this.#next = (slot + 1) % this.capacity;
    return true;
  }

  /** The id's high part (its low part in #low), or NOT_NUMERIC. */
  #parse(id: string): number {
    const n = id.length;
    if (n === 0 || n > MAX_DIGITS || (n > 1 && id.charCodeAt(0) === 0x30)) return NOT_NUMERIC;
    const split = n > LOW_DIGITS ? n - LOW_DIGITS : 0;
    let high = 0;
    for (let i = 0; i < split; i++) {
      const d = id.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return NOT_NUMERIC;
      high = high * 10 + d;
    }
    let low = 0;
    for (let i = split; i < n; i++) {
      const d = id.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return NOT_NUMERIC;
      low = low * 10 + d;
    }
    this.#low = low;
    return high;
  }

  #home(high1: number, low: number): number {
    let h = Math.imul(low, 0x9e3779b1) ^ Math.imul(high1 >>> 0, 0x85ebca77) ^ ((high1 / 4294967296) | 0);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return h & this.#mask;
  }

  /** The slot holding the id, or -1. */
  #find(high1: number, low: number): number {
    if (this.#numeric === 0) return -1;
    const mask = this.#mask;
    const highs = this.#tableHigh;
    for (let i = this.#home(high1, low); ; i = (i + 1) & mask) {
      const h = highs[i]!;
      if (h === 0) return -1;
      if (h === high1 && this.#tableLow[i] === low) return i;
    }
  }

  #insert(high1: number, low: number): void {
    // At most half full: probes stay short, and a free slot always ends a probe.
    if (2 * (this.#numeric + 1) > this.#tableHigh.length) this.#growTable();
    const mask = this.#mask;
    let i = this.#home(high1, low);
    while (this.#tableHigh[i] !== 0) i = (i + 1) & mask;
    this.#tableHigh[i] = high1;
    this.#tableLow[i] = low;
    this.#numeric++;
  }

  /** Forgets the id in ring slot `slot`. */
  #evict(slot: number): void {
    const high1 = this.#ringHigh[slot]!;
    if (high1 === 0) {
      const id = this.#otherAt.get(slot);
      this.#otherAt.delete(slot);
      if (id !== undefined) this.#others.delete(id);
      return;
    }
    const at = this.#find(high1, this.#ringLow[slot]!);
    if (at >= 0) this.#remove(at);
  }

  /** Empties slot `at`, moving back the entries after it whose probe passed through it. */
  #remove(at: number): void {
    const mask = this.#mask;
    const highs = this.#tableHigh;
    const lows = this.#tableLow;
    let hole = at;
    for (let j = (at + 1) & mask; highs[j] !== 0; j = (j + 1) & mask) {
      const home = this.#home(highs[j]!, lows[j]!);
      // The entry at j may fill the hole if its home is not in the cyclic range (hole, j].
      const reachable = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (reachable) continue;
      highs[hole] = highs[j]!;
      lows[hole] = lows[j]!;
      hole = j;
    }
    highs[hole] = 0;
    lows[hole] = 0;
    this.#numeric--;
  }

  #growTable(): void {
    const oldHighs = this.#tableHigh;
    const oldLows = this.#tableLow;
    const size = Math.max(MIN_TABLE, 2 * oldHighs.length);
    this.#tableHigh = new Float64Array(size);
    this.#tableLow = new Int32Array(size);
    this.#mask = size - 1;
    this.#numeric = 0;
    for (let i = 0; i < oldHighs.length; i++) if (oldHighs[i] !== 0) this.#insert(oldHighs[i]!, oldLows[i]!);
  }

  /** Before the ring is full, it only grows (its ids are in slots 0 .. #ringIds - 1, in order). */
  #growRing(): void {
    const size = Math.min(this.capacity, Math.max(MIN_TABLE, 2 * this.#ringHigh.length));
    const highs = new Float64Array(size);
    const lows = new Int32Array(size);
    highs.set(this.#ringHigh);
    lows.set(this.#ringLow);
    this.#ringHigh = highs;
    this.#ringLow = lows;
  }
}
