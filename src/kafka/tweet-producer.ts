/**
 * Publishes tweet records per the record contract (docs/record-schema.md): key = tweet id, value = the JSON
 * document, timestamp = created_at, headers = source + schema version. Idempotent, acks=all, compressed.
 * Malformed payloads go to `<topic>.dlq` with the reason in a header.
 */

import { zstdCompressSync } from 'node:zlib';
import { ProduceAcks } from '@platformatic/kafka';
import { PRODUCER_DEFAULTS } from '../config/kafka.ts';
import type { DeadLetter, TweetRecord } from '../types.ts';
import { RECORD_SCHEMA_VERSION } from '../types.ts';
import type { KafkaConnection } from './client-options.ts';
import { kafkaError } from './kafka-errors.ts';
import { keyPartition, murmur2 } from './key-partitioner.ts';
import { encodeKeyedRecordBatch, encodeRecordBatch, type KeyedRecord } from './record-batch-encode.ts';
import { type PartitionBatch, PreEncodedProducer } from './record-batch-encode-produce.ts';

export const dlqTopic = (topic: string): string => `${topic}.dlq`;

export type Compression = 'zstd' | 'lz4' | 'snappy' | 'gzip' | 'none';

/** zstd when this Node has it (>= 22.15 / 23.8), else lz4, which every version has. */
export function effectiveCompression(wanted: Compression): Compression {
  return wanted === 'zstd' && typeof zstdCompressSync !== 'function' ? 'lz4' : wanted;
}

export interface TweetProducerOptions {
  topic: string;
  compression: Compression;
  /** Per-request timeout; the caller's retry loop takes over past it. */
  timeoutMs?: number;
}

export class TweetProducer {
  readonly topic: string;
  private readonly producer: PreEncodedProducer;
  private readonly compression: Compression;
  private readonly sourceHeaders: [Buffer, Buffer][];

  constructor(conn: KafkaConnection, source: string, opts: TweetProducerOptions) {
    this.topic = opts.topic;
    this.compression = effectiveCompression(opts.compression);
    this.producer = new PreEncodedProducer({
      ...conn,
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: this.compression,
      timeout: opts.timeoutMs ?? PRODUCER_DEFAULTS.requestTimeoutMs,
      retries: PRODUCER_DEFAULTS.retries,
      retryDelay: PRODUCER_DEFAULTS.retryDelayMs,
      autocreateTopics: false,
    });
    // Header keys go on the wire as bytes; the default serializers take Buffers only.
    this.sourceHeaders = [
      [Buffer.from('source'), Buffer.from(source)],
      [Buffer.from('schema_version'), Buffer.from(String(RECORD_SCHEMA_VERSION))],
    ];
  }

  /**
   * Resolves once every record is acked by all in-sync replicas. The records of each partition (the key's, as the
   * client's default partitioner picks it) go as one record batch encoded here (record-batch-encode.ts).
   */
  async send(records: TweetRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      const partitions = await this.partitionCount(this.topic);
      await this.producer.sendBatches(this.topic, this.batchesOf(records, partitions));
    } catch (err) {
      throw kafkaError(`producing ${records.length} records to ${this.topic}`, err, {
        TOPIC_AUTHORIZATION_FAILED: { operation: 'WRITE', resource: `topic ${this.topic}` },
        // The idempotent producer's InitProducerId: Kafka allows it to a principal with WRITE on any topic.
        CLUSTER_AUTHORIZATION_FAILED: { operation: 'WRITE', resource: `topic ${this.topic}` },
      });
    }
  }

  /**
   * Dead letters of a stage keep what the original had (a consumed record's key, timestamp and headers) and add
   * `reason`, `stage`, the sink's consumer group (`sink_group`) and, for a consumed record, `original_topic`,
   * `original_partition`, `original_offset`; these replace an original header of the same name.
   */
  async sendDeadLetters(
    letters: DeadLetter[],
    by: { stage: 'source' } | { stage: 'sink'; group: string },
  ): Promise<void> {
    if (letters.length === 0) return;
    const topic = dlqTopic(this.topic);
    try {
      const partitions = await this.partitionCount(topic);
      // Each partition's letters as one batch encoded here (encodeKeyedRecordBatch says why not the client's).
      const byPartition = new Map<number, KeyedRecord[]>();
      const sentAt = Date.now();
      for (const l of letters) {
        const record = this.deadLetterRecord(l, by, sentAt);
        const partition = keyPartition(record, l.record?.key ?? undefined) % partitions;
        const list = byPartition.get(partition);
        if (list) list.push(record);
        else byPartition.set(partition, [record]);
      }
      await this.producer.sendBatches(
        topic,
        Array.from(byPartition, ([partition, list]) => ({
          partition,
          batch: encodeKeyedRecordBatch(list, this.compression),
        })),
      );
    } catch (err) {
      throw kafkaError(`producing ${letters.length} dead letters to ${topic}`, err, {
        TOPIC_AUTHORIZATION_FAILED: { operation: 'WRITE', resource: `topic ${topic}` },
        CLUSTER_AUTHORIZATION_FAILED: { operation: 'WRITE', resource: `topic ${topic}` },
      });
    }
  }

  private deadLetterRecord(
    l: DeadLetter,
    by: { stage: 'source' } | { stage: 'sink'; group: string },
    sentAt: number,
  ): KeyedRecord {
    const r = l.record;
    const added: [string, string][] = [
      ['reason', l.reason],
      ['stage', by.stage],
      ...(by.stage === 'sink' ? ([['sink_group', by.group]] as [string, string][]) : []),
      ...(r
        ? ([
            ['original_topic', r.topic],
            ['original_partition', String(r.partition)],
            ['original_offset', String(r.offset)],
          ] as [string, string][])
        : []),
    ];
    const replaced = new Set(added.map(([k]) => k));
    const kept: [Uint8Array, Uint8Array][] = r
      ? [...r.headers].filter(([k]) => !replaced.has(k)).map(([k, v]) => [Buffer.from(k), v])
      : this.sourceHeaders;
    return {
      key: r?.key ?? null,
      value: l.raw,
      // A record without a timestamp (-1) gets the time of sending.
      timestampMs: r && r.timestamp > 0 ? r.timestamp : sentAt,
      headers: [...kept, ...added.map(([k, v]): [Buffer, Buffer] => [Buffer.from(k), Buffer.from(v)])],
    };
  }

  private async partitionCount(topic: string): Promise<number> {
    const metadata = await this.producer.metadata({ topics: [topic] });
    const partitions = metadata.topics.get(topic)?.partitionsCount;
    if (!partitions) throw new Error(`no partitions in the metadata of ${topic}`);
    return partitions;
  }

  private batchesOf(records: TweetRecord[], partitions: number): PartitionBatch[] {
    const byPartition = new Map<number, TweetRecord[]>();
    for (const r of records) {
      const partition = (murmur2(keyBytes(r.id)) >>> 0) % partitions;
      const list = byPartition.get(partition);
      if (list) list.push(r);
      else byPartition.set(partition, [r]);
    }
    return Array.from(byPartition, ([partition, list]) => ({
      partition,
      batch: encodeRecordBatch(list, this.sourceHeaders, this.compression),
    }));
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

/** The UTF-8 bytes of a key, in a buffer reused for every record (the hash reads them once, at once). */
let keyScratch = Buffer.allocUnsafe(64);
function keyBytes(id: string): Buffer {
  const length = Buffer.byteLength(id, 'utf8');
  if (length > keyScratch.length) keyScratch = Buffer.allocUnsafe(length * 2);
  keyScratch.write(id, 0, 'utf8');
  return keyScratch.subarray(0, length);
}
