/** `tweetpipe produce`: a source into Kafka. */
import type { Command } from 'commander';
import { Metrics } from '../../observe/metrics.ts';
import { startProgress } from '../../observe/progress.ts';
import { startOperatorEndpoint } from '../../pipeline/operator-endpoint.ts';
import { startProducer } from '../../pipeline/producer-service.ts';
import type { Source } from '../../sources/source.ts';
import type { DeadLetter, TweetRecord } from '../../types.ts';
import { addConfigOption, addKafkaOptions, configFromFlags, loggerFor, shutdownSignal } from '../common.ts';
import {
  addMetricsPortOption,
  addSourceOptions,
  addTopicOption,
  SOURCE_FLAG_KEYS,
  sourceArgs,
} from '../pipeline-options.ts';

export function registerProduce(program: Command): void {
  addMetricsPortOption(
    addSourceOptions(addTopicOption(addKafkaOptions(addConfigOption(program.command('produce'))))),
  )
    .description(
      'collect tweets from a source and publish them to Kafka (each once; the cursor moves after Kafka acks)',
    )
    .action(async (opts) => {
      const config = configFromFlags(opts, { ...SOURCE_FLAG_KEYS, metricsPort: 'metrics.port' });
      const log = loggerFor(config);
      const signal = shutdownSignal(log);
      const metrics = new Metrics();
      let source: Source | undefined;
      const endpoint = await startOperatorEndpoint({
        config,
        metrics,
        log,
        stages: ['source', 'produce'],
        sourceState: () => source?.state() ?? { state: 'connecting', reconnects: 0 },
        serve: opts.metricsPort !== undefined,
      });
      if (endpoint.url)
        log.info({ url: endpoint.url }, `metrics and readiness at ${endpoint.url}/metrics, /readyz`);
      // The live view parses a sample of the records (up to 2,000 a second) for the dashboard: only when served.
      const onProduced = endpoint.url
        ? (tweets: TweetRecord[], letters: DeadLetter[]) => {
            endpoint.live.onTweets(tweets.map((t) => t.value));
            for (const l of letters) endpoint.live.onDeadLetter('source', l.reason);
          }
        : undefined;
      const run = await startProducer(config, sourceArgs(opts), metrics, log, signal, onProduced).catch(
        async (err: unknown) => {
          await endpoint.close();
          throw err;
        },
      );
      source = run.source;
      const stopProgress = startProgress(
        metrics,
        ['produced', 'duplicates', 'dlq', 'reconnects', 'errors'],
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
        await endpoint.close();
      }
    });
}
