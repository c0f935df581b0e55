/** `tweetpipe run`: the main job. */
import type { Command } from 'commander';
import { TweetpipeError } from '../../errors.ts';
import { Metrics } from '../../observe/metrics.ts';
import { startProgress } from '../../observe/progress.ts';
import { runPipeline } from '../../pipeline/run.ts';
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
import {
  addSinkOptions,
  addSourceOptions,
  addTopicOption,
  SINK_FLAG_KEYS,
  SOURCE_FLAG_KEYS,
  sourceArgs,
} from '../pipeline-options.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function registerRun(program: Command): void {
  const cmd = addStackOptions(addHdfsOptions(addKafkaOptions(addConfigOption(program.command('run')))));
  addSinkOptions(addSourceOptions(addTopicOption(cmd)))
    .description(
      'the whole pipeline: X API (or the built-in emulator without X_BEARER_TOKEN) -> Kafka -> HDFS, with metrics and a live dashboard; brings up the local stack unless an external cluster is configured',
    )
    .option(
      '--emulator-rate <n>',
      'tweets per second from the built-in emulator',
      positiveNumber('--emulator-rate'),
      50,
    )
    .option(
      '--metrics-port <port>',
      'dashboard and /metrics port (default 8787; 0 picks a free one)',
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
    .action(async (opts) => {
      const config = configFromFlags(opts, {
        ...SOURCE_FLAG_KEYS,
        ...SINK_FLAG_KEYS,
        metricsPort: 'metrics.port',
        metricsHost: 'metrics.host',
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
        ['produced', 'written', 'files', 'dlq', 'reconnects', 'errors'],
        log,
      );
      try {
        await runPipeline(
          config,
          {
            source: sourceArgs(opts),
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
