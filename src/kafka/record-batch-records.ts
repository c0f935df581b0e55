/**
 * The records of a RecordBatch v2, decoded straight from the batch bytes into the sink's KafkaRecords.
 *
 * Why not the client's decoder: per record, @platformatic/kafka's `readRecord` builds a record object, a headers
 * array with a pair array and two Buffers per header, key and value Buffers and two BigInts (the timestamp delta
 * read as a varlong, and the offset delta turned into one to add to the base offset), all of which the sink then
 * copied into a KafkaRecord. Here a record is one KafkaRecord whose key and value are views of the (decompressed)
 * batch (the key's made only when read), offsets and timestamps are numbers, and the headers Map is shared by consecutive records whose header
 * bytes are identical (the producer writes the same source and schema version on every record of a source). Like
 * the empty Map of records without headers before it, a shared Map is safe because the sink only reads headers.
 *
 * Offsets as numbers are exact: an offset is below 2^53 unless a partition took more than 9 * 10^15 records (285
 * years at a million records a second), and `safeOffset` refuses one that is not rather than round it. Timestamps
 * are epoch milliseconds (year 2026 is 1.8 * 10^12, far below 2^53); a delta beyond 2^53 ms cannot be a real time,
 * and the sink treats timestamps outside 1970..9999 as missing anyway.
 *
 * Record layout (https://kafka.apache.org/documentation/#record), varints zigzag-encoded:
 *   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint | keyLength varint | key
 *   | valueLength varint | value | headerCount varint | [headerKeyLength varint | key | headerValueLength varint | value]
 * A length of -1 is null.
 */

import type { KafkaRecord } from '../types.ts';
import { corruptBatch, decompressedBody, type RawRecordBatch } from './record-batch.ts';

/** Shared by every record without headers (the sink only reads headers, never writes them). */
const NO_HEADERS: Map<string, Buffer> = new Map();
const EMPTY = Buffer.alloc(0);

/** `offset` as a number, or an error that says why it cannot be one. */
export function safeOffset(offset: bigint): number {
  const n = Number(offset);
  if (!Number.isSafeInteger(n))
    throw corruptBatch(
      `offset ${offset} is beyond 2^53, where tweetpipe's offsets (JS numbers) lose precision`,
      offset,
    );
  return n;
}

/** A read position in the records section of one batch. */
class RecordReader {
  at = 0;
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /** A zigzag varint of at most 32 bits. */
  varint(): number {
    const b = this.bytes;
    let u = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = b[this.at++] ?? 0;
      u |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80 && shift < 35);
    return (u >>> 1) ^ -(u & 1);
  }

  /** A zigzag varlong as a number: exact up to 2^53 (see the header comment). */
  varlong(): number {
    const b = this.bytes;
    let value = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = b[this.at++] ?? 0;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80 && scale < 2 ** 70);
    return value % 2 === 1 ? -(value + 1) / 2 : value / 2;
  }

  /** Length-prefixed bytes as a view, null for length -1; undefined when they would run past `end`. */
  bytesUpTo(end: number): Buffer | null | undefined {
    const length = this.skipBytesUpTo(end);
    if (length === undefined) return undefined;
    return length < 0 ? null : this.bytes.subarray(this.at - length, this.at);
  }

  /** Skips length-prefixed bytes: their length (-1 for null), or undefined when they would run past `end`. */
  skipBytesUpTo(end: number): number | undefined {
    const length = this.varint();
    if (length === -1) return -1;
    this.at += length;
    if (length < 0 || this.at > end) return undefined;
    return length;
  }
}

/**
 * A decoded record. Its key becomes a view of the batch only when read: the sink reads keys of dead letters
 * alone, and a view per record is ~100 B more of heap per record for V8's collector, a third of the sink's CPU
 * (docs/benchmarks.md, "Fifth round: sink CPU").
 */
