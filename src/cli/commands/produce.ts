/** `tweetpipe produce`: a source into Kafka. */
import { type Command, Option } from 'commander';
import { Metrics } from '../../observe/metrics.ts';
import { startProgress } from '../../observe/progress.ts';
import { startProducer } from '../../pipeline/producer-service.ts';
import { SOURCE_KINDS, type SourceKind } from '../../sources/factory.ts';
import { addConfigOption, addKafkaOptions, configFromFlags, loggerFor, shutdownSignal } from '../common.ts';
import { positiveInt, positiveNumber } from '../parse.ts';

export function registerProduce(program: Command): void {
  addKafkaOptions(addConfigOption(program.command('produce')))
    .description(
      'collect tweets from a source and publish them to Kafka (each once; the cursor moves after Kafka acks)',
    )
    .addOption(
      new Option('--source <kind>', 'where tweets come from').choices(SOURCE_KINDS).default('x-stream'),
    )
    .option('--topic <name>', 'Kafka topic (TWEETPIPE_TOPIC)', undefined)
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
    .option('--file <path...>', 'replay: NDJSON file(s) of v2 payloads')
    .addOption(
      new Option('--pace <pace>', 'replay: original timing or as fast as possible')
        .choices(['original', 'max'])
        .default('max'),
    )
    .option('--state-dir <dir>', 'where the source cursor is kept (TWEETPIPE_PRODUCER_STATE_DIR)')
    .action(async (opts) => {
      const config = configFromFlags(opts, {
        partitions: 'topic.partitions',
        retentionMs: 'topic.retentionMs',
        xApiUrl: 'x.apiUrl',
        query: 'x.query',
        stateDir: 'producer.stateDir',
      });
      const log = loggerFor(config);
      const signal = shutdownSignal(log);
      const metrics = new Metrics();
      const run = await startProducer(
        config,
        {
          kind: opts.source as SourceKind,
          rate: opts.rate,
          seed: opts.seed,
          maxTweets: opts.maxTweets,
          files: opts.file,
          pace: opts.pace,
          durationS: opts.duration,
        },
        metrics,
        log,
        signal,
      );
      const stopProgress = startProgress(
        metrics,
        [
          { label: 'produced', counter: metrics.produced, rate: true },
          { label: 'duplicates', counter: metrics.duplicates },
          { label: 'dlq', counter: metrics.deadLetters },
          { label: 'reconnects', counter: metrics.reconnects },
          { label: 'errors', counter: metrics.errors },
        ],
        log,
        { extra: () => run.source.state().state },
      );
      try {
        const summary = await run.done;
        log.info(
          { summary, topic: config.topic.name },
          `produced ${summary.produced} tweets in ${summary.seconds.toFixed(1)} s`,
        );
      } finally {
        stopProgress();
      }
    });
}
