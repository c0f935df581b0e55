/**
 * Kafka RecordBatch v2 (the message format of Kafka >= 0.11, KIP-98), written straight from tweet records: one
 * buffer per batch, sized before a byte is written.
 *
 * Why not the client's encoder: @platformatic/kafka's `createRecordsBatch` builds a Writer and a DynamicBuffer per
 * record, BigInt timestamps, then concatenates the record buffers before compressing; with the message objects and
 * header Maps its `send` builds first, that cost more CPU per tweet than the compression (docs/benchmarks.md,
 * "Produce path, fourth round"). The bytes are the same as the client's for the same records (tested).
 *
 * The batch layout: record-batch-layout.ts.
 * Each record (zigzag varints): length | attributes int8 | timestampDelta varlong | offsetDelta varint | key length
 *   varint | key | value length varint | value | header count varint | (key length, key, value length, value)*.
 *
 * A batch leaves here without a producer (id -1, epoch -1, sequence -1); `stampProducer` writes the idempotent
 * producer's id, epoch and base sequence when the batch is sent (tweet-producer.ts).
 */

import { compressionsAlgorithms } from '@platformatic/kafka';
import type { TweetRecord } from '../types.ts';
import {
  ATTRIBUTES_AT,
  BASE_SEQUENCE_AT,
  BASE_TIMESTAMP_AT,
  BATCH_LENGTH_AT,
  batchCrc,
  CRC_AT,
  LAST_OFFSET_DELTA_AT,
  LEADER_EPOCH_AT,
  MAGIC_AT,
  MAGIC_V2,
  MAX_TIMESTAMP_AT,
  PRODUCER_EPOCH_AT,
  PRODUCER_ID_AT,
  RECORD_COUNT_AT,
  RECORDS_AT,
} from './record-batch-layout.ts';
import { zstdCompressRecords } from './zstd-codec.ts';

/** The codecs of the client's table (zstd-codec.ts tunes its zstd entry); 'none' writes the records as they are. */
export type BatchCompression = keyof typeof compressionsAlgorithms;

/** Kafka's NO_PRODUCER_ID, NO_PRODUCER_EPOCH and NO_SEQUENCE. */
const NO_PRODUCER = -1;
/** Sequence numbers are int32 and wrap to 0 after 2^31 - 1 (Kafka's DefaultRecordBatch.incrementSequence). */
const SEQUENCE_WRAP = 0x80000000;

/** Record headers as [key, value] byte pairs, in wire order. */
export type RecordHeaders = readonly (readonly [Uint8Array, Uint8Array])[];

/** A record of any shape (a dead letter's): its key (null: none), value, timestamp and own headers. */
export interface KeyedRecord {
  key: Uint8Array | null;
  value: Uint8Array;
  timestampMs: number;
  headers: RecordHeaders;
}

/** Bytes of the unsigned varint `z` (a zigzag-encoded value, a safe integer >= 0). */
function varintSize(z: number): number {
  let size = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    size++;
  }
  return size;
}

/** Zigzag of a signed safe integer: 0, -1, 1, -2 -> 0, 1, 2, 3 (in doubles: deltas may pass 2^31). */
const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

function writeVarint(buf: Buffer, at: number, z: number): number {
  while (z >= 128) {
    buf[at++] = (z % 128) | 128;
    z = Math.floor(z / 128);
  }
  buf[at++] = z;
  return at;
}

/** The header section of a record: count, then each key and value with its length. */
function encodeHeaders(headers: RecordHeaders): Buffer {
  let size = varintSize(zigzag(headers.length));
  for (const [k, v] of headers)
    size += varintSize(zigzag(k.length)) + k.length + varintSize(zigzag(v.length)) + v.length;
  const out = Buffer.allocUnsafe(size);
  let at = writeVarint(out, 0, zigzag(headers.length));
  for (const [k, v] of headers) {
    at = writeVarint(out, at, zigzag(k.length));
    out.set(k, at);
    at = writeVarint(out, at + k.length, zigzag(v.length));
    out.set(v, at);
    at += v.length;
  }
  return out;
}

