/**
 * Turns a consumed Kafka record into what the sink writes, or says why it cannot be written (a poison record,
 * which the caller dead-letters). Parsing happens once here; every format and partitioner reads the result.
 */
import { isUtf8 } from 'node:buffer';
import type { KafkaRecord } from '../types.ts';

export interface SinkRecord {
  topic: string;
  partition: number;
  offset: bigint;
  /** Epoch ms that chooses the time partition: the Kafka timestamp (tweet created_at), else the value's created_at. */
  timestampMs: number;
  /** The value bytes exactly as consumed. */
  value: Buffer;
  /** The parsed value; a JSON object with a non-empty string `id`. */
  doc: Record<string, unknown>;
  headers: Map<string, Buffer>;
}

export interface PoisonRecord {
  record: KafkaRecord;
  reason: string;
}

export type Classified = { ok: true; record: SinkRecord } | { ok: false; reason: string };

/** Timestamps outside 1970..9999 are treated as missing. */
const MAX_TIMESTAMP_MS = 253_402_300_799_999;

const usable = (ms: number): boolean => Number.isFinite(ms) && ms > 0 && ms <= MAX_TIMESTAMP_MS;

export function classify(record: KafkaRecord): Classified {
  const { value } = record;
  if (value === null || value.length === 0) return { ok: false, reason: 'value is empty' };
  if (!isUtf8(value)) return { ok: false, reason: 'value is not valid UTF-8' };
  let doc: unknown;
  try {
    doc = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `value is not JSON: ${(err as Error).message}` };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    return { ok: false, reason: 'value is not a JSON object' };
  const obj = doc as Record<string, unknown>;
  if (typeof obj.id !== 'string' || obj.id === '') return { ok: false, reason: 'value has no string id' };
  let timestampMs = record.timestamp;
  if (!usable(timestampMs)) {
    timestampMs = typeof obj.created_at === 'string' ? Date.parse(obj.created_at) : Number.NaN;
    if (!usable(timestampMs))
      return { ok: false, reason: 'no usable timestamp (record timestamp or created_at)' };
  }
  return {
    ok: true,
    record: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestampMs,
      value,
      doc: obj,
      headers: record.headers,
    },
  };
}
