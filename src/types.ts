/** Types shared by the sources, the Kafka layer and the sink. */

/** Version of the record value layout (docs/record-schema.md); also sent as a Kafka header. */
export const RECORD_SCHEMA_VERSION = 2;

/** One tweet ready for Kafka: the record contract of docs/record-schema.md. */
export interface TweetRecord {
  /** Tweet id (decimal string, up to 19 digits; compare with compareIds, never as a JS number). */
  id: string;
  /** created_at in epoch milliseconds; becomes the Kafka record timestamp. */
  createdAtMs: number;
  /** The self-contained JSON document, UTF-8 encoded. */
  value: Buffer;
}

/** A malformed payload or record on its way to the dead-letter topic (headers: docs/record-schema.md). */
export interface DeadLetter {
  /** The bytes as received: a payload from the source, or the value of a consumed record. */
  raw: Buffer;
  reason: string;
  /** The consumed record it was, when the sink dead-letters it: its key, timestamp and headers are kept. */
  record?: KafkaRecord;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A record as the sink sees it after consuming. */
export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: bigint;
  /** Record timestamp in epoch ms (CreateTime = tweet created_at). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Map<string, Buffer>;
}

/** Compares two tweet ids (snowflakes as decimal strings) without losing precision. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
