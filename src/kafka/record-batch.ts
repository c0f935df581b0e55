/**
 * Kafka's RecordBatch v2 framing (the log format since Kafka 0.11, the only one Kafka 4 stores), read from the
 * records section of a Fetch response without decoding the records: each batch keeps its records section as it came
 * (compressed or not) in `body`, and record-batch-records.ts decodes it only when the sink takes the batch (after
 * the client dropped aborted transactions, which are therefore never decompressed).
 *
 * The batches carry the header fields of the client's own `RecordsBatch` (its consumer and MessagesStream read them
 * to track fetch offsets, leader epochs and aborted transactions), with `records` left empty, except in control
 * batches: the client reads the marker's key there to close aborted ranges, so their few records are decoded with
 * its own `readRecord`.
 *
 * Layout (https://kafka.apache.org/documentation/#recordbatch), offsets from the batch start:
 *   0 baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32 | 16 magic int8 | 17 crc uint32
 *   21 attributes int16 | 23 lastOffsetDelta int32 | 27 baseTimestamp int64 | 35 maxTimestamp int64
 *   43 producerId int64 | 51 producerEpoch int16 | 53 baseSequence int32 | 57 recordCount int32 | 61 records
 * batchLength counts from partitionLeaderEpoch to the end; the CRC-32C covers attributes to the end.
 */

import {
  compressionsAlgorithmsByBitmask,
  crc32c,
  Reader,
  type RecordsBatch,
  readRecord,
} from '@platformatic/kafka';
import { TweetpipeError } from '../errors.ts';

/** baseOffset and batchLength: what must be there to know a batch's size. */
const LOG_OVERHEAD = 12;
const RECORDS_AT = 61;
const CRC_FROM = 21;
const MAGIC_V2 = 2;
const CODEC_BITS = 0x07;
/** Kafka's RecordBatch attribute bit of control batches (transaction markers). */
export const IS_CONTROL = 0x20;

/** A batch as the client's consumer reads it, with its records section not yet decoded. */
export interface RawRecordBatch extends RecordsBatch {
  /** The records section exactly as fetched: compressed when the attributes name a codec. */
  readonly body: Buffer;
  readonly recordCount: number;
}

export const isRawRecordBatch = (batch: RecordsBatch): batch is RawRecordBatch => 'body' in batch;

/** A record batch whose bytes cannot be what the broker wrote: refused, never guessed around. */
export function corruptBatch(what: string, baseOffset: bigint | number): TweetpipeError {
  return new TweetpipeError('KAFKA', `corrupt record batch at offset ${baseOffset}: ${what}`, {
    details: { baseOffset: String(baseOffset) },
  });
}

/**
 * The complete batches in `bytes` (the records of one partition of a Fetch response). A last batch the broker cut
 * short at the fetch's byte limit is left out, as Kafka's clients do: the next fetch starts at its offset.
 */
export function readRecordBatches(bytes: Buffer): RawRecordBatch[] {
  const batches: RawRecordBatch[] = [];
  let at = 0;
  while (bytes.length - at >= LOG_OVERHEAD) {
    const length = bytes.readInt32BE(at + 8);
    if (length < RECORDS_AT - LOG_OVERHEAD)
      throw corruptBatch(`its length ${length} is shorter than a batch header`, bytes.readBigInt64BE(at));
    const end = at + LOG_OVERHEAD + length;
    if (end > bytes.length) break;
    batches.push(readBatch(bytes.subarray(at, end)));
    at = end;
  }
  return batches;
}

function readBatch(b: Buffer): RawRecordBatch {
  const firstOffset = b.readBigInt64BE(0);
  const magic = b.readInt8(16);
  if (magic !== MAGIC_V2)
    throw corruptBatch(
      `message format v${magic}; tweetpipe reads RecordBatch v2 (magic 2) only`,
      firstOffset,
    );
  const crc = b.readUInt32BE(17);
  // The client's crc32c copies a Buffer before hashing, but not the bytes of its own DynamicBuffer.
  const computed = crc32c(Reader.from(b.subarray(CRC_FROM)).buffer);
  if (crc !== computed)
    throw corruptBatch(
      `CRC-32C is ${hex(computed)}, the batch says ${hex(crc)} (damaged in transit or on the broker's disk)`,
      firstOffset,
    );
  const attributes = b.readInt16BE(21);
  const batch: RawRecordBatch = {
    firstOffset,
    length: b.length - LOG_OVERHEAD,
    partitionLeaderEpoch: b.readInt32BE(12),
    magic,
    crc,
    attributes,
    lastOffsetDelta: b.readInt32BE(23),
    firstTimestamp: b.readBigInt64BE(27),
    maxTimestamp: b.readBigInt64BE(35),
    producerId: b.readBigInt64BE(43),
    producerEpoch: b.readInt16BE(51),
    firstSequence: b.readInt32BE(53),
    records: [],
    recordCount: b.readInt32BE(57),
    body: b.subarray(RECORDS_AT),
  };
  if ((attributes & IS_CONTROL) !== 0) {
    const reader = Reader.from(decompressedBody(batch));
    for (let i = 0; i < batch.recordCount; i++) batch.records.push(readRecord(reader));
  }
  return batch;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** The records section uncompressed, through the client's codec table (zstd tuned by zstd-codec.ts). */
export function decompressedBody(batch: RawRecordBatch): Buffer {
  const codec = batch.attributes & CODEC_BITS;
  if (codec === 0) return batch.body;
  const algorithm = compressionsAlgorithmsByBitmask[codec];
  if (!algorithm)
    throw corruptBatch(`compression codec ${codec} is none of gzip, snappy, lz4, zstd`, batch.firstOffset);
  return algorithm.decompressSync(batch.body);
}
