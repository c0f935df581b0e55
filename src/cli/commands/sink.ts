/** `tweetpipe sink`: Kafka into HDFS, exactly once. */
import type { Command } from 'commander';
import { PartitionRegistrar } from '../../hive/partition-registrar.ts';
import { Metrics } from '../../observe/metrics.ts';
import { startProgress } from '../../observe/progress.ts';
import { ensureOutputDir, hdfsStorage } from '../../pipeline/hdfs-storage.ts';
import { startOperatorEndpoint } from '../../pipeline/operator-endpoint.ts';
import { runSink } from '../../pipeline/sink-threads.ts';
import { ensureDeadLetterTopic } from '../../pipeline/topics.ts';
import {
  addConfigOption,
  addHdfsOptions,
  addKafkaOptions,
  configFromFlags,
  loggerFor,
  shutdownSignal,
} from '../common.ts';
import { positiveNumber } from '../parse.ts';
import { addMetricsPortOption, addSinkOptions, addTopicOption, SINK_FLAG_KEYS } from '../pipeline-options.ts';

export function registerSink(program: Command): void {
  addMetricsPortOption(
    addSinkOptions(addTopicOption(addHdfsOptions(addKafkaOptions(addConfigOption(program.command('sink')))))),
  )
    .description(
      'consume the topic and write it to HDFS as partitioned files, exactly once (offsets follow HDFS)',
    )
    .option(
      '--exit-when-idle <s>',
      'commit everything and exit 0 once no record arrived for S seconds',
      positiveNumber('--exit-when-idle'),
    )
    .action(async (opts) => {
      const config = configFromFlags(opts, { ...SINK_FLAG_KEYS, metricsPort: 'metrics.port' });
      const log = loggerFor(config);
      const signal = shutdownSignal(log);
      const metrics = new Metrics();
      // A topic created by hand has no dead-letter topic: make it now (or fail now, naming the permission),
      // not at the first malformed record.
      await ensureDeadLetterTopic(config, log);
      const { storage, client } = hdfsStorage(config, log, metrics);
      await ensureOutputDir(storage, config, log, metrics);
      const endpoint = await startOperatorEndpoint({
        config,
        metrics,
        log,
        stages: ['sink'],
        storage,
        serve: opts.metricsPort !== undefined,
      });
      if (endpoint.url)
        log.info({ url: endpoint.url }, `metrics and readiness at ${endpoint.url}/metrics, /readyz`);
      const stopProgress = startProgress(metrics, ['consumed', 'written', 'files', 'dlq', 'errors'], log);
      const registrar = config.sink.hive.enabled ? new PartitionRegistrar(config, storage, log) : null;
      try {
        await runSink({
          config,
          storage,
          metrics,
          log,
          signal,
          exitWhenIdleS: opts.exitWhenIdle,
          ...(registrar ? { observer: { onCommit: (f) => registrar.onCommit(f.path) } } : {}),
        });
        log.info(
          {
            written: await metrics.total(metrics.written),
            files: await metrics.total(metrics.filesCommitted),
          },
          'sink stopped',
        );
      } finally {
        await registrar?.stop();
        stopProgress();
        await endpoint.close();
        await client.close();
      }
    });
}
