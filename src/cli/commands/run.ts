/** `tweetpipe run`: the main job. */
import { type Command, Option } from 'commander';
import { TweetpipeError } from '../../errors.ts';
import { Metrics } from '../../observe/metrics.ts';
import { startProgress } from '../../observe/progress.ts';
import { runPipeline } from '../../pipeline/run.ts';
import { SOURCE_KINDS, type SourceKind } from '../../sources/factory.ts';
import {
  addConfigOption,
  addHdfsOptions,
  addKafkaOptions,
  addStackOptions,
  configFromFlags,
  loggerFor,
  shutdownSignal,
} from '../common.ts';
import { positiveInt, positiveNumber } from '../parse.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function registerRun(program: Command): void {
  addStackOptions(addHdfsOptions(addKafkaOptions(addConfigOption(program.command('run')))))
    .description(
      'the whole pipeline: X API (or the built-in emulator without X_BEARER_TOKEN) -> Kafka -> HDFS, with metrics and a live dashboard; brings up the local stack unless an external cluster is configured',
    )
    .addOption(
      new Option('--source <kind>', 'where tweets come from').choices(SOURCE_KINDS).default('x-stream'),
    )
    .option('--topic <name>', 'Kafka topic (default twitter_data)')
    .option('--partitions <n>', 'partitions when the topic is created', positiveInt('--partitions'))
    .option('--hdfs-dir <dir>', 'HDFS root directory (default /twitter_data)')
    .option('--group <id>', 'sink consumer group (default twitter_hdfs_group)')
    .addOption(
      new Option('--format <format>', 'file format (default jsonl.gz)').choices([
        'jsonl',
        'jsonl.gz',
        'parquet',
      ]),
    )
    .option('--max-age <s>', 'commit files at least this often (seconds)', positiveNumber('--max-age'))
    .option('--x-api-url <url>', 'X API base URL (X_API_BASE_URL)')
    .option(
      '--emulator-rate <n>',
      'tweets per second from the built-in emulator',
      positiveNumber('--emulator-rate'),
      50,
    )
    .option('--rate <n>', 'synthetic source: tweets per second', positiveNumber('--rate'))
    .option('--seed <n>', 'synthetic source: random seed', positiveInt('--seed'), 1)
    .option('--max-tweets <n>', 'stop after this many tweets', positiveInt('--max-tweets'))
    .option('--duration <s>', 'stop after this many seconds', positiveNumber('--duration'))
    .option(
      '--metrics-port <port>',
      'dashboard and /metrics port (default 8787)',
      positiveInt('--metrics-port'),
    )
    .option(
      '--metrics-host <host>',
      'address to serve the dashboard on (default 127.0.0.1; another needs --expose-metrics)',
    )
    .option(
      '--expose-metrics',
      'allow --metrics-host to be a non-loopback address (the dashboard has no authentication)',
    )
    .option('--state-dir <dir>', 'where the source cursor is kept')
    .action(async (opts) => {
      const config = configFromFlags(opts, {
        partitions: 'topic.partitions',
        group: 'sink.group',
        format: 'sink.format',
        maxAge: 'sink.maxAgeS',
        xApiUrl: 'x.apiUrl',
        metricsPort: 'metrics.port',
        metricsHost: 'metrics.host',
        stateDir: 'producer.stateDir',
      });
      if (!LOOPBACK.has(config.metrics.host) && !opts.exposeMetrics)
        throw new TweetpipeError(
          'CONFIG_INVALID',
          `metrics.host "${config.metrics.host}" is not a loopback address: add --expose-metrics to serve the dashboard (no authentication) on it`,
        );
      const log = loggerFor(config);
      const signal = shutdownSignal(log);
      const metrics = new Metrics();
      const stopProgress = startProgress(
        metrics,
        [
          { label: 'produced', counter: metrics.produced, rate: true },
          { label: 'written', counter: metrics.written, rate: true },
          { label: 'files', counter: metrics.filesCommitted },
          { label: 'dlq', counter: metrics.deadLetters },
          { label: 'reconnects', counter: metrics.reconnects },
          { label: 'errors', counter: metrics.errors },
        ],
        log,
      );
      try {
        await runPipeline(
          config,
          {
            source: {
              kind: opts.source as SourceKind,
              rate: opts.rate,
              seed: opts.seed,
              maxTweets: opts.maxTweets,
              durationS: opts.duration,
            },
            emulatorRate: opts.emulatorRate,
            say: (line) => process.stdout.write(`${line}\n`),
          },
          metrics,
          log,
          signal,
        );
      } finally {
        stopProgress();
      }
    });
}
