/**
 * Turns a consumed Kafka record into what the sink writes, or says why it cannot be written (a poison record,
 * which the caller dead-letters). Validation scans the bytes without building the document (json-scan.ts):
 * JSONL writes the value as it is and never needs it, and Parquet reads its columns from the bytes
 * (formats/tweet-fields.ts). The parsed document is built on first read of `doc`, by field partitioning only.
 */
import { isUtf8 } from 'node:buffer';
import type { KafkaRecord } from '../types.ts';
import { newJsonScan, scanJson } from './json-scan.ts';

export interface SinkRecord {
  topic: string;
  partition: number;
  offset: bigint;
  /** Epoch ms that chooses the time partition: the Kafka timestamp (tweet created_at), else the value's created_at. */
  timestampMs: number;
  /** The value bytes exactly as consumed. */
  value: Buffer;
  /**
   * True when validation found no byte below 0x20 in the value (so no raw CR or LF): JSON Lines writes it as it
   * is without searching it for line breaks. False or absent: not known, the writer looks.
   */
  oneLine?: boolean;
  /** The parsed value, a JSON object with a non-empty string `id`; parsed on first read, then cached. */
  readonly doc: Record<string, unknown>;
  /**
   * Drops the cached `doc` once the record is written. The batch that holds the record lives on while the rest of
   * it is encoded, and a batch of 5,000 parsed tweets outgrows V8's young generation: kept, they were copied into
   * the old one and collected there, the largest cost of the Parquet sink.
   */
  releaseDoc?(): void;
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

/** A validated record; `doc` is parsed lazily because only some formats and partitioners read it. */
class ValidRecord implements SinkRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly timestampMs: number;
  readonly value: Buffer;
  readonly oneLine: boolean;
  readonly headers: Map<string, Buffer>;
  #doc: Record<string, unknown> | undefined = undefined;

  constructor(record: KafkaRecord, value: Buffer, timestampMs: number, oneLine: boolean) {
    this.topic = record.topic;
    this.partition = record.partition;
    this.offset = record.offset;
    this.timestampMs = timestampMs;
    this.value = value;
    this.oneLine = oneLine;
    this.headers = record.headers;
  }

  releaseDoc(): void {
    this.#doc = undefined;
  }

  get doc(): Record<string, unknown> {
    // classify() proved the value is a JSON object, so this cannot throw.
    this.#doc ??= JSON.parse(this.value.toString('utf8')) as Record<string, unknown>;
    return this.#doc;
  }
}

/** Reused by every call: classify is synchronous, and the scan result never leaves it. */
const scan = newJsonScan();

function describeByte(value: Buffer, offset: number): string {
  if (offset >= value.length) return 'unexpected end of input';
  const c = value[offset]!;
  const shown =
    c > 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
  return `unexpected ${shown} at byte ${offset}`;
}

const EXPECTED_ID = 'expected the tweet id as a JSON string such as "1851234567890123456"';

/** What is wrong with the id of a JSON object whose scan found no non-empty string id. Poison only: parses. */
function idProblem(value: Buffer): string {
  const id = (JSON.parse(value.toString('utf8')) as Record<string, unknown>).id;
  if (id === '') return 'id is an empty string';
  if (id === undefined) return `the value has no top-level "id"; ${EXPECTED_ID}`;
  if (typeof id === 'number') return `id is a JSON number, which loses digits above 2^53; ${EXPECTED_ID}`;
  const kind = id === null ? 'null' : Array.isArray(id) ? 'an array' : `a ${typeof id}`;
  return `id is ${kind}; ${EXPECTED_ID}`;
}

/** Why neither the record timestamp nor created_at can place the record. */
function timestampProblem(timestampMs: number, createdAt: string | undefined): string {
  const ts = timestampMs <= 0 ? 'missing' : `${timestampMs} ms, outside 1970..9999`;
  const shown = createdAt === undefined ? '' : JSON.stringify(createdAt.slice(0, 40));
  const created =
    createdAt === undefined
      ? 'missing or not a string'
      : Number.isNaN(Date.parse(createdAt))
        ? `${shown}, not an ISO 8601 time`
        : `${shown}, outside 1970..9999`;
  return `no usable timestamp: the record timestamp is ${ts} and created_at is ${created}`;
}

export function classify(record: KafkaRecord): Classified {
  const { value } = record;
  if (value === null || value.length === 0) return { ok: false, reason: 'value is empty' };
  if (!isUtf8(value)) return { ok: false, reason: 'value is not valid UTF-8' };
  scanJson(value, scan);
  if (scan.kind === 'invalid')
    return { ok: false, reason: `value is not JSON: ${describeByte(value, scan.errorOffset)}` };
  if (scan.kind !== 'object') return { ok: false, reason: 'value is not a JSON object' };
  if (!scan.hasId) return { ok: false, reason: `no string id: ${idProblem(value)}` };
  let timestampMs = record.timestamp;
  if (!usable(timestampMs)) {
    const createdAt = scan.createdAt;
    timestampMs = createdAt === undefined ? Number.NaN : Date.parse(createdAt);
    if (!usable(timestampMs)) return { ok: false, reason: timestampProblem(record.timestamp, createdAt) };
  }
  return { ok: true, record: new ValidRecord(record, value, timestampMs, scan.plain) };
}
