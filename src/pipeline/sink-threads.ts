/**
 * Runs the sink on `sink.workers` threads: each worker thread is one member of the consumer group with its own
 * Kafka consumer, WebHDFS client and partition writers (sink-thread-entry.ts), exactly as if as many `tweetpipe sink`
 * processes ran side by side, so the exactly-once protocol is the one that already covers several processes and
 * rebalances. What a worker counts reaches this thread's Metrics (metrics-bridge.ts) and observer, so /metrics,
 * the progress line and the dashboard see one sink.
 *
 * Why threads: one sink thread is CPU-bound (Kafka decoding and zstd, JSON validation, encoding: ~30 us per tweet)
 * while the machine has more cores; the group spreads the partitions over the threads. With one worker the loop
 * runs on this thread, as before.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { deserializeError, type SerializedError, TweetpipeError, toTweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import { resolveLogFormat } from '../log.ts';
import { applyMetricOps, type MetricOp } from '../observe/metrics-bridge.ts';
import type { CommittedFileInfo, WindowCommitInfo } from '../sink/partition-writer.ts';
import type { PoisonRecord } from '../sink/sink-record.ts';
import { runSinkLoop, type SinkLoopOptions } from './sink-loop.ts';
import { kafkaSinkParts } from './sink-parts.ts';

export interface SinkOptions extends SinkLoopOptions {
  /** Serves the single-thread case; each worker thread opens its own WebHDFS client. */
  storage: Storage;
}

export interface SinkWorkerData {
  index: number;
  /** The validated config; its log format is resolved (a worker's stderr is no TTY). */
  config: Config;
  exitWhenIdleS?: number | undefined;
  shutdownGraceMs?: number | undefined;
}

export type WorkerEvent =
  | { event: 'onCommit'; arg: CommittedFileInfo }
  | { event: 'onWindowCommitted'; arg: WindowCommitInfo }
  | { event: 'onPoison'; arg: PoisonRecord[] };

export type WorkerMessage =
  | { type: 'metrics'; ops: MetricOp[] }
  | ({ type: 'event' } & WorkerEvent)
  | { type: 'done' }
  /** The loop's error with its code, retryable flag, details and cause chain (serializeError). */
  | { type: 'failed'; error: SerializedError };

/**
 * The sink loop on `config.sink.workers` threads (or on this one for 1). `storage` serves the single-thread case;
 * each worker opens its own WebHDFS client.
 */
export async function runSink(opts: SinkOptions): Promise<void> {
  const count = opts.config.sink.workers;
  if (count <= 1) return runSinkLoop(opts, kafkaSinkParts(opts));
  opts.log.info({ workers: count }, 'sink: one consumer group member per worker thread');
  const workers = Array.from({ length: count }, (_, index) => startWorker(index, opts));
  const stopAll = () => {
    for (const w of workers) w.stop();
  };
  opts.signal.addEventListener('abort', stopAll, { once: true });
  if (opts.signal.aborted) stopAll();
  try {
    const results = await Promise.allSettled(
      workers.map((w) =>
        w.done.catch((err: unknown) => {
          // One failed worker stops the sink: the others commit what they hold and leave the group.
          stopAll();
          throw err;
        }),
      ),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } finally {
    opts.signal.removeEventListener('abort', stopAll);
  }
}

function startWorker(index: number, opts: SinkOptions): { done: Promise<void>; stop(): void } {
  const { config } = opts;
  const workerData: SinkWorkerData = {
    index,
    config: { ...config, log: { ...config.log, format: resolveLogFormat(config.log.format) } },
    exitWhenIdleS: opts.exitWhenIdleS,
    shutdownGraceMs: opts.shutdownGraceMs,
  };
  const worker = new Worker(new URL('./sink-thread-entry.ts', import.meta.url), { workerData });
  return { done: followWorker(worker, index, opts), stop: () => worker.postMessage({ type: 'stop' }) };
}

/**
 * Relays a sink worker's metrics and events to this thread; settles when the worker exits: resolves after its
 * 'done', rejects with the loop's error rebuilt whole (code, retryable, cause) after 'failed', or with an INTERNAL
 * error when it crashed or exited without a word.
 */
export function followWorker(
  worker: Worker,
  index: number,
  opts: Pick<SinkLoopOptions, 'metrics' | 'observer'>,
): Promise<void> {
  let outcome: 'done' | TweetpipeError | undefined;
  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'metrics') applyMetricOps(opts.metrics, m.ops);
    else if (m.type === 'event') deliver(opts, m);
    else if (m.type === 'done') outcome = 'done';
    else outcome = toTweetpipeError(deserializeError(m.error));
  });
  return new Promise<void>((resolve, reject) => {
    worker.on('error', (err) =>
      reject(new TweetpipeError('INTERNAL', `sink worker ${index} crashed: ${err.message}`, { cause: err })),
    );
    worker.on('exit', (code) => {
      if (outcome === 'done') resolve();
      else if (outcome instanceof TweetpipeError) reject(outcome);
      else
        reject(
          new TweetpipeError('INTERNAL', `sink worker ${index} exited (code ${code}) before it finished`),
        );
    });
  });
}

function deliver(opts: Pick<SinkLoopOptions, 'observer'>, m: WorkerEvent): void {
  const observer = opts.observer;
  if (!observer) return;
  if (m.event === 'onCommit') observer.onCommit?.(m.arg);
  else if (m.event === 'onWindowCommitted') observer.onWindowCommitted?.(m.arg);
  else observer.onPoison?.(m.arg.map(asBuffers));
}

/**
 * A poison record as plain data, for postMessage: a structured clone keeps an object's own data properties only,
 * and a decoded record's key is a getter (record-batch-records.ts), which the clone would drop.
 */
export function postablePoison(p: PoisonRecord): PoisonRecord {
  const r = p.record;
  return {
    reason: p.reason,
    record: {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key,
      value: r.value,
      headers: r.headers,
    },
  };
}

/** Buffers arrive from another thread as plain Uint8Arrays; give them their Buffer methods back. */
function asBuffers(p: PoisonRecord): PoisonRecord {
  const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  const r = p.record;
  return {
    reason: p.reason,
    record: {
      ...r,
      key: r.key && buf(r.key),
      value: r.value && buf(r.value),
      headers: new Map([...r.headers].map(([k, v]) => [k, buf(v)])),
    },
  };
}
