/**
 * The string columns of one row group as UTF-8 bytes: each value is copied from the record into one growing buffer
 * per column, with its end offset in a typed array, so adding a row allocates nothing.
 *
 * Why bytes and not JS strings: the Parquet writer stores UTF-8, so a string decoded from the record only to be
 * encoded again by the writer (TextEncoder per value) cost about 4 us of a tweet's 25 and most of the garbage.
 * Valid JSON and UTF-8 were checked by classify() (sink-record.ts), so an unescaped string's bytes are its UTF-8.
 */
import { decodeString } from '../../json/strings.ts';

const INITIAL_VALUES = 1024;
const INITIAL_BYTES = 16 * 1024;
/** Interning (values()) is for short repeated values: tags, languages, sources. */
const INTERN_MAX_BYTES = 64;
const INTERN_MAX_VALUES = 4096;
/** Below this length a JS loop copies faster than the native call of Buffer.copy. */
const LOOP_COPY_BYTES = 32;

/** A column of nullable strings. */
export class ByteColumn {
  #bytes = Buffer.allocUnsafe(INITIAL_BYTES);
  #used = 0;
  /** Where each value ends in #bytes (it starts where the one before ends). */
  #ends = new Int32Array(INITIAL_VALUES);
  #isNull = new Uint8Array(INITIAL_VALUES);
  #count = 0;

  get length(): number {
    return this.#count;
  }

  /** Bytes held, for the encoder's memory bound. */
  get byteLength(): number {
    return this.#used;
  }

  /** Adds the JSON string whose contents lie in b[start, end) (`escaped`: it holds a backslash escape). */
  pushJson(b: Buffer, start: number, end: number, escaped: boolean): void {
    if (escaped) {
      this.pushString(decodeString(b, start, end, true));
      return;
    }
    const length = end - start;
    const at = this.#reserve(length);
    const out = this.#bytes;
    if (length < LOOP_COPY_BYTES) for (let k = 0; k < length; k++) out[at + k] = b[start + k]!;
    else b.copy(out, at, start, end);
  }

  pushString(s: string): void {
    const at = this.#reserve(Buffer.byteLength(s, 'utf8'));
    this.#bytes.write(s, at, 'utf8');
  }

  pushNull(): void {
    this.#reserve(0);
    this.#isNull[this.#count - 1] = 1;
  }

  /**
   * The values from index `from` to `to`, as views of the column's buffer: valid until the next push or clear.
   * With `interned`, equal short values share one view: hyparquet-writer's dictionary then finds a repeat by
   * identity, where a fresh view per value cost it a hash, a bucket search and a Map entry each (3 us a row for
   * the columns below, more than reading the whole record).
   */
  values(from = 0, to = this.#count, interned = false): (Uint8Array | null)[] {
    const out = new Array<Uint8Array | null>(to - from);
    const seen = interned ? new Map<number, Uint8Array>() : undefined;
    let start = from === 0 ? 0 : this.#ends[from - 1]!;
    for (let k = from; k < to; k++) {
      const end = this.#ends[k]!;
      out[k - from] =
        this.#isNull[k] === 1 ? null : seen ? this.#intern(seen, start, end) : this.#view(start, end);
      start = end;
    }
    return out;
  }

  /** A plain Uint8Array view: a Buffer's subarray costs several times more to make. */
  #view(start: number, end: number): Uint8Array {
    return new Uint8Array(this.#bytes.buffer, this.#bytes.byteOffset + start, end - start);
  }

  /** The view `seen` holds for these bytes, else a new one it then holds (short values, a bounded number). */
  #intern(seen: Map<number, Uint8Array>, start: number, end: number): Uint8Array {
    if (end - start > INTERN_MAX_BYTES) return this.#view(start, end);
    const b = this.#bytes;
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ b[i]!, 0x01000193);
    const known = seen.get(hash);
    if (known !== undefined && known.length === end - start) {
      let same = true;
      for (let i = 0; same && i < known.length; i++) same = known[i] === b[start + i];
      if (same) return known;
    }
    const view = this.#view(start, end);
    if (known === undefined && seen.size < INTERN_MAX_VALUES) seen.set(hash, view);
    return view;
  }

  /**
   * Forgets the values and gives back buffers grown past their first size: a file's next row group may be far
   * smaller, and memory its encoder keeps between row groups would be outside every byte count of the sink.
   */
  clear(): void {
    this.#isNull.fill(0, 0, this.#count);
    this.#count = 0;
    this.#used = 0;
    if (this.#ends.length > INITIAL_VALUES) {
      this.#ends = new Int32Array(INITIAL_VALUES);
      this.#isNull = new Uint8Array(INITIAL_VALUES);
    }
    if (this.#bytes.length > INITIAL_BYTES) this.#bytes = Buffer.allocUnsafe(INITIAL_BYTES);
  }

  /** Makes room for one more value of `length` bytes; returns where its bytes go. */
  #reserve(length: number): number {
    const k = this.#count;
    if (k === this.#ends.length) {
      const ends = new Int32Array(k * 2);
      ends.set(this.#ends);
      this.#ends = ends;
      const isNull = new Uint8Array(k * 2);
      isNull.set(this.#isNull);
      this.#isNull = isNull;
    }
    const at = this.#used;
    if (at + length > this.#bytes.length) {
      const bytes = Buffer.allocUnsafe(Math.max(this.#bytes.length * 2, at + length));
      this.#bytes.copy(bytes, 0, 0, at);
      this.#bytes = bytes;
    }
    this.#used = at + length;
    this.#ends[k] = this.#used;
    this.#count = k + 1;
    return at;
  }
}

/** Shared by every empty row of a list column: the writer only reads it. */
const NO_VALUES: readonly Uint8Array[] = Object.freeze([]);

/** A column of lists of strings (never null: an absent list is an empty one). */
export class ByteListColumn {
  /** Every list's elements, one after the other. */
  readonly elements = new ByteColumn();
  /** Where each row's elements end in `elements`. */
  #rowEnds = new Int32Array(INITIAL_VALUES);
  #rows = 0;

  get byteLength(): number {
    return this.elements.byteLength;
  }

  /** Ends the current row: the elements pushed since the last endRow are its list. */
  endRow(): void {
    const row = this.#rows;
    if (row === this.#rowEnds.length) {
      const rowEnds = new Int32Array(row * 2);
      rowEnds.set(this.#rowEnds);
      this.#rowEnds = rowEnds;
    }
    this.#rowEnds[row] = this.elements.length;
    this.#rows = row + 1;
  }

  /** Each row's list, its elements views of the column's buffer (see ByteColumn.values). */
  values(interned = false): (readonly Uint8Array[])[] {
    const elements = this.elements.values(0, this.elements.length, interned) as Uint8Array[];
    const out = new Array<readonly Uint8Array[]>(this.#rows);
    let from = 0;
    for (let row = 0; row < this.#rows; row++) {
      const to = this.#rowEnds[row]!;
      out[row] = from === to ? NO_VALUES : elements.slice(from, to);
      from = to;
    }
    return out;
  }

  clear(): void {
    this.elements.clear();
    this.#rows = 0;
    if (this.#rowEnds.length > INITIAL_VALUES) this.#rowEnds = new Int32Array(INITIAL_VALUES);
  }
}
