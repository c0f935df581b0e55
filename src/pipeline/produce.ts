/**
 * Source -> Kafka. Batches are sent with several in flight (throughput) but acknowledged to the source strictly in
 * order, so the source cursor only ever covers tweets Kafka holds. When Kafka is down the sends retry and, once
 * `maxInFlight` records wait, reading pauses: memory stays bounded and nothing is dropped.
 */

import type { TweetProducer } from '../kafka/tweet-producer.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { retryForever } from '../retry/retry-forever.ts';
import { EndOfInput, type Source } from '../sources/source.ts';
import type { DeadLetter, TweetRecord } from '../types.ts';
import type { TopicTailCheck } from './topic-tail-check.ts';

/** Remembers recent tweet ids; true the first time an id is offered within the window. */
export interface SeenIds {
  add(id: string): boolean;
}

/**
 * Kafka refuses a batch holding a record timestamp more than log.message.timestamp.after.max.ms (1 h by default)
 * ahead of the broker's clock, and retrying would stall the stream: such tweets go to the DLQ instead.
 */
const MAX_FUTURE_MS = 55 * 60_000;

export interface ProduceLoopOptions {
  source: Source;
  producer: TweetProducer;
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
  const { source, producer, dedup, metrics, log } = opts;
  const t0 = performance.now();
  const summary: ProduceSummary = { received: 0, produced: 0, duplicates: 0, deadLetters: 0, seconds: 0 };
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal.reason);
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const timer = opts.durationS ? setTimeout(() => stop.abort(), opts.durationS * 1000) : undefined;

  const inFlight: { size: number; done: Promise<void>; settled: boolean }[] = [];
  let inFlightRecords = 0;
  let acked: Promise<void> = Promise.resolve();
  let failure: unknown;

  const sendBatch = async (
    tweets: Parameters<TweetProducer['send']>[0],
    letters: Parameters<TweetProducer['sendDeadLetters']>[0],
  ) => {
    const onError = (err: { code: string }) => metrics.errors.inc({ stage: 'produce', code: err.code });
    let unsent = tweets;
    let failure: number | undefined;
    const sendRest = async () => {
      if (failure !== undefined) {
        const inTopic = await opts.tailCheck.keysAfter(failure);
        unsent = unsent.filter((t) => !inTopic.has(t.id));
      }
      try {
        await producer.send(unsent);
      } catch (err) {
        failure = opts.tailCheck.failed();
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
  };

  try {
    await source.connect(stop.signal);
    while (!stop.signal.aborted && failure === undefined) {
      if (opts.maxTweets !== undefined && summary.produced + inFlightRecords >= opts.maxTweets) break;
      let batch: Awaited<ReturnType<Source['read']>>;
      try {
        batch = await source.read(stop.signal);
      } catch (err) {
        if (err instanceof EndOfInput || stop.signal.aborted) break;
        throw err;
      }
      summary.received += batch.tweets.length;
      metrics.received.inc({ source: source.name }, batch.tweets.length);
      const letters = [...batch.deadLetters];
      const fresh: TweetRecord[] = [];
      const latest = Date.now() + MAX_FUTURE_MS;
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
      summary.duplicates += dups;
      if (dups > 0) metrics.duplicates.inc({ source: source.name }, dups);
      for (const l of letters)
        log.warn({ reason: l.reason, bytes: l.raw.length }, 'malformed payload sent to the DLQ');

      const size = fresh.length + letters.length;
      const sent = sendBatch(fresh, letters);
      // Acks run in read order: a later batch never moves the cursor past an earlier one still in flight.
      const previous = acked;
      const done = (async () => {
        await Promise.all([previous, sent]);
        await batch.ack();
        summary.produced += fresh.length;
        summary.deadLetters += letters.length;
        metrics.produced.inc({ topic: producer.topic }, fresh.length);
        metrics.producedBytes.inc(
          { topic: producer.topic },
          fresh.reduce((n, t) => n + t.value.length, 0),
        );
        if (letters.length > 0) metrics.deadLetters.inc({ stage: 'source' }, letters.length);
        opts.onProduced?.(fresh, letters);
      })();
      const entry = { size, done, settled: false };
      done.then(
        () => {
          entry.settled = true;
        },
        (err: unknown) => {
          entry.settled = true;
          failure ??= err;
          // A quiet source may not return from read() for a long time: a failed ack (the cursor could not be
          // saved) must stop the loop now, not at the next batch.
          stop.abort(err);
        },
      );
      acked = done;
      inFlight.push(entry);
      inFlightRecords += size;
      while (inFlight.length > 0 && (inFlightRecords >= opts.maxInFlight || inFlight.length > 64)) {
        const oldest = inFlight.shift()!;
        await oldest.done.catch(() => {});
        inFlightRecords -= oldest.size;
      }
      while (inFlight[0]?.settled) inFlightRecords -= inFlight.shift()!.size;
    }
    // Drain: everything read is either acked by Kafka or was never counted as read.
    await acked;
    if (failure !== undefined) throw failure;
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onAbort);
    await source.close();
    summary.seconds = (performance.now() - t0) / 1000;
  }
  return summary;
}
