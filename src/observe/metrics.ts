/**
 * One Prometheus registry per process (prom-client). Every stage counts into it; `/metrics` serves it and the
 * dashboard and progress line read from it, so the three views never disagree.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly received = new Counter({
    name: 'tweetpipe_tweets_received_total',
    help: 'Tweets read from the source (before dedup)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'tweetpipe_tweets_duplicate_total',
    help: 'Tweets dropped because their id was seen within the dedup window',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly produced = new Counter({
    name: 'tweetpipe_tweets_produced_total',
    help: 'Tweets acknowledged by Kafka',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly producedBytes = new Counter({
    name: 'tweetpipe_produced_bytes_total',
    help: 'Value bytes acknowledged by Kafka',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'tweetpipe_dlq_records_total',
    help: 'Records sent to the dead-letter topic',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });
  readonly foreignRuleTweets = new Counter({
    name: 'tweetpipe_tweets_foreign_rule_total',
    help: "Stream tweets dropped because they matched only rules that are not tweetpipe's (x.rulesMode)",
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly reconnects = new Counter({
    name: 'tweetpipe_source_reconnects_total',
    help: 'Source reconnections (stream disconnects, backoffs)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'tweetpipe_errors_total',
    help: 'Errors by stage and code',
    labelNames: ['stage', 'code'] as const,
    registers: [this.registry],
  });
  readonly namenodeSwitches = new Counter({
    name: 'tweetpipe_hdfs_namenode_switches_total',
    help: 'WebHDFS calls moved to the next NameNode URL, by the error of the one left (HDFS_STANDBY, NETWORK)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly consumed = new Counter({
    name: 'tweetpipe_records_consumed_total',
    help: 'Records fetched from Kafka by the sink',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly written = new Counter({
    name: 'tweetpipe_records_written_total',
    help: 'Records in files committed to HDFS',
    labelNames: ['topic', 'format'] as const,
    registers: [this.registry],
  });
  readonly writtenBytes = new Counter({
    name: 'tweetpipe_written_bytes_total',
    help: 'Bytes of files committed to HDFS',
    labelNames: ['topic', 'format'] as const,
    registers: [this.registry],
  });
  readonly filesCommitted = new Counter({
    name: 'tweetpipe_files_committed_total',
    help: 'Files committed (renamed to their final name) in HDFS',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly commitLatency = new Histogram({
    name: 'tweetpipe_commit_latency_seconds',
    help: 'Time to commit one rotation window (close temp files, manifest, renames)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly endToEndLatency = new Histogram({
    name: 'tweetpipe_end_to_end_latency_seconds',
    help: 'From the tweet created_at (record timestamp) to its file committed in HDFS, sampled: the first record of each partition run of a polled batch',
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: 'tweetpipe_consumer_lag',
    help: 'Records between the end of the partition and the position durable in HDFS',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  readonly sourceConnected = new Gauge({
    name: 'tweetpipe_source_connected',
    help: '1 when the source is connected, 0 otherwise',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly stalled = new Gauge({
    name: 'tweetpipe_stalled',
    help: '1 while a stage keeps failing with no progress for longer than health.stallAfterS (see /readyz)',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });
  readonly stalls = new Counter({
    name: 'tweetpipe_stalls_total',
    help: 'Times a stage was found stalled: failing with no progress for longer than health.stallAfterS',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'tweetpipe_' });
  }

  /** Sum of a counter over its label sets, all of them or those with the given labels. */
  async total(counter: Counter, where: Record<string, string> = {}): Promise<number> {
    const { values } = await counter.get();
    const matches = (labels: Record<string, unknown>) =>
      Object.entries(where).every(([k, v]) => labels[k] === v);
    return values.reduce((sum, v) => (matches(v.labels) ? sum + v.value : sum), 0);
  }
}
