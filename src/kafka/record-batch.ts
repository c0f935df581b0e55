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
 * The layout: record-batch-layout.ts.
 */

import {
  compressionsAlgorithms,
  compressionsAlgorithmsByBitmask,
  Reader,
  type RecordsBatch,
  readRecord,
} from '@platformatic/kafka';
import { TweetpipeError } from '../errors.ts';
import {
  ATTRIBUTES_AT,
  BASE_SEQUENCE_AT,
  BASE_TIMESTAMP_AT,
  BATCH_LENGTH_AT,
  batchCrc,
  CODEC_BITS,
  CRC_AT,
  IS_CONTROL,
  LAST_OFFSET_DELTA_AT,
  LEADER_EPOCH_AT,
  LOG_OVERHEAD,
  MAGIC_AT,
  MAGIC_V2,
  MAX_TIMESTAMP_AT,
  PRODUCER_EPOCH_AT,
  PRODUCER_ID_AT,
  RECORD_COUNT_AT,
  RECORDS_AT,
} from './record-batch-layout.ts';
import type { ReusedBuffers } from './reused-buffers.ts';
import { zstdDecompressReused } from './zstd-codec.ts';

/** A batch as the client's consumer reads it, with its records section not yet decoded. */
export interface RawRecordBatch extends RecordsBatch {
  /** The records section exactly as fetched: compressed when the attributes name a codec. */
  readonly body: Buffer;
  readonly recordCount: number;
  /**
   * The body's memory is a copy holding this partition's records of one response and nothing else (the records
   * spanned two of the socket's reads): once its batches are decoded into other memory, it may be freed.
   */
  readonly inOwnCopy: boolean;
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
 * `inOwnCopy`: `bytes` is memory of its own, which nothing else references (RawRecordBatch.inOwnCopy).
 */
export function readRecordBatches(bytes: Buffer, inOwnCopy = false): RawRecordBatch[] {
  const batches: RawRecordBatch[] = [];
  let at = 0;
  while (bytes.length - at >= LOG_OVERHEAD) {
    const length = bytes.readInt32BE(at + BATCH_LENGTH_AT);
    if (length < RECORDS_AT - LOG_OVERHEAD)
      throw corruptBatch(`its length ${length} is shorter than a batch header`, bytes.readBigInt64BE(at));
    const end = at + LOG_OVERHEAD + length;
    if (end > bytes.length) break;
    batches.push(readBatch(bytes.subarray(at, end), inOwnCopy));
    at = end;
  }
  return batches;
}

function readBatch(b: Buffer, inOwnCopy: boolean): RawRecordBatch {
  const firstOffset = b.readBigInt64BE(0);
  const magic = b.readInt8(MAGIC_AT);
  if (magic !== MAGIC_V2)
    throw corruptBatch(
      `message format v${magic}; tweetpipe reads RecordBatch v2 (magic 2) only`,
      firstOffset,
    );
  const crc = b.readUInt32BE(CRC_AT);
  const computed = batchCrc(b);
  if (crc !== computed)
    throw corruptBatch(
      `CRC-32C is ${hex(computed)}, the batch says ${hex(crc)} (damaged in transit or on the broker's disk)`,
      firstOffset,
    );
  const attributes = b.readInt16BE(ATTRIBUTES_AT);
  const batch: RawRecordBatch = {
    firstOffset,
    length: b.length - LOG_OVERHEAD,
    partitionLeaderEpoch: b.readInt32BE(LEADER_EPOCH_AT),
    magic,
    crc,
    attributes,
    lastOffsetDelta: b.readInt32BE(LAST_OFFSET_DELTA_AT),
    firstTimestamp: b.readBigInt64BE(BASE_TIMESTAMP_AT),
    maxTimestamp: b.readBigInt64BE(MAX_TIMESTAMP_AT),
    producerId: b.readBigInt64BE(PRODUCER_ID_AT),
    producerEpoch: b.readInt16BE(PRODUCER_EPOCH_AT),
    firstSequence: b.readInt32BE(BASE_SEQUENCE_AT),
    records: [],
    recordCount: b.readInt32BE(RECORD_COUNT_AT),
    body: b.subarray(RECORDS_AT),
    inOwnCopy,
  };
  if ((attributes & IS_CONTROL) !== 0) {
    const reader = Reader.from(decompressedBody(batch));
    for (let i = 0; i < batch.recordCount; i++) batch.records.push(readRecord(reader));
  }
  return batch;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

const ZSTD_CODEC = compressionsAlgorithms.zstd.bitmask;

/**
 * The records section uncompressed, through the client's codec table (zstd tuned by zstd-codec.ts); zstd into a
 * buffer of `reused` when given (the caller gives it back there).
 */
export function decompressedBody(batch: RawRecordBatch, reused?: ReusedBuffers): Buffer {
  const codec = batch.attributes & CODEC_BITS;
  if (codec === 0) return batch.body;
  if (codec === ZSTD_CODEC && reused) {
    const body = zstdDecompressReused(batch.body, reused);
    if (body) return body;
  }
  const algorithm = compressionsAlgorithmsByBitmask[codec];
  if (!algorithm)
    throw corruptBatch(`compression codec ${codec} is none of gzip, snappy, lz4, zstd`, batch.firstOffset);
  return algorithm.decompressSync(batch.body);
}
