/**
 * Kafka -> HDFS. The consumer hands out batches; the sink writes them into per-partition windows and commits
 * windows to HDFS; only then are the offsets committed to Kafka. Any failure on the way (HDFS down, a fenced
 * writer, Kafka errors) resets: open windows are dropped, the consumer is recreated and resumes from the committed
 * offsets, and the writers skip what HDFS already holds. Exactly once follows from that, not from luck.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { toTweetpipeError } from '../errors.ts';
import { BatchConsumer } from '../kafka/batch-consumer.ts';
import { kafkaConnection } from '../kafka/client-options.ts';
import { TweetProducer } from '../kafka/tweet-producer.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import type { KafkaRecord, TopicPartition } from '../types.ts';
import { retryForever } from './retry.ts';

/** What the loop needs from the HDFS sink (src/sink/hdfs-sink.ts). */
export interface SinkPort {
  open(tps: TopicPartition[]): Promise<void>;
  put(records: KafkaRecord[]): Promise<{ poison: { record: KafkaRecord; reason: string }[] }>;
  /** Commits windows that are due (count, bytes, age) — age fires with no new record. */
  maybeRotate(nowMs: number): Promise<void>;
  /** Next offset to read per partition, for partitions whose data is durable in HDFS since the last call. */
  preCommit(): Map<number, bigint>;
  /** Commits (abort=false) or drops (abort=true) the open windows of these partitions and forgets them. */
  close(tps: TopicPartition[], opts: { abort: boolean }): Promise<void>;
  /** Partitions with a writer. */
  partitions(): TopicPartition[];
  /** True when some window holds records not yet committed. */
  hasOpenData(): boolean;
}

export interface SinkLoopOptions {
  config: Config;
  sink: SinkPort;
  metrics: Metrics;
  log: Logger;
  signal: AbortSignal;
  /** Commit everything and return once no record arrived for this many seconds. */
  exitWhenIdleS?: number | undefined;
  /** How long shutdown may spend committing open windows before it drops them instead. */
  shutdownGraceMs?: number;
}

export async function runSinkLoop(opts: SinkLoopOptions): Promise<void> {
  const { config, sink, metrics, log, signal } = opts;
  const conn = kafkaConnection(config, 'sink');
  const topic = config.topic.name;
  const dlq = new TweetProducer(conn, 'sink', { topic, compression: config.producer.compression });
  let lastRecordAt = performance.now();
  let attempt = 0;
  try {
    while (!signal.aborted) {
      const consumer = new BatchConsumer(conn, { groupId: config.sink.group, topic, log });
      try {
        await consumeUntilStopped(consumer);
        return;
      } catch (raw) {
        const err = toTweetpipeError(raw);
        metrics.errors.inc({ stage: 'sink', code: err.code });
        attempt++;
        const delay = Math.min(10_000, 250 * 2 ** Math.min(attempt, 6));
        log.warn(
          { err, retryInMs: delay },
          'sink reset: dropping open windows and resuming from committed offsets',
        );
        await sink.close(sink.partitions(), { abort: true }).catch(() => {});
        await consumer.close();
        await sleep(delay, undefined, { signal }).catch(() => {});
      }
    }
  } finally {
    await dlq.close().catch(() => {});
  }

  async function consumeUntilStopped(consumer: BatchConsumer): Promise<void> {
    let rebalanced: TopicPartition[] | undefined;
    consumer.onRebalance((assigned) => {
      rebalanced = assigned;
    });
    await consumer.start();
    const lagTimer = setInterval(() => void updateLag(consumer), 5000);
    lagTimer.unref();
    try {
      while (!signal.aborted) {
        if (rebalanced) {
          const assigned = rebalanced;
          rebalanced = undefined;
          const keep = new Set(assigned.map((tp) => tp.partition));
          const revoked = sink.partitions().filter((tp) => !keep.has(tp.partition));
          if (revoked.length > 0) {
            log.info(
              { revoked },
              'partitions revoked: dropping their open windows (the new owner resumes them)',
            );
            await sink.close(revoked, { abort: true });
          }
          consumer.dropUnassigned(assigned);
        }
        const records = await consumer.next(5000, 200);
        if (records.length > 0) {
          lastRecordAt = performance.now();
          metrics.consumed.inc({ topic }, records.length);
          const owned = new Set(sink.partitions().map((tp) => tp.partition));
          const fresh = [...new Set(records.map((r) => r.partition))].filter((p) => !owned.has(p));
          if (fresh.length > 0) await sink.open(fresh.map((partition) => ({ topic, partition })));
          const { poison } = await sink.put(records);
          if (poison.length > 0) await deadLetter(poison);
        }
        await sink.maybeRotate(Date.now());
        await consumer.commit(sink.preCommit());
        attempt = 0;
        if (
          opts.exitWhenIdleS !== undefined &&
          (performance.now() - lastRecordAt) / 1000 >= opts.exitWhenIdleS
        ) {
          log.info(
            { idleS: opts.exitWhenIdleS },
            'no record for --exit-when-idle seconds: committing and exiting',
          );
          break;
        }
      }
      await shutdown(consumer);
    } finally {
      clearInterval(lagTimer);
      await consumer.close();
    }
  }

  async function deadLetter(poison: { record: KafkaRecord; reason: string }[]): Promise<void> {
    for (const p of poison)
      log.warn(
        { partition: p.record.partition, offset: String(p.record.offset), reason: p.reason },
        'poison record sent to the DLQ',
      );
    await retryForever(
      () =>
        Promise.all(
          poison.map((p) =>
            dlq.sendDeadLetters([{ raw: p.record.value ?? Buffer.alloc(0), reason: p.reason }], {
              stage: 'sink',
              original_topic: p.record.topic,
              original_partition: String(p.record.partition),
              original_offset: String(p.record.offset),
            }),
          ),
        ),
      { what: 'sending poison records to the DLQ', log },
    );
    metrics.deadLetters.inc({ stage: 'sink' }, poison.length);
  }

  async function updateLag(consumer: BatchConsumer): Promise<void> {
    try {
      for (const [partition, lag] of await consumer.lag())
        metrics.lag.set({ topic: config.topic.name, partition: String(partition) }, Number(lag));
    } catch {
      // Lag is for monitoring; the next tick tries again.
    }
  }

  /** Commits the open windows within the grace period, else drops them (they are re-read on the next start). */
  async function shutdown(consumer: BatchConsumer): Promise<void> {
    const grace = opts.shutdownGraceMs ?? 30_000;
    const all = sink.partitions();
    const committed = await Promise.race([
      sink.close(all, { abort: false }).then(() => true),
      sleep(grace).then(() => false),
    ]);
    if (!committed) {
      log.warn(
        { graceMs: grace },
        'could not commit the open windows in time: dropping them (they will be re-read)',
      );
      await sink.close(all, { abort: true }).catch(() => {});
    }
    await consumer.commit(sink.preCommit());
  }
}
