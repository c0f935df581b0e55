/**
 * The flags of the producing and the sinking half, declared once: `produce` and `sink` each take one set, `run`
 * takes both, so the three commands spell every option, its help and its config key the same way.
 */
import { type Command, Option } from 'commander';
import { SOURCE_KINDS, type SourceArgs, type SourceKind } from '../sources/factory.ts';
import { positiveInt, positiveNumber } from './parse.ts';

/** Flag (commander's camelCase name) -> config path. */
export const SOURCE_FLAG_KEYS: Record<string, string> = {
  partitions: 'topic.partitions',
  retentionMs: 'topic.retentionMs',
  xApiUrl: 'x.apiUrl',
  query: 'x.query',
  stateDir: 'producer.stateDir',
};

export const SINK_FLAG_KEYS: Record<string, string> = {
  group: 'sink.group',
  format: 'sink.format',
  maxRecords: 'sink.maxRecords',
  maxBytes: 'sink.maxBytes',
  maxAge: 'sink.maxAgeS',
  timezone: 'sink.timezone',
  granularity: 'sink.granularity',
  partitionFields: 'sink.partitionFields',
  workers: 'sink.workers',
};

export function addTopicOption(cmd: Command): Command {
  return cmd.option('--topic <name>', 'Kafka topic (TWEETPIPE_TOPIC; default twitter_data)');
}

export function addSourceOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--source <kind>', 'where tweets come from').choices(SOURCE_KINDS).default('x-stream'),
    )
    .option('--partitions <n>', 'partitions when the topic is created', positiveInt('--partitions'))
    .option('--retention-ms <ms>', 'retention when the topic is created (-1: forever)')
    .option('--max-tweets <n>', 'stop after this many tweets', positiveInt('--max-tweets'))
    .option('--duration <s>', 'stop after this many seconds', positiveNumber('--duration'))
    .option('--x-api-url <url>', 'X API base URL (X_API_BASE_URL; default https://api.x.com)')
    .option('--query <q>', 'recent-search query (x-search)')
    .option(
      '--rate <n>',
      'synthetic: tweets per second (default: as fast as possible)',
      positiveNumber('--rate'),
    )
    .option('--seed <n>', 'synthetic: random seed', positiveInt('--seed'), 1)
    .option('--file <path...>', 'replay: NDJSON file(s) of v2 payloads (.gz allowed)')
    .addOption(
      new Option('--pace <pace>', 'replay: original timing or as fast as possible')
        .choices(['original', 'max'])
        .default('max'),
    )
    .option('--state-dir <dir>', 'where the source cursor is kept (TWEETPIPE_PRODUCER_STATE_DIR)');
}

export function sourceArgs(opts: Record<string, unknown>): SourceArgs & { durationS?: number | undefined } {
  return {
    kind: opts.source as SourceKind,
    rate: opts.rate as number | undefined,
    seed: opts.seed as number | undefined,
    maxTweets: opts.maxTweets as number | undefined,
    files: opts.file as string[] | undefined,
    pace: opts.pace as 'original' | 'max' | undefined,
    durationS: opts.duration as number | undefined,
  };
}

export function addSinkOptions(cmd: Command): Command {
  return cmd
    .option('--hdfs-dir <dir>', 'HDFS root directory (TWEETPIPE_HDFS_DIR; default /twitter_data)')
    .option('--group <id>', 'consumer group (TWEETPIPE_GROUP; default twitter_hdfs_group)')
    .addOption(
      new Option('--format <format>', 'file format (default jsonl.gz)').choices([
        'jsonl',
        'jsonl.gz',
        'parquet',
      ]),
    )
    .option('--max-records <n>', 'rotate a window after this many records', positiveNumber('--max-records'))
    .option('--max-bytes <n>', 'rotate a window after this many bytes', positiveNumber('--max-bytes'))
    .option(
      '--max-age <s>',
      'rotate a window this many seconds after its first record, even with no new record',
      positiveNumber('--max-age'),
    )
    .option('--timezone <tz>', 'IANA time zone of the dt=/hour= partitions (default UTC)')
    .addOption(
      new Option('--granularity <g>', 'time partition granularity (default hour)').choices([
        'day',
        'hour',
        'minute',
      ]),
    )
    .option('--partition-fields <list>', 'extra partition columns from the tweet, e.g. lang')
    .option(
      '--workers <n>',
      'sink threads, each a consumer group member with its own partitions (default 1)',
      positiveInt('--workers'),
    );
}

/** `--metrics-port` of produce and sink, which serve the operator endpoints only when it is given. */
export function addMetricsPortOption(cmd: Command): Command {
  return cmd.option(
    '--metrics-port <port>',
    'serve /metrics, /healthz, /readyz and the dashboard on this port (off unless given; 0 picks a free one)',
    positiveInt('--metrics-port'),
  );
}
