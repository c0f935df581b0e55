/**
 * Kafka -> HDFS. The consumer hands out batches; the SinkTask writes them into per-partition windows and commits
 * windows to HDFS; only then are the offsets committed to Kafka. Any failure on the way (HDFS down, a fenced
 * writer, a Kafka error) resets: open windows are dropped, the consumer is recreated and resumes from the
 * committed offsets, and the writers skip what the HDFS manifests say is already there. Exactly once follows from
 * that order, whatever fails and whenever.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { settlesWithin } from '../deadline.ts';
import { type ErrorCode, TweetpipeError, toTweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import { BatchConsumer } from '../kafka/batch-consumer.ts';
import { kafkaConnection } from '../kafka/client-options.ts';
import { holdsRecordsFrom } from '../kafka/topic-tail.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { type SinkObserver, SinkTask, sinkSettingsFromConfig } from '../sink/sink-task.ts';
import { SinkDeadLetters } from './sink-dead-letters.ts';

const FINAL_CODES = new Set<ErrorCode>(['LAG_REMAINS', 'KAFKA_AUTH', 'KAFKA_DENIED']);

export interface SinkLoopOptions {
  config: Config;
  storage: Storage;
  metrics: Metrics;
  log: Logger;
  signal: AbortSignal;
  /** Commit everything and return once no record arrived for this many seconds. */
  exitWhenIdleS?: number | undefined;
  /** How long shutdown may spend committing open windows before it drops them instead. */
  shutdownGraceMs?: number;
  /** Extra listeners (the dashboard). */
  observer?: SinkObserver;
}

