/**
 * Source -> Kafka. Batches are sent with several in flight (throughput) but acknowledged to the source strictly in
 * order, so the source cursor only ever covers tweets Kafka holds. When Kafka is down the sends retry and, once
 * `maxInFlight` records wait, reading pauses: memory stays bounded and nothing is dropped.
 *
 * Call protocol with the source (src/sources/source.ts): connect once, read one batch at a time until stopped or
 * EndOfInput, ack each batch once Kafka holds it and every batch read before it was acked, close once at the end.
 * With the publisher: record-publisher.ts.
 */

import { PRODUCE_LOOP_DEFAULTS } from '../config/producer.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { retryForever } from '../retry/retry-forever.ts';
import { EndOfInput, type Source, type SourceBatch } from '../sources/source.ts';
import type { DeadLetter, TweetRecord } from '../types.ts';
import type { RecordPublisher } from './record-publisher.ts';
import type { TopicTailCheck } from './topic-tail-check.ts';

/** Remembers recent tweet ids; true the first time an id is offered within the window. */
export interface SeenIds {
  add(id: string): boolean;
}

export interface ProduceLoopOptions {
  source: Source;
  producer: RecordPublisher;
  dedup: SeenIds;
  metrics: Metrics;
  log: Logger;
  /** Records read but not yet acked by Kafka, above which reading pauses. */
  maxInFlight: number;
  /** Keys at the end of the topic, checked before a failed batch is sent again (see topic-tail-check.ts). */
  tailCheck: TopicTailCheck;
  /** Stop after this many tweets were produced (checked per batch). */
  maxTweets?: number | undefined;
  /** Stop reading after this many seconds. */
  durationS?: number | undefined;
  /** First abort: stop reading, drain what was read into Kafka, return. */
  signal: AbortSignal;
  /** Called with each batch once Kafka acked it (the dashboard samples hashtags and languages). */
  onProduced?: (tweets: TweetRecord[], deadLetters: DeadLetter[]) => void;
}

export interface ProduceSummary {
  received: number;
  produced: number;
  duplicates: number;
  deadLetters: number;
  seconds: number;
}

export async function runProduceLoop(opts: ProduceLoopOptions): Promise<ProduceSummary> {
  return new ProduceRun(opts).run();
}

/** A batch sent and not yet acked to the source. */
interface InFlight {
  records: number;
  acked: Promise<void>;
  settled: boolean;
}

