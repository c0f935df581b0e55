/**
 * The synthetic source: realistic v2 tweets from SyntheticTweets, written as the records the general mapping
 * (tweet-record.ts) makes of them, byte for byte, straight from the payloads (synthetic-record-writer.ts).
 * With `rate` it paces to that many tweets per second in real time (created_at = now, for demos); without it,
 * it runs as fast as it can on a virtual clock that ends near now (never ahead of it), the same tweets for a seed
 * (for benchmarks and tests), generated a few batches ahead on worker threads: batch k is stream segment k, made
 * by thread k mod threads, and read() hands the batches out in order. A batch's memory goes back to its thread when
 * the batch is acked (the produce loop acks last, once nothing reads its records), to be written over.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { SYNTHETIC_DEFAULTS } from '../config/sources.ts';
import { EndOfInput, type Source, type SourceBatch, type SourceState } from './source.ts';
import { generateBatch, SYNTHETIC_RULES, syntheticStartMs } from './synthetic-batch.ts';
import { SyntheticTweets } from './synthetic-payloads.ts';
import { type PackedBatch, SyntheticRecordWriter, unpackBatch } from './synthetic-record-writer.ts';
import type { SegmentRequest, SpareBatch, SyntheticWorkerData } from './synthetic-worker.ts';

export interface SyntheticSourceOptions {
  seed: number;
  /** Tweets per second; undefined = as fast as possible. */
  rate?: number | undefined;
  /** Stop after this many tweets. */
  maxTweets?: number | undefined;
  batchSize?: number;
}

/**
 * Generator threads: generating tweets and writing their records is a large share of a synthetic tweet's CPU, so
 * it runs beside the main thread, which publishes: on one thread per core left beside the main thread, at most two.
 * One thread made 73,000-116,000 tweets/s alone in the bench, more than Kafka took from the main thread; on a 2-core
 * machine a second one only competed with the main thread and Kafka for the same cores, and cost its own JIT warm-up
 * and heap: ~2 us more CPU a tweet (median of 6 pairs of the bench's produce row; docs/benchmarks.md, "Ninth round").
 */
const THREADS = Math.max(1, Math.min(2, os.availableParallelism() - 1));

interface GeneratorThread {
  worker: Worker;
  /** Requests sent to this thread and not answered yet, oldest first (a thread answers in order). */
  pending: { resolve: (b: PackedBatch) => void; reject: (e: Error) => void }[];
}

export class SyntheticSource implements Source {
  readonly name = 'synthetic';
  private readonly opts: SyntheticSourceOptions;
  private readonly batchSize: number;
  private readonly max: number;
  private generated = 0;
  private requested = 0;
  private started = 0;
  private tweets: SyntheticTweets | undefined;
  /** Rate mode's writer, kept across batches for what it encodes once (users, places, posts). */
  private readonly writer = new SyntheticRecordWriter(SYNTHETIC_RULES);
  private threads: GeneratorThread[] = [];
  /** Batches requested and not read yet, in stream order, with the thread that makes each. */
  private readonly ready: { thread: GeneratorThread; batch: Promise<PackedBatch> }[] = [];

  constructor(opts: SyntheticSourceOptions) {
    this.opts = opts;
    this.batchSize = opts.batchSize ?? SYNTHETIC_DEFAULTS.batchSize;
    this.max = opts.maxTweets ?? Number.POSITIVE_INFINITY;
  }

  async connect(): Promise<void> {
    this.started = performance.now();
    if (this.opts.rate !== undefined) {
      this.tweets = new SyntheticTweets({ seed: this.opts.seed, startTimeMs: Date.now() });
      return;
    }
    const startTimeMs = syntheticStartMs(this.max);
    this.threads = Array.from({ length: THREADS }, (_, thread) => {
      const workerData: SyntheticWorkerData = {
        seed: this.opts.seed,
        startTimeMs,
        segmentSize: this.batchSize,
        thread,
      };
      const t: GeneratorThread = {
        worker: new Worker(new URL('./synthetic-worker.ts', import.meta.url), { workerData }),
        pending: [],
      };
      t.worker.on('message', (b: PackedBatch) => t.pending.shift()?.resolve(b));
      t.worker.on('error', (err) => {
        for (const p of t.pending.splice(0)) p.reject(err);
      });
      return t;
    });
    this.prefetch();
  }

  private prefetch(): void {
    while (
      this.ready.length < SYNTHETIC_DEFAULTS.prefetchBatches * this.threads.length &&
      this.requested < this.max
    ) {
      // Every batch but the last is a whole segment, so the batches requested so far number the next one.
      const segment = Math.floor(this.requested / this.batchSize);
      const n = Math.min(this.batchSize, this.max - this.requested);
      this.requested += n;
      const thread = this.threads[segment % this.threads.length]!;
      this.ready.push({
        thread,
        batch: new Promise((resolve, reject) => thread.pending.push({ resolve, reject })),
      });
      const request: SegmentRequest = { segment, n, source: this.name };
      thread.worker.postMessage(request);
    }
  }

  async read(signal: AbortSignal): Promise<SourceBatch> {
    if (this.generated >= this.max) throw new EndOfInput();
    signal.throwIfAborted();
    if (this.threads.length > 0) {
      const next = this.ready.shift();
      if (!next) throw new EndOfInput();
      const packed = await next.batch;
      const tweets = unpackBatch(packed);
      this.generated += tweets.length;
      this.prefetch();
      // Transferring detaches this thread's views of the batch: its records must not be read after the ack.
      const spare: SpareBatch = { spare: packed.bytes.buffer as ArrayBuffer };
      return {
        tweets,
        deadLetters: [],
        ack: async () => next.thread.worker.postMessage(spare, [spare.spare]),
      };
    }
    const rate = this.opts.rate!;
    // Pace: as many tweets as the rate allows by now, waiting a little when none are due.
    let n = Math.min(this.batchSize, this.max - this.generated);
    for (;;) {
      signal.throwIfAborted();
      const due = Math.floor(((performance.now() - this.started) / 1000) * rate) - this.generated;
      if (due > 0) {
        n = Math.min(n, due);
        break;
      }
      await sleep(Math.max(5, Math.min(100, 1000 / rate)), undefined, { signal });
    }
    const batch = generateBatch(this.tweets!, n, Date.now(), this.name, this.writer);
    this.generated += n;
    return { tweets: batch.records, deadLetters: batch.deadLetters, ack: async () => {} };
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    this.threads = [];
  }

  state(): SourceState {
    return { state: 'connected', reconnects: 0 };
  }
}
