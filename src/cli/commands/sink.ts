/** `tweetpipe sink`: Kafka into HDFS, exactly once. */
import { type Command, Option } from 'commander';
import { Metrics } from '../../observe/metrics.ts';
import { startProgress } from '../../observe/progress.ts';
import { hdfsStorage } from '../../pipeline/hdfs-storage.ts';
import { runSinkLoop } from '../../pipeline/sink-loop.ts';
import {
  addConfigOption,
  addHdfsOptions,
  addKafkaOptions,
  configFromFlags,
  loggerFor,
  shutdownSignal,
} from '../common.ts';
import { positiveNumber } from '../parse.ts';

export function registerSink(program: Command): void {
  addHdfsOptions(addKafkaOptions(addConfigOption(program.command('sink'))))
    .description(
      'consume the topic and write it to HDFS as partitioned files, exactly once (offsets follow HDFS)',
    )
    .option('--topic <name>', 'Kafka topic (TWEETPIPE_TOPIC; default twitter_data)')
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
      '--exit-when-idle <s>',
      'commit everything and exit 0 once no record arrived for S seconds',
      positiveNumber('--exit-when-idle'),
    )
    .action(async (opts) => {
      const config = configFromFlags(opts, {
        group: 'sink.group',
        format: 'sink.format',
        maxRecords: 'sink.maxRecords',
        maxBytes: 'sink.maxBytes',
        maxAge: 'sink.maxAgeS',
        timezone: 'sink.timezone',
        granularity: 'sink.granularity',
        partitionFields: 'sink.partitionFields',
      });
      const log = loggerFor(config);
      const signal = shutdownSignal(log);
      const metrics = new Metrics();
      const { storage, client } = hdfsStorage(config, log);
      const stopProgress = startProgress(
        metrics,
        [
          { label: 'consumed', counter: metrics.consumed, rate: true },
          { label: 'written', counter: metrics.written, rate: true },
          { label: 'files', counter: metrics.filesCommitted },
          { label: 'dlq', counter: metrics.deadLetters },
          { label: 'errors', counter: metrics.errors },
        ],
        log,
      );
      try {
        await runSinkLoop({ config, storage, metrics, log, signal, exitWhenIdleS: opts.exitWhenIdle });
        log.info(
          {
            written: await metrics.total(metrics.written),
            files: await metrics.total(metrics.filesCommitted),
          },
          'sink stopped',
        );
      } finally {
        stopProgress();
        await client.close();
      }
    });
}