export async function runSinkLoop(opts: SinkLoopOptions): Promise<void> {
  const { config, metrics, log, signal } = opts;
  const conn = kafkaConnection(config, 'sink');
  const topic = config.topic.name;
  const format = config.sink.format;
  const deadLetters = new SinkDeadLetters({ conn, config, log, metrics, signal });
  const sink = new SinkTask({
    ...sinkSettingsFromConfig(config),
    topic,
    storage: opts.storage,
    logger: log,
    deadLetter: (poison) => deadLetters.send(poison),
    observer: {
      onCommit: (file) => {
        metrics.filesCommitted.inc({ topic });
        metrics.writtenBytes.inc({ topic, format }, file.bytes);
        metrics.written.inc({ topic, format }, file.records);
        opts.observer?.onCommit?.(file);
      },
      onWindowCommitted: (w) => {
        metrics.commitLatency.observe(w.latencyMs / 1000);
        observeEndToEnd(w.partition, w.endOffset);
        opts.observer?.onWindowCommitted?.(w);
      },
      onPoison: (poison) => opts.observer?.onPoison?.(poison),
    },
  });
  /** Per partition, the record timestamps (created_at) not yet committed, for the end-to-end latency. */
  const pendingTimes = new Map<number, { offsets: bigint[]; times: number[] }>();
  const observeEndToEnd = (partition: number, endOffset: bigint) => {
    const pending = pendingTimes.get(partition);
    if (!pending) return;
    const now = Date.now();
    let i = 0;
    for (; i < pending.offsets.length && pending.offsets[i]! <= endOffset; i++)
      metrics.endToEndLatency.observe(Math.max(0, now - pending.times[i]!) / 1000);
    pending.offsets.splice(0, i);
    pending.times.splice(0, i);
  };
  /** Partitions with an open writer. */
  const owned = new Set<number>();
  let lastRecordAt = performance.now();
  let lastLagCheckAt = 0;
  let lastLagReportAt = 0;
  let attempt = 0;

  try {
    while (!signal.aborted) {
      if (attempt > 0) await untilHdfsAnswers();
      const consumer = new BatchConsumer(conn, {
        groupId: config.sink.group,
        topic,
        log,
        sessionTimeoutMs: config.sink.sessionTimeoutS * 1000,
      });
      try {
        await consumeUntilStopped(consumer);
        return;
      } catch (raw) {
        const err = toTweetpipeError(raw);
        metrics.errors.inc({ stage: 'sink', code: err.code });
        await sink.close([...owned], { abort: true }).catch(() => {});
        owned.clear();
        pendingTimes.clear();
        // Closed before a final error too: its connections would keep the process from exiting.
        await consumer.close();
        // A verdict on the whole run, or settings and permissions that a reset cannot mend.
        if (FINAL_CODES.has(err.code)) throw err;
        attempt++;
        // Capped at 5 s: after a long outage (a NameNode gone for a minute) the sink must be writing again within
        // 10 s of the cluster's return, and a reset (rejoin, recovery from HDFS, first commit) takes a few seconds.
        const delay = Math.min(5000, 250 * 2 ** Math.min(attempt, 6));
        log.warn(
          { err, retryInMs: delay },
          'sink reset: dropping open windows and resuming from committed offsets',
        );
        await sleep(delay, undefined, { signal }).catch(() => {});
      }
    }
  } finally {
    await deadLetters.close();
  }

  /**
   * After a reset, HDFS must answer before a new consumer fetches: while the NameNode is down every reset would
   * fetch up to a full buffer of records only for the next reset to drop them (memory grew ~2 MB/s over a 60 s
   * outage). One status call a second once it fails, so the sink is back within about a second of HDFS.
   */
  async function untilHdfsAnswers(): Promise<void> {
    while (!signal.aborted) {
      try {
        await opts.storage.status(config.hdfs.dir);
        return;
      } catch (raw) {
        metrics.errors.inc({ stage: 'sink', code: toTweetpipeError(raw).code });
        await sleep(1000, undefined, { signal }).catch(() => {});
      }
    }
  }

  async function consumeUntilStopped(consumer: BatchConsumer): Promise<void> {
    let rebalanced: number[] | undefined;
    consumer.onRebalance((assigned) => {
      rebalanced = assigned.map((tp) => tp.partition);
    });
    await consumer.start();
    const lagTimer = setInterval(() => void updateLag(consumer), 5000);
    lagTimer.unref();
    try {
      while (!signal.aborted) {
        if (rebalanced) {
          const assigned = rebalanced;
          rebalanced = undefined;
          const keep = new Set(assigned);
          const revoked = [...owned].filter((p) => !keep.has(p));
          if (revoked.length > 0) {
            log.info(
              { revoked: revoked.map((partition) => ({ topic, partition })) },
              'partitions revoked: dropping their open windows (the new owner resumes them)',
            );
            for (const p of revoked) {
              owned.delete(p);
              pendingTimes.delete(p);
            }
            await sink.close(revoked, { abort: true });
          }
        }
        const records = await consumer.next(5000, 200);
        if (records.length > 0) {
          lastRecordAt = performance.now();
          metrics.consumed.inc({ topic }, records.length);
          const fresh = [...new Set(records.map((r) => r.partition))].filter((p) => !owned.has(p));
          if (fresh.length > 0) await openPartitions(consumer, fresh);
          for (const r of records) {
            let pending = pendingTimes.get(r.partition);
            if (!pending) {
              pending = { offsets: [], times: [] };
              pendingTimes.set(r.partition, pending);
            }
            const last = pending.offsets[pending.offsets.length - 1];
            // Re-delivered records (after a rebalance or reset) are already counted or already in HDFS.
            if (last !== undefined && r.offset <= last) continue;
            pending.offsets.push(r.offset);
            pending.times.push(r.timestamp);
          }
          await sink.put(records);
        }
        await sink.maybeRotate(Date.now());
        await commitDurable(consumer);
        attempt = 0;
        // Idle means the consumer had nothing for us, not that our own work (a commit) took long.
        if (records.length > 0) lastRecordAt = performance.now();
        else if (opts.exitWhenIdleS !== undefined && (await caughtUp(consumer, opts.exitWhenIdleS))) break;
      }
      await shutdown(consumer);
    } finally {
      clearInterval(lagTimer);
      await consumer.close();
    }
  }

  /**
   * Recovers the partitions from HDFS. HDFS is never behind the group's committed offset (that is committed after
   * HDFS), so committing the recovered position is safe and lets Kafka's lag catch up with a crash's last window.
   */
  async function openPartitions(consumer: BatchConsumer, partitions: number[]): Promise<void> {
    const recovered = await sink.open(partitions);
    await deadLetters.open(partitions);
    for (const p of partitions) owned.add(p);
    const ahead = new Map<number, bigint>();
    for (const [p, offset] of recovered) if (offset !== null) ahead.set(p, offset);
    log.info(
      {
        partitions,
        recoveredFrom: Object.fromEntries([...ahead].map(([p, o]) => [p, String(o)])),
      },
      'partitions opened',
    );
    await consumer.commit(ahead);
  }

  /**
   * --exit-when-idle: once no record came for `idleS`, commits every open window and asks the broker whether the
   * group's committed offsets reached the end of every partition of the topic (so HDFS holds it all, whichever
   * member wrote it). Not yet: consumes on (another member may still be at work, or a rebalance may hold a
   * partition). Still not after health.stallAfterS more: fails, naming the lag of each partition.
   */
  async function caughtUp(consumer: BatchConsumer, idleS: number): Promise<boolean> {
    const idleFor = (performance.now() - lastRecordAt) / 1000;
    if (idleFor < idleS || performance.now() - lastLagCheckAt < 1000) return false;
    lastLagCheckAt = performance.now();
    // Every window, due or not: what this member holds must be in HDFS before its offsets can reach the end.
    await sink.maybeRotate(Number.POSITIVE_INFINITY);
    await commitDurable(consumer);
    let behind = [...(await consumer.lag())].filter(([, l]) => l.lag > 0n);
    // A partition of ours may end on offsets that hold no record for us (transaction markers, aborted records):
    // nothing will ever come to commit past them, so they are committed as they are.
    const markersOnly = new Map<number, bigint>();
    for (const [partition, l] of behind)
      if (owned.has(partition) && l.committed >= 0n)
        if (!(await holdsRecordsFrom(conn, topic, partition, l.committed, l.end)))
          markersOnly.set(partition, l.end);
    if (markersOnly.size > 0) {
      await consumer.commit(markersOnly);
      behind = behind.filter(([p]) => !markersOnly.has(p));
    }
    if (behind.length === 0) {
      log.info(
        { idleS },
        'no record for --exit-when-idle seconds and every partition committed to its end: exiting',
      );
      return true;
    }
    const lag = Object.fromEntries(
      behind.map(([p, l]) => [p, `${l.lag} (committed ${l.committed}, end ${l.end})`]),
    );
    if (idleFor >= idleS + config.health.stallAfterS)
      throw new TweetpipeError(
        'LAG_REMAINS',
        `--exit-when-idle: idle for ${Math.round(idleFor)} s, but partitions of ${topic} still hold records the ` +
          `group has not committed to HDFS: ${Object.entries(lag)
            .map(([p, l]) => `partition ${p}: ${l}`)
            .join('; ')}`,
        { details: { lag } },
      );
    if (performance.now() - lastLagReportAt >= 10_000) {
      lastLagReportAt = performance.now();
      log.info({ lag }, 'idle, but partitions still hold uncommitted records: consuming on before exiting');
    }
    return false;
  }

  async function commitDurable(consumer: BatchConsumer): Promise<void> {
    const durable = await sink.preCommit();
    await consumer.commit(durable);
    for (const [partition, offset] of durable) deadLetters.committed(partition, offset);
  }

  async function updateLag(consumer: BatchConsumer): Promise<void> {
    try {
      for (const [partition, { lag }] of await consumer.lag())
        metrics.lag.set({ topic, partition: String(partition) }, Number(lag));
    } catch {
      // Lag is for monitoring; the next tick tries again.
    }
  }

  /** Commits the open windows within the grace period, else drops them (they are re-read on the next start). */
  async function shutdown(consumer: BatchConsumer): Promise<void> {
    const grace = opts.shutdownGraceMs ?? 30_000;
    const all = [...owned];
    const committed = await settlesWithin(sink.close(all, { abort: false }), grace);
    owned.clear();
    if (!committed) {
      log.warn(
        { graceMs: grace },
        'could not commit the open windows in time: dropping them (they will be re-read)',
      );
      await sink.close(all, { abort: true }).catch(() => {});
    }
    await commitDurable(consumer);
  }
}
