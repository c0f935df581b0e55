/** The producing half of the pipeline, shared by `tweetpipe produce` and `tweetpipe run`. */
import type { Config } from '../config.ts';
import { kafkaConnection } from '../kafka/client-options.ts';
import { readTailKeys } from '../kafka/topic-tail.ts';
import { effectiveCompression, TweetProducer } from '../kafka/tweet-producer.ts';
import { zstdRecordsThroughLibzstd } from '../kafka/zstd-codec.ts';
import { LIBZSTD_LIBRARY } from '../libzstd.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { retryForever } from '../retry/retry-forever.ts';
import { KAFKA_SETUP } from '../retry/schedules.ts';
import { DedupWindow } from '../sources/dedup.ts';
import { createSource, type SourceArgs } from '../sources/factory.ts';
import type { Source } from '../sources/source.ts';
import { type ProduceLoopOptions, type ProduceSummary, runProduceLoop } from './produce.ts';
import { TopicTailCheck } from './topic-tail-check.ts';
import { asKafkaRetryable, ensureTopics } from './topics.ts';

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
      schedule: KAFKA_SETUP,
    });
    for (const key of keys) dedup.add(key);
    log.info({ ids: keys.length }, 'dedup window seeded from the end of the topic');
  }
  const source = await createSource(args, config, log);
  const producer = new TweetProducer(conn, source.name, {
    topic: config.topic.name,
    compression: config.producer.compression,
  });
  if (effectiveCompression(config.producer.compression) === 'zstd')
    announceZstdCompression(log, config.producer.zstdLevel);
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

/** Says once at start how record batches are zstd-compressed: whether libzstd loaded is a cost an operator can fix. */
function announceZstdCompression(log: Logger, level: number): void {
  if (zstdRecordsThroughLibzstd())
    log.info(
      { library: LIBZSTD_LIBRARY, zstdLevel: level },
      'zstd batches compress with libzstd, one context and output buffer per thread',
    );
  else
    log.warn(
      { library: LIBZSTD_LIBRARY, zstdLevel: level },
      'libzstd could not be loaded (Debian/Ubuntu package libzstd1): zstd batches compress through node:zlib, ' +
        'with a new context and output chunk per batch (more CPU and memory per tweet)',
    );
}

/** Copies a source's own counters and connection state into the registry once a second. */
function bindSourceMetrics(source: Source, metrics: Metrics): () => void {
  let reconnects = 0;
  let problems = 0;
  let foreign = 0;
  const sync = () => {
    const c = source.counters;
    if (c) {
      metrics.reconnects.inc({ source: source.name }, c.reconnects - reconnects);
      metrics.errors.inc({ stage: 'source', code: 'X_STREAM' }, c.xProblems - problems);
      metrics.foreignRuleTweets.inc({ source: source.name }, c.foreignRuleTweets - foreign);
      reconnects = c.reconnects;
      problems = c.xProblems;
      foreign = c.foreignRuleTweets;
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