class FetchedRecord implements KafkaRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly timestamp: number;
  readonly value: Buffer | null;
  readonly headers: Map<string, Buffer>;
  readonly #batch: Buffer;
  readonly #keyAt: number;
  /** -1 for a null key. */
  readonly #keyLength: number;

  constructor(
    topic: string,
    partition: number,
    offset: number,
    timestamp: number,
    batch: Buffer,
    keyAt: number,
    keyLength: number,
    value: Buffer | null,
    headers: Map<string, Buffer>,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.offset = BigInt(offset);
    this.timestamp = timestamp;
    this.value = value;
    this.headers = headers;
    this.#batch = batch;
    this.#keyAt = keyAt;
    this.#keyLength = keyLength;
  }

  get key(): Buffer | null {
    return this.#keyLength < 0 ? null : this.#batch.subarray(this.#keyAt, this.#keyAt + this.#keyLength);
  }
}

/**
 * Appends to `into` the records of `batch` at or after offset `from` (a compressed batch can start before the
 * offset a fetch asked for). `body` is its records section uncompressed, when the caller already has it.
 */
export function decodeRecords(
  batch: RawRecordBatch,
  topic: string,
  partition: number,
  from: number,
  into: KafkaRecord[],
  body: Buffer = decompressedBody(batch),
): void {
  const baseOffset = safeOffset(batch.firstOffset);
  const lastOffsetDelta = batch.lastOffsetDelta;
  safeOffset(batch.firstOffset + BigInt(lastOffsetDelta));
  const baseTimestamp = Number(batch.firstTimestamp);
  const reader = new RecordReader(body);
  const size = reader.bytes.length;
  const corrupt = (i: number, what: string) =>
    corruptBatch(`record ${i} of ${batch.recordCount}: ${what}`, batch.firstOffset);
  // The header bytes of the last record that had headers, and the Map decoded from them.
  let lastHeaderBytes: Buffer | undefined;
  let lastHeaders = NO_HEADERS;
  for (let i = 0; i < batch.recordCount; i++) {
    const length = reader.varint();
    const end = reader.at + length;
    if (length < 0 || end > size) throw corrupt(i, 'runs past the end of the batch');
    reader.at++; // attributes: unused by RecordBatch v2
    const timestampDelta = reader.varlong();
    const offsetDelta = reader.varint();
    if (offsetDelta < 0 || offsetDelta > lastOffsetDelta)
      throw corrupt(i, `offset delta ${offsetDelta} is outside the batch's 0..${lastOffsetDelta}`);
    const offset = baseOffset + offsetDelta;
    if (offset < from) {
      reader.at = end;
      continue;
    }
    const keyLength = reader.skipBytesUpTo(end);
    const keyAt = reader.at - Math.max(0, keyLength ?? 0);
    const value = reader.bytesUpTo(end);
    if (keyLength === undefined || value === undefined) throw corrupt(i, 'key or value runs past the record');
    const headersAt = reader.at;
    let headers = NO_HEADERS;
    if (reader.bytes[headersAt] === 0)
      reader.at++; // no headers: a count of 0 is the one byte 0
    else if (lastHeaderBytes !== undefined && sameBytes(reader.bytes, headersAt, end, lastHeaderBytes)) {
      headers = lastHeaders;
      reader.at = end;
    } else {
      const decoded = readHeaders(reader, end);
      if (decoded === undefined) throw corrupt(i, 'a header runs past the record');
      headers = decoded;
      lastHeaderBytes = reader.bytes.subarray(headersAt, end);
      lastHeaders = headers;
    }
    if (reader.at !== end)
      throw corrupt(i, `its fields take ${reader.at - end + length} bytes, its length says ${length}`);
    into.push(
      new FetchedRecord(
        topic,
        partition,
        offset,
        baseTimestamp + timestampDelta,
        reader.bytes,
        keyAt,
        keyLength,
        value,
        headers,
      ),
    );
  }
}

function sameBytes(bytes: Buffer, from: number, to: number, other: Buffer): boolean {
  if (to - from !== other.length) return false;
  for (let i = 0; i < other.length; i++) if (bytes[from + i] !== other[i]) return false;
  return true;
}

function readHeaders(reader: RecordReader, end: number): Map<string, Buffer> | undefined {
  const count = reader.varint();
  const headers = new Map<string, Buffer>();
  for (let h = 0; h < count; h++) {
    const key = reader.bytesUpTo(end);
    const value = reader.bytesUpTo(end);
    if (key === undefined || value === undefined) return undefined;
    headers.set(key === null ? '' : key.toString('utf8'), value ?? EMPTY);
  }
  return headers;
}
