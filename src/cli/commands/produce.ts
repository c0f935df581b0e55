/** `tweetpipe produce`: a source into Kafka. */
import type { Command } from 'commander';
import { Metrics } from '../../observe/metrics.ts';
import { startProgress } from '../../observe/progress.ts';
import { startProducer } from '../../pipeline/producer-service.ts';
import { addConfigOption, addKafkaOptions, configFromFlags, loggerFor, shutdownSignal } from '../common.ts';
import { addSourceOptions, addTopicOption, SOURCE_FLAG_KEYS, sourceArgs } from '../pipeline-options.ts';

export function registerProduce(program: Command): void {
  addSourceOptions(addTopicOption(addKafkaOptions(addConfigOption(program.command('produce')))))
    .description(
      'collect tweets from a source and publish them to Kafka (each once; the cursor moves after Kafka acks)',
    )
    .action(async (opts) => {
      const config = configFromFlags(opts, SOURCE_FLAG_KEYS);
      const log = loggerFor(config);
      const signal = shutdownSignal(log);
      const metrics = new Metrics();
      const run = await startProducer(config, sourceArgs(opts), metrics, log, signal);
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