class ProduceRun {
  readonly #opts: ProduceLoopOptions;
  readonly #summary: ProduceSummary = { received: 0, produced: 0, duplicates: 0, deadLetters: 0, seconds: 0 };
  /** Aborted by the caller's signal, the duration, or a failed ack. */
  readonly #stop = new AbortController();
  readonly #inFlight: InFlight[] = [];
  #inFlightRecords = 0;
  /** The ack of the latest batch read: each batch's ack waits for this one of the batch before it. */
  #lastAck: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(opts: ProduceLoopOptions) {
    this.#opts = opts;
  }

  async run(): Promise<ProduceSummary> {
    const { source, signal, durationS } = this.#opts;
    const t0 = performance.now();
    const onAbort = () => this.#stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = durationS ? setTimeout(() => this.#stop.abort(), durationS * 1000) : undefined;
    try {
      await source.connect(this.#stop.signal);
      for (let batch = await this.#read(); batch; batch = await this.#read()) {
        const { fresh, letters } = this.#screen(batch);
        this.#track(fresh.length + letters.length, this.#ackInOrder(batch, fresh, letters));
        await this.#throttle();
      }
      // Drain: everything read is either acked by Kafka or was never counted as read.
      await this.#lastAck;
      if (this.#failure !== undefined) throw this.#failure;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      await source.close();
      this.#summary.seconds = (performance.now() - t0) / 1000;
    }
    return this.#summary;
  }

  /** The next batch, or undefined once stopped, failed, at --max-tweets or at the end of the input. */
  async #read(): Promise<SourceBatch | undefined> {
    const { source, maxTweets } = this.#opts;
    if (this.#stop.signal.aborted || this.#failure !== undefined) return undefined;
    if (maxTweets !== undefined && this.#summary.produced + this.#inFlightRecords >= maxTweets)
      return undefined;
    try {
      const batch = await source.read(this.#stop.signal);
      this.#summary.received += batch.tweets.length;
      this.#opts.metrics.received.inc({ source: source.name }, batch.tweets.length);
      return batch;
    } catch (err) {
      if (err instanceof EndOfInput || this.#stop.signal.aborted) return undefined;
      throw err;
    }
  }

  /** Drops duplicates; tweets dated too far ahead join the malformed payloads on their way to the DLQ. */
  #screen(batch: SourceBatch): { fresh: TweetRecord[]; letters: DeadLetter[] } {
    const { dedup, metrics, log, source } = this.#opts;
    const letters = [...batch.deadLetters];
    const fresh: TweetRecord[] = [];
    const latest = Date.now() + PRODUCE_LOOP_DEFAULTS.maxFutureMs;
    let dups = 0;
    for (const t of batch.tweets) {
      if (!dedup.add(t.id)) dups++;
      else if (t.createdAtMs > latest)
        letters.push({
          raw: t.value,
          reason: `created_at ${new Date(t.createdAtMs).toISOString()} is in the future`,
        });
      else fresh.push(t);
    }
    this.#summary.duplicates += dups;
    if (dups > 0) metrics.duplicates.inc({ source: source.name }, dups);
    for (const l of letters)
      log.warn({ reason: l.reason, bytes: l.raw.length }, 'malformed payload sent to the DLQ');
    return { fresh, letters };
  }

  /**
   * Sends the batch now; acks it to the source once Kafka holds it and the batch before it was acked. The ack comes
   * last, once nothing here reads the records any more: a source may then reuse their memory (synthetic.ts does).
   */
  async #ackInOrder(batch: SourceBatch, fresh: TweetRecord[], letters: DeadLetter[]): Promise<void> {
    const { metrics, producer } = this.#opts;
    const sent = this.#send(fresh, letters);
    await Promise.all([this.#lastAck, sent]);
    this.#summary.produced += fresh.length;
    this.#summary.deadLetters += letters.length;
    metrics.produced.inc({ topic: producer.topic }, fresh.length);
    metrics.producedBytes.inc(
      { topic: producer.topic },
      fresh.reduce((n, t) => n + t.value.length, 0),
    );
    if (letters.length > 0) metrics.deadLetters.inc({ stage: 'source' }, letters.length);
    this.#opts.onProduced?.(fresh, letters);
    await batch.ack();
  }

  /** Retries until Kafka holds the batch; a re-send first drops what the topic's tail shows already arrived. */
  async #send(tweets: TweetRecord[], letters: DeadLetter[]): Promise<void> {
    const { producer, tailCheck, metrics, log } = this.#opts;
    const onError = (err: { code: string }) => metrics.errors.inc({ stage: 'produce', code: err.code });
    let unsent = tweets;
    let failedTicket: number | undefined;
    const sendRest = async () => {
      if (failedTicket !== undefined) {
        const inTopic = await tailCheck.keysAfter(failedTicket);
        unsent = unsent.filter((t) => !inTopic.has(t.id));
      }
      try {
        await producer.send(unsent);
      } catch (err) {
        failedTicket = tailCheck.failed();
        throw err;
      }
    };
    await Promise.all([
      retryForever(sendRest, { what: 'producing to Kafka', log, onError }),
      retryForever(() => producer.sendDeadLetters(letters, { stage: 'source' }), {
        what: 'producing to the dead-letter topic',
        log,
        onError,
      }),
    ]);
  }

  #track(records: number, acked: Promise<void>): void {
    const entry: InFlight = { records, acked, settled: false };
    acked.then(
      () => {
        entry.settled = true;
      },
      (err: unknown) => {
        entry.settled = true;
        this.#failure ??= err;
        // A quiet source may not return from read() for a long time: a failed ack (the cursor could not be
        // saved) must stop the loop now, not at the next batch.
        this.#stop.abort(err);
      },
    );
    this.#lastAck = acked;
    this.#inFlight.push(entry);
    this.#inFlightRecords += records;
  }

  /** Waits while too much is in flight; forgets the batches already acked. */
  async #throttle(): Promise<void> {
    const inFlight = this.#inFlight;
    while (
      inFlight.length > 0 &&
      (this.#inFlightRecords >= this.#opts.maxInFlight ||
        inFlight.length > PRODUCE_LOOP_DEFAULTS.maxInFlightBatches)
    ) {
      const oldest = inFlight.shift()!;
      await oldest.acked.catch(() => {});
      this.#inFlightRecords -= oldest.records;
    }
    while (inFlight[0]?.settled) this.#inFlightRecords -= inFlight.shift()!.records;
  }
}