/** A record's body length (what follows its length varint); `keyLength` -1 is a null key. */
const recordBody = (
  timestampDelta: number,
  offsetDelta: number,
  keyLength: number,
  valueLength: number,
  headersLength: number,
): number =>
  1 +
  varintSize(zigzag(timestampDelta)) +
  varintSize(offsetDelta * 2) +
  varintSize(zigzag(keyLength)) +
  Math.max(keyLength, 0) +
  varintSize(valueLength * 2) +
  valueLength +
  headersLength;

/** Writes a record up to its key: length, attributes, timestamp delta, offset delta, key length. */
function writeRecordHead(
  raw: Buffer,
  at: number,
  body: number,
  timestampDelta: number,
  offsetDelta: number,
  keyLength: number,
): number {
  at = writeVarint(raw, at, body * 2);
  raw[at++] = 0; // record attributes: unused
  at = writeVarint(raw, at, zigzag(timestampDelta));
  at = writeVarint(raw, at, offsetDelta * 2);
  return writeVarint(raw, at, zigzag(keyLength));
}

/** Writes a record's value with its length, then its header section. */
function writeRecordTail(raw: Buffer, at: number, value: Uint8Array, headerBytes: Uint8Array): number {
  at = writeVarint(raw, at, value.length * 2);
  raw.set(value, at);
  at += value.length;
  raw.set(headerBytes, at);
  return at + headerBytes.length;
}

/** Per-record sizes of the batch being encoded, kept between the sizing pass and the writing pass. */
let keyLengths = new Int32Array(1024);
let bodyLengths = new Int32Array(1024);
/** Uncompressed records of the batch being encoded, before compression. */
let scratch = Buffer.allocUnsafe(1024 * 1024);

/** Where `size` bytes of records go: to compress, a scratch buffer kept for the next batch; else the batch itself. */
function recordsBuffer(size: number, compression: BatchCompression): Buffer {
  if (compressionsAlgorithms[compression].bitmask === 0) return Buffer.allocUnsafe(RECORDS_AT + size);
  // compressSync is done with the scratch buffer on return, so every batch reuses it.
  if (scratch.length < RECORDS_AT + size)
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, RECORDS_AT + size));
  return scratch;
}

function sizeArrays(n: number): void {
  if (keyLengths.length >= n) return;
  keyLengths = new Int32Array(n * 2);
  bodyLengths = new Int32Array(n * 2);
}

/**
 * One RecordBatch holding `records` in order (offset deltas 0..n-1): key = the tweet id in UTF-8, value = the
 * document, timestamp = created_at, `headers` on every record. Compressed with the client's codec `compression`.
 */
export function encodeRecordBatch(
  records: readonly TweetRecord[],
  headers: RecordHeaders,
  compression: BatchCompression,
): Buffer {
  const n = records.length;
  if (n === 0) throw new RangeError('a record batch needs at least one record');
  sizeArrays(n);
  const headerBytes = encodeHeaders(headers);
  const baseTimestamp = records[0]!.createdAtMs;
  let maxTimestamp = baseTimestamp;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    if (r.createdAtMs > maxTimestamp) maxTimestamp = r.createdAtMs;
    const keyLength = Buffer.byteLength(r.id, 'utf8');
    const body = recordBody(r.createdAtMs - baseTimestamp, i, keyLength, r.value.length, headerBytes.length);
    keyLengths[i] = keyLength;
    bodyLengths[i] = body;
    size += varintSize(body * 2) + body;
  }
  const raw = recordsBuffer(size, compression);
  let at = RECORDS_AT;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    at = writeRecordHead(raw, at, bodyLengths[i]!, r.createdAtMs - baseTimestamp, i, keyLengths[i]!);
    at += raw.write(r.id, at, 'utf8');
    at = writeRecordTail(raw, at, r.value, headerBytes);
  }
  return sealBatch(raw, at, n, baseTimestamp, maxTimestamp, compression);
}

/**
 * One RecordBatch holding `records` in order, each with its own key, timestamp and headers. For the few records
 * of other shapes (dead letters): the client's own encoder gets timestamps 24.8 days or more from the batch's
 * first wrong (its 64-bit zigzag varint shifts by 31 bits), and a replayed archive's dead letters span years.
 */
