/**
 * Kafka's RecordBatch v2 layout (https://kafka.apache.org/documentation/#recordbatch), the log format since Kafka
 * 0.11 and the only one Kafka 4 stores, shared by the sink's decoder (record-batch.ts) and the producer's encoder
 * (record-batch-encode.ts). Offsets from the batch start, big-endian:
 *   0 baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32 | 16 magic int8 | 17 crc uint32
 *   21 attributes int16 | 23 lastOffsetDelta int32 | 27 baseTimestamp int64 | 35 maxTimestamp int64
 *   43 producerId int64 | 51 producerEpoch int16 | 53 baseSequence int32 | 57 recordCount int32 | 61 records
 * batchLength counts from partitionLeaderEpoch to the end; the CRC-32C covers attributes to the end.
 */
import { crc32c, Reader } from '@platformatic/kafka';

export const BATCH_LENGTH_AT = 8;
export const LEADER_EPOCH_AT = 12;
export const MAGIC_AT = 16;
export const CRC_AT = 17;
export const ATTRIBUTES_AT = 21;
export const LAST_OFFSET_DELTA_AT = 23;
export const BASE_TIMESTAMP_AT = 27;
export const MAX_TIMESTAMP_AT = 35;
export const PRODUCER_ID_AT = 43;
export const PRODUCER_EPOCH_AT = 51;
export const BASE_SEQUENCE_AT = 53;
export const RECORD_COUNT_AT = 57;
/** Where the records start: the size of the header. */
export const RECORDS_AT = 61;
/** baseOffset and batchLength: what must be there to know a batch's size. */
export const LOG_OVERHEAD = 12;

export const MAGIC_V2 = 2;
/** The attribute bits naming the compression codec. */
export const CODEC_BITS = 0x07;
/** The attribute bit of control batches (transaction markers). */
export const IS_CONTROL = 0x20;

/**
 * The CRC-32C a batch carries: of its bytes from attributes to the end. Through the client's DynamicBuffer: its
 * `crc32c` copies a Buffer argument into a new Uint8Array before hashing (a new allocation of the batch's size for
 * every batch sent or read), but hashes the bytes of its own DynamicBuffer in place.
 */
export const batchCrc = (batch: Buffer): number =>
  crc32c(Reader.from(batch.subarray(ATTRIBUTES_AT)).buffer) >>> 0;
