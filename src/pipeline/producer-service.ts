/** The producing half of the pipeline, shared by `tweetpipe produce` and `tweetpipe run`. */
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import { createAdmin, ensureTopic } from '../kafka/admin.ts';
import { kafkaConnection } from '../kafka/client-options.ts';
import { readTailKeys } from '../kafka/topic-tail.ts';
import { dlqTopic, kafkaError, TweetProducer } from '../kafka/tweet-producer.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { DedupWindow } from '../sources/dedup.ts';
import { createSource, type SourceArgs } from '../sources/factory.ts';
import type { Source } from '../sources/source.ts';
import { type ProduceLoopOptions, type ProduceSummary, runProduceLoop } from './produce.ts';
import { retryForever } from './retry.ts';
import { TopicTailCheck } from './topic-tail-check.ts';

/** Creates the topic and its dead-letter topic when missing (partitions and retention from config). */
export async function ensureTopics(config: Config, log: Logger): Promise<void> {
  const admin = createAdmin(kafkaConnection(config, 'admin'));
  try {
    await retryForever(
      asKafkaRetryable(`ensuring topic ${config.topic.name}`, async () => {
        const { created, topic } = await ensureTopic(admin, {
          name: config.topic.name,
          partitions: config.topic.partitions,
          replication: config.topic.replication,
          retentionMs: config.topic.retentionMs,
        });
        if (created) log.info({ topic }, `created topic ${topic.name}`);
        else if (topic.partitions < config.topic.partitions)
          log.warn(
            { topic },
            `topic ${topic.name} has ${topic.partitions} partitions, fewer than topic.partitions=${config.topic.partitions}; left as is`,
          );
        await ensureTopic(admin, {
          name: dlqTopic(config.topic.name),
          partitions: 1,
          replication: config.topic.replication,
          retentionMs: -1,
        });
      }),
      { what: `ensuring topic ${config.topic.name} on ${config.kafka.brokers.join(',')}`, log, maxMs: 5000 },
    );
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * The Kafka client's own errors (connection refused, broker gone, leader moving) become retryable KAFKA errors: the
 * client reports an unreachable broker as nested MultipleErrors without a syscall code in the cause chain, which
 * would otherwise look fatal and end the producer instead of waiting for the broker. Our own errors keep their
 * verdict.
 */
function asKafkaRetryable<T>(what: string, fn: () => Promise<T>): () => Promise<T> {
  return async () => {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof TweetpipeError ? err : kafkaError(what, err);
    }
  };
}

export interface ProducerRun {
  source: Source;
  done: Promise<ProduceSummary>;
}

export async function startProducer(
  config: Config,
  args: SourceArgs & { durationS?: number | undefined },
  metrics: Metrics,
  log: Logger,
  signal: AbortSignal,
  onProduced?: ProduceLoopOptions['onProduced'],
): Promise<ProducerRun> {
  await ensureTopics(config, log);
  const conn = kafkaConnection(config, 'producer');
  const dedup = new DedupWindow(config.producer.dedupWindow);
  // The in-flight bound caps how many records of the topic's end were not acked yet, per partition.
  const readTail = asKafkaRetryable(`reading the end of ${config.topic.name}`, () =>
    readTailKeys(conn, config.topic.name, config.producer.maxInFlight),
  );
  if (config.producer.dedupWindow > 0) {
    // Tweets acked by Kafka just before a crash are not yet in the source cursor: remember them so the source's
    // replay of them is dropped.
    const keys = await retryForever(readTail, {
      what: `seeding the dedup window from ${config.topic.name}`,
      log,
      maxMs: 5000,
    });
    for (const key of keys) dedup.add(key);
    log.info({ ids: keys.length }, 'dedup window seeded from the end of the topic');
  }
  const source = await createSource(args, config, log);
  const producer = new TweetProducer(conn, source.name, {
    topic: config.topic.name,
    compression: config.producer.compression,
  });
  const done = runProduceLoop({
    source,
    producer,
    dedup,
    metrics,
    log,
    maxInFlight: config.producer.maxInFlight,
    tailCheck: new TopicTailCheck(readTail),
    maxTweets: args.maxTweets,
    durationS: args.durationS,
    signal,
    ...(onProduced ? { onProduced } : {}),
  }).finally(() => producer.close().catch(() => {}));
  const stopBinding = bindSourceMetrics(source, metrics);
  return { source, done: done.finally(stopBinding) };
}

/** Copies a source's own counters and connection state into the registry once a second. */
function bindSourceMetrics(source: Source, metrics: Metrics): () => void {
  let reconnects = 0;
  let problems = 0;
  const sync = () => {
    const c = source.counters;
    if (c) {
      metrics.reconnects.inc({ source: source.name }, c.reconnects - reconnects);
      metrics.errors.inc({ stage: 'source', code: 'X_STREAM' }, c.xProblems - problems);
      reconnects = c.reconnects;
      problems = c.xProblems;
    }
    metrics.sourceConnected.set({ source: source.name }, source.state().state === 'connected' ? 1 : 0);
  };
  const timer = setInterval(sync, 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    sync();
  };
}
