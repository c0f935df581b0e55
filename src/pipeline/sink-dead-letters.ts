/**
 * The sink's dead letters, each once. A poison record is dead-lettered while its window is written, before that
 * window commits; after a crash in between, the next owner of the partition consumes it again. So whenever
 * partitions are opened, the sink reads which of their records the dead-letter topic already holds from this
 * consumer group (the sink_group / original_topic / original_partition / original_offset headers of its last
 * records), and it remembers what it sends itself (a reset re-reads from the committed offsets too).
 *
 * The read is bounded to the last SINK_LOOP_DEFAULTS.deadLetterTailPerPartition records of each dead-letter
 * partition: exactly once holds while fewer dead letters than that reach the topic between a poison record and its window's commit.
 */

import { SINK_LOOP_DEFAULTS } from '../config/sink.ts';
import type { Config } from '../config.ts';
import type { KafkaConnection } from '../kafka/client-options.ts';
import { readTailHeaders } from '../kafka/topic-tail.ts';
import { dlqTopic, TweetProducer } from '../kafka/tweet-producer.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { retryForever } from '../retry/retry-forever.ts';
import type { PoisonRecord } from '../sink/sink-record.ts';
import { asKafkaRetryable } from './topics.ts';

export class SinkDeadLetters {
  private readonly conn: KafkaConnection;
  private readonly topic: string;
  /** Each consumer group is a sink of its own (another HDFS directory, say) and dead-letters for itself. */
  private readonly group: string;
  private readonly producer: TweetProducer;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly signal: AbortSignal;
  /** Per partition of the topic, offsets of records the dead-letter topic holds and not yet committed past. */
  private readonly inDlq = new Map<number, Set<bigint>>();

  constructor(opts: {
    conn: KafkaConnection;
    config: Config;
    log: Logger;
    metrics: Metrics;
    signal: AbortSignal;
  }) {
    this.conn = opts.conn;
    this.topic = opts.config.topic.name;
    this.group = opts.config.sink.group;
    this.producer = new TweetProducer(opts.conn, 'sink', {
      topic: this.topic,
      compression: opts.config.producer.compression,
    });
    this.log = opts.log;
    this.metrics = opts.metrics;
    this.signal = opts.signal;
  }

  /** Learns which records of these partitions the dead-letter topic already holds. */
  async open(partitions: readonly number[]): Promise<void> {
    const wanted = new Set(partitions);
    const tail = await retryForever(
      asKafkaRetryable(`reading the end of ${dlqTopic(this.topic)}`, () =>
        readTailHeaders(this.conn, dlqTopic(this.topic), SINK_LOOP_DEFAULTS.deadLetterTailPerPartition),
      ),
      {
        what: `reading the end of ${dlqTopic(this.topic)}`,
        log: this.log,
        signal: this.signal,
        onError: this.count,
      },
    );
    for (const h of tail) {
      const partition = Number(h.get('original_partition'));
      const offset = h.get('original_offset');
      const ours = h.get('stage') === 'sink' && h.get('sink_group') === this.group;
      if (!ours || h.get('original_topic') !== this.topic || offset === undefined) continue;
      if (wanted.has(partition)) this.remember(partition, BigInt(offset));
    }
  }

  /** Sends the poison records the dead-letter topic does not hold yet; returns once Kafka acked them. */
  async send(poison: PoisonRecord[]): Promise<void> {
    const fresh = poison.filter((p) => !this.inDlq.get(p.record.partition)?.has(p.record.offset));
    for (const p of poison)
      this.log.warn(
        {
          partition: p.record.partition,
          offset: String(p.record.offset),
          reason: p.reason,
          ...(fresh.includes(p) ? {} : { alreadyInDlq: true }),
        },
        'poison record sent to the DLQ',
      );
    if (fresh.length === 0) return;
    await retryForever(
      () =>
        this.producer.sendDeadLetters(
          fresh.map((p) => ({ raw: p.record.value ?? Buffer.alloc(0), reason: p.reason, record: p.record })),
          { stage: 'sink', group: this.group },
        ),
      {
        what: `sending ${fresh.length} poison records to the dead-letter topic ${dlqTopic(this.topic)}`,
        log: this.log,
        signal: this.signal,
        onError: this.count,
      },
    );
    for (const p of fresh) this.remember(p.record.partition, p.record.offset);
    this.metrics.deadLetters.inc({ stage: 'sink' }, fresh.length);
  }

  /** Offsets below `committed` are never consumed again by this group: forgets them. */
  committed(partition: number, committed: bigint): void {
    const offsets = this.inDlq.get(partition);
    if (!offsets) return;
    for (const o of offsets) if (o < committed) offsets.delete(o);
    if (offsets.size === 0) this.inDlq.delete(partition);
  }

  async close(): Promise<void> {
    await this.producer.close().catch(() => {});
  }

  private remember(partition: number, offset: bigint): void {
    const offsets = this.inDlq.get(partition) ?? new Set<bigint>();
    offsets.add(offset);
    this.inDlq.set(partition, offsets);
  }

  private readonly count = (err: { code: string }): void => {
    this.metrics.errors.inc({ stage: 'sink', code: err.code });
  };
}
