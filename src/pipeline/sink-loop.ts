/**
 * Kafka -> HDFS. The record source hands out batches; the sink task writes them into per-partition windows and
 * commits windows to HDFS; only then are the offsets committed to Kafka. Any failure on the way (HDFS down, a
 * fenced writer, a Kafka error) resets: open windows are dropped, a new source resumes from the committed offsets,
 * and the writers skip what the HDFS manifests say is already there. Exactly once follows from that order,
 * whatever fails and whenever.
 *
 * The loop talks to Kafka and HDFS only through its parts (record-source.ts, record-sink.ts and SinkLoopParts
 * below, built by sink-parts.ts), so the unit tests run it on in-memory doubles.
 */

import { SINK_LOOP_DEFAULTS } from '../config/sink.ts';
import type { Config } from '../config.ts';
import { settlesWithin } from '../deadline.ts';
import { type ErrorCode, TweetpipeError, toTweetpipeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { delayFor, sleep } from '../retry/backoff.ts';
import { SINK_RESET } from '../retry/schedules.ts';
import type { SinkObserver } from '../sink/sink-task.ts';
import type { KafkaRecord } from '../types.ts';
import { EndToEndLatency } from './end-to-end-latency.ts';
import type { RecordSink } from './record-sink.ts';
import type { RecordSource } from './record-source.ts';
import type { SinkDeadLetters } from './sink-dead-letters.ts';

/** A verdict on the whole run, or settings and permissions that a reset cannot mend. */
const FINAL_CODES = new Set<ErrorCode>(['LAG_REMAINS', 'KAFKA_AUTH', 'KAFKA_DENIED']);

export interface SinkLoopOptions {
  config: Config;
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

/** Everything outside the loop: Kafka, HDFS, the dead-letter topic. */
export interface SinkLoopParts {
  /** A new group member: once at the start and once after every reset (the previous one is closed by then). */
  newSource(): RecordSource;
  /** The sink task, built once; `observer` is the loop's (metrics, then the caller's observer). */
  newTask(observer: SinkObserver): RecordSink;
  /** The dead-letter ledger: told which partitions open and what was committed; closed once at the end. */
  deadLetters: Pick<SinkDeadLetters, 'open' | 'committed' | 'close'>;
  /** Resolves once HDFS answers a status call; throws while it does not. */
  probeHdfs(): Promise<void>;
  /** Whether `partition` holds records a consumer would get between offsets `from` and `to`. */
  holdsRecords(partition: number, from: bigint, to: bigint): Promise<boolean>;
}

export async function runSinkLoop(opts: SinkLoopOptions, parts: SinkLoopParts): Promise<void> {
  await new SinkRun(opts, parts).run();
}

/** One run of the sink: its sessions (one source each) separated by resets. */
class SinkRun {
  readonly #opts: SinkLoopOptions;
  readonly #parts: SinkLoopParts;
  readonly #topic: string;
  readonly #task: RecordSink;
  readonly #latency: EndToEndLatency;
  /** Partitions open in the task. */
  readonly #owned = new Set<number>();
  /** The latest assignment the source reported and the loop has not acted on yet. */
  #assigned: number[] | undefined;
  /** Resets since the last poll that went through. */
  #resets = 0;
  #lastRecordAt = performance.now();
  #lastLagCheckAt = 0;
  #lastLagReportAt = 0;

  constructor(opts: SinkLoopOptions, parts: SinkLoopParts) {
    this.#opts = opts;
    this.#parts = parts;
    const { config, metrics } = opts;
    const topic = config.topic.name;
    const format = config.sink.format;
    this.#topic = topic;
    this.#latency = new EndToEndLatency(metrics);
    this.#task = parts.newTask({
      onCommit: (file) => {
        metrics.filesCommitted.inc({ topic });
        metrics.writtenBytes.inc({ topic, format }, file.bytes);
        metrics.written.inc({ topic, format }, file.records);
        opts.observer?.onCommit?.(file);
      },
      onWindowCommitted: (w) => {
        metrics.commitLatency.observe(w.latencyMs / 1000);
        this.#latency.committed(w.partition, w.endOffset);
        opts.observer?.onWindowCommitted?.(w);
      },
      onPoison: (poison) => opts.observer?.onPoison?.(poison),
    });
  }

  /** Sessions until stopped, idle or a final error; a failed session resets. */
  async run(): Promise<void> {
    const { signal } = this.#opts;
    try {
      while (!signal.aborted) {
        if (this.#resets > 0) await this.#untilHdfsAnswers();
        const source = this.#parts.newSource();
        try {
          await this.#session(source);
          return;
        } catch (raw) {
          await this.#reset(toTweetpipeError(raw));
        }
      }
    } finally {
      await this.#parts.deadLetters.close();
    }
  }

  /**
   * Starts the source, polls, puts and commits until stopped or idle, then shuts down. Closes the source on every
   * way out, a failure included (its connections would keep the process from exiting after a final error).
   */
  async #session(source: RecordSource): Promise<void> {
    const { signal, exitWhenIdleS } = this.#opts;
    this.#assigned = undefined;
    source.onRebalance((assigned) => {
      this.#assigned = assigned.map((tp) => tp.partition);
    });
    let lagTimer: NodeJS.Timeout | undefined;
    try {
      await source.start();
      lagTimer = setInterval(() => void this.#updateLag(source), SINK_LOOP_DEFAULTS.lagMetricEveryMs);
      lagTimer.unref();
      while (!signal.aborted) {
        await this.#rebalance();
        const records = await source.next(SINK_LOOP_DEFAULTS.pollMaxRecords, SINK_LOOP_DEFAULTS.pollWaitMs);
        if (records.length > 0) await this.#put(source, records);
        await this.#task.maybeRotate(Date.now());
        await this.#commit(source);
        this.#resets = 0;
        // Idle means the source had nothing for us, not that our own work (a commit) took long.
        if (records.length > 0) this.#lastRecordAt = performance.now();
        else if (exitWhenIdleS !== undefined && (await this.#caughtUp(source, exitWhenIdleS))) break;
      }
      await this.#shutdown(source);
    } finally {
      clearInterval(lagTimer);
      await source.close();
    }
  }

  /** Drops the open windows of the partitions the latest assignment took away (the new owner resumes them). */
  async #rebalance(): Promise<void> {
    const assigned = this.#assigned;
    if (!assigned) return;
    this.#assigned = undefined;
    const keep = new Set(assigned);
    const revoked = [...this.#owned].filter((p) => !keep.has(p));
    if (revoked.length === 0) return;
    this.#opts.log.info(
      { revoked: revoked.map((partition) => ({ topic: this.#topic, partition })) },
      'partitions revoked: dropping their open windows (the new owner resumes them)',
    );
    for (const p of revoked) this.#owned.delete(p);
    this.#latency.forget(revoked);
    await this.#task.close(revoked, { abort: true });
  }

  async #put(source: RecordSource, records: KafkaRecord[]): Promise<void> {
    this.#lastRecordAt = performance.now();
    this.#opts.metrics.consumed.inc({ topic: this.#topic }, records.length);
    // A fetch hands out runs of one partition: looked at once per run, not per record.
    const fresh: number[] = [];
    let partition = -1;
    for (const r of records) {
      if (r.partition === partition) continue;
      partition = r.partition;
      if (!this.#owned.has(partition) && !fresh.includes(partition)) fresh.push(partition);
    }
    if (fresh.length > 0) await this.#open(source, fresh);
    this.#latency.put(records);
    await this.#task.put(records);
  }

  /**
   * Recovers the partitions from HDFS. HDFS is never behind the group's committed offset (that is committed after
   * HDFS), so committing the recovered position is safe and lets Kafka's lag catch up with a crash's last window.
   */
  async #open(source: RecordSource, partitions: number[]): Promise<void> {
    const recovered = await this.#task.open(partitions);
    await this.#parts.deadLetters.open(partitions);
    for (const p of partitions) this.#owned.add(p);
    const ahead = new Map<number, bigint>();
    for (const [p, offset] of recovered) if (offset !== null) ahead.set(p, offset);
    this.#opts.log.info(
      { partitions, recoveredFrom: Object.fromEntries([...ahead].map(([p, o]) => [p, String(o)])) },
      'partitions opened',
    );
    await source.commit(ahead);
  }

  /** Commits to Kafka what the task made durable in HDFS. */
  async #commit(source: RecordSource): Promise<void> {
    const durable = await this.#task.preCommit();
    await source.commit(durable);
    for (const [partition, offset] of durable) this.#parts.deadLetters.committed(partition, offset);
  }

  /**
   * After a failed session (its source closed): drops every open window; final errors are thrown, anything else
   * waits out the reset schedule before the next session (none when stopping).
   */
  async #reset(err: TweetpipeError): Promise<void> {
    const { metrics, log, signal } = this.#opts;
    metrics.errors.inc({ stage: 'sink', code: err.code });
    await this.#task.close([...this.#owned], { abort: true }).catch(() => {});
    this.#owned.clear();
    this.#latency.forget();
    if (FINAL_CODES.has(err.code)) throw err;
    if (signal.aborted) {
      // Stopping (a window fenced by a rebalance during shutdown, say): no next session to resume in.
      log.warn(
        { err },
        'stopping: open windows dropped after an error (their records are re-read on the next start)',
      );
      return;
    }
    this.#resets++;
    const delay = delayFor(SINK_RESET, this.#resets);
    log.warn(
      { err, retryInMs: delay },
      'sink reset: dropping open windows and resuming from committed offsets',
    );
    await sleep(delay, signal).catch(() => {});
  }

  /**
   * After a reset, HDFS must answer before a new source fetches: while the NameNode is down every reset would
   * fetch up to a full buffer of records only for the next reset to drop them (memory grew ~2 MB/s over a 60 s
   * outage). One status call a second once it fails, so the sink is back within about a second of HDFS.
   */
  async #untilHdfsAnswers(): Promise<void> {
    const { signal, metrics } = this.#opts;
    while (!signal.aborted) {
      try {
        await this.#parts.probeHdfs();
        return;
      } catch (raw) {
        metrics.errors.inc({ stage: 'sink', code: toTweetpipeError(raw).code });
        await sleep(1000, signal).catch(() => {});
      }
    }
  }

  /**
   * --exit-when-idle: once no record came for `idleS`, commits every open window and asks the broker whether the
   * group's committed offsets reached the end of every partition of the topic (so HDFS holds it all, whichever
   * member wrote it). Not yet: consumes on (another member may still be at work, or a rebalance may hold a
   * partition). Still not after health.stallAfterS more: fails, naming the lag of each partition.
   */
  async #caughtUp(source: RecordSource, idleS: number): Promise<boolean> {
    const { config, log } = this.#opts;
    const idleFor = (performance.now() - this.#lastRecordAt) / 1000;
    if (idleFor < idleS || performance.now() - this.#lastLagCheckAt < 1000) return false;
    this.#lastLagCheckAt = performance.now();
    // Every window, due or not: what this member holds must be in HDFS before its offsets can reach the end.
    await this.#task.maybeRotate(Number.POSITIVE_INFINITY);
    await this.#commit(source);
    let behind = [...(await source.lag())].filter(([, l]) => l.lag > 0n);
    // A partition of ours may end on offsets that hold no record for us (transaction markers, aborted records):
    // nothing will ever come to commit past them, so they are committed as they are.
    const markersOnly = new Map<number, bigint>();
    for (const [partition, l] of behind)
      if (this.#owned.has(partition) && l.committed >= 0n)
        if (!(await this.#parts.holdsRecords(partition, l.committed, l.end)))
          markersOnly.set(partition, l.end);
    if (markersOnly.size > 0) {
      await source.commit(markersOnly);
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
        `--exit-when-idle: idle for ${Math.round(idleFor)} s, but partitions of ${this.#topic} still hold records ` +
          `the group has not committed to HDFS: ${Object.entries(lag)
            .map(([p, l]) => `partition ${p}: ${l}`)
            .join('; ')}`,
        { details: { lag } },
      );
    if (performance.now() - this.#lastLagReportAt >= SINK_LOOP_DEFAULTS.lagReportEveryMs) {
      this.#lastLagReportAt = performance.now();
      log.info({ lag }, 'idle, but partitions still hold uncommitted records: consuming on before exiting');
    }
    return false;
  }

  async #updateLag(source: RecordSource): Promise<void> {
    try {
      for (const [partition, { lag }] of await source.lag())
        this.#opts.metrics.lag.set({ topic: this.#topic, partition: String(partition) }, Number(lag));
    } catch {
      // Lag is for monitoring; the next tick tries again.
    }
  }

  /**
   * Commits the open windows within the grace period, else drops them (they are re-read on the next start). A
   * rebalance reported since the last poll is applied first: the windows of partitions it took away belong to
   * their new owner, whose commits would fence ours.
   */
  async #shutdown(source: RecordSource): Promise<void> {
    await this.#rebalance();
    const grace = this.#opts.shutdownGraceMs ?? SINK_LOOP_DEFAULTS.shutdownGraceMs;
    const all = [...this.#owned];
    const committed = await settlesWithin(this.#task.close(all, { abort: false }), grace);
    this.#owned.clear();
    if (!committed) {
      this.#opts.log.warn(
        { graceMs: grace },
        'could not commit the open windows in time: dropping them (they will be re-read)',
      );
      await this.#task.close(all, { abort: true }).catch(() => {});
    }
    await this.#commit(source);
  }
}