export function encodeKeyedRecordBatch(
  records: readonly KeyedRecord[],
  compression: BatchCompression,
): Buffer {
  const n = records.length;
  if (n === 0) throw new RangeError('a record batch needs at least one record');
  const baseTimestamp = records[0]!.timestampMs;
  let maxTimestamp = baseTimestamp;
  let size = 0;
  const headerBytes = records.map((r) => encodeHeaders(r.headers));
  const bodies = records.map((r, i) => {
    if (r.timestampMs > maxTimestamp) maxTimestamp = r.timestampMs;
    const body = recordBody(
      r.timestampMs - baseTimestamp,
      i,
      r.key?.length ?? -1,
      r.value.length,
      headerBytes[i]!.length,
    );
    size += varintSize(body * 2) + body;
    return body;
  });
  const raw = recordsBuffer(size, compression);
  let at = RECORDS_AT;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    at = writeRecordHead(raw, at, bodies[i]!, r.timestampMs - baseTimestamp, i, r.key?.length ?? -1);
    if (r.key) {
      raw.set(r.key, at);
      at += r.key.length;
    }
    at = writeRecordTail(raw, at, r.value, headerBytes[i]!);
  }
  return sealBatch(raw, at, n, baseTimestamp, maxTimestamp, compression);
}

/** The batch around the records written in `raw` up to `at`: compressed when the codec says so, header filled. */
function sealBatch(
  raw: Buffer,
  at: number,
  n: number,
  baseTimestamp: number,
  maxTimestamp: number,
  compression: BatchCompression,
): Buffer {
  const codec = compressionsAlgorithms[compression];
  let batch = raw;
  if (codec.bitmask !== 0) {
    const records = raw.subarray(RECORDS_AT, at);
    const body = compression === 'zstd' ? zstdCompressRecords(records) : codec.compressSync(records);
    batch = Buffer.allocUnsafe(RECORDS_AT + body.length);
    batch.set(body, RECORDS_AT);
  }
  batch.writeBigInt64BE(0n, 0);
  batch.writeInt32BE(batch.length - LEADER_EPOCH_AT, BATCH_LENGTH_AT);
  // The client writes 0; the broker sets the leader's epoch on append either way.
  batch.writeInt32BE(0, LEADER_EPOCH_AT);
  batch[MAGIC_AT] = MAGIC_V2;
  batch.writeInt16BE(codec.bitmask, ATTRIBUTES_AT);
  batch.writeInt32BE(n - 1, LAST_OFFSET_DELTA_AT);
  batch.writeBigInt64BE(BigInt(baseTimestamp), BASE_TIMESTAMP_AT);
  batch.writeBigInt64BE(BigInt(maxTimestamp), MAX_TIMESTAMP_AT);
  batch.writeInt32BE(n, RECORD_COUNT_AT);
  writeProducer(batch, BigInt(NO_PRODUCER), NO_PRODUCER, NO_PRODUCER);
  return batch;
}

/** The idempotent producer fields of a batch (sequence -1 until stamped). */
export interface BatchProducer {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

export const batchProducer = (batch: Buffer): BatchProducer => ({
  producerId: batch.readBigInt64BE(PRODUCER_ID_AT),
  producerEpoch: batch.readInt16BE(PRODUCER_EPOCH_AT),
  baseSequence: batch.readInt32BE(BASE_SEQUENCE_AT),
});

export const batchRecordCount = (batch: Buffer): number => batch.readInt32BE(RECORD_COUNT_AT);

/** The sequence after a batch of `count` records starting at `baseSequence`. */
export const nextSequence = (baseSequence: number, count: number): number =>
  (baseSequence + count) % SEQUENCE_WRAP;

/** Writes the producer's id, epoch and the batch's base sequence in place, and the CRC that covers them. */
export function stampProducer(batch: Buffer, producer: BatchProducer): void {
  writeProducer(batch, producer.producerId, producer.producerEpoch, producer.baseSequence);
}

function writeProducer(batch: Buffer, producerId: bigint, epoch: number, baseSequence: number): void {
  batch.writeBigInt64BE(producerId, PRODUCER_ID_AT);
  batch.writeInt16BE(epoch, PRODUCER_EPOCH_AT);
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE_AT);
  batch.writeUInt32BE(batchCrc(batch), CRC_AT);
}
