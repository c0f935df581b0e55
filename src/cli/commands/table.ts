/** `tweetpipe table ddl | sync`: the output as a table, for Hive, Spark, Trino and DuckDB. */
import { type Command, Option } from 'commander';
import { withMetastore } from '../../hive/metastore-client.ts';
import { addPartitions, ensureTable, partitionDirs } from '../../hive/partition-sync.ts';
import { hdfsStorage } from '../../pipeline/hdfs-storage.ts';
import type { FormatName } from '../../sink/formats/format.ts';
import { ENGINES, type Engine, tableDdl } from '../../table/ddl.ts';
import { tableSpec } from '../../table/table-schema.ts';
import { addConfigOption, addHdfsOptions, configFromFlags, loggerFor } from '../common.ts';
import { addTopicOption } from '../pipeline-options.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

export function registerTable(program: Command): void {
  const table = program
    .command('table')
    .description('the sink output as a table: DDL for each engine, partitions in a Hive Metastore');

  addTopicOption(addConfigOption(table.command('ddl')))
    .description(
      'print the statements that create the table over the output (location: hdfs.uri + hdfs.dir/topic)',
    )
    .addOption(
      new Option('--engine <engine>', 'the engine that runs the DDL').choices(ENGINES).makeOptionMandatory(),
    )
    .addOption(
      new Option('--format <format>', 'the output format (default: sink.format)').choices([
        'jsonl',
        'jsonl.gz',
        'parquet',
      ]),
    )
    .option(
      '--location <uri>',
      'read the files from here instead (DuckDB cannot read hdfs://: webhdfs:// through fsspec, or a local or s3:// copy)',
    )
    .action((opts) => {
      const config = configFromFlags(opts);
      const spec = tableSpec(config, opts.format as FormatName | undefined);
      process.stdout.write(
        tableDdl(opts.engine as Engine, opts.location ? { ...spec, location: opts.location } : spec),
      );
    });

  addTopicOption(addHdfsOptions(addConfigOption(table.command('sync'))))
    .description(
      'create the table in the Hive Metastore (sink.hive) when missing and add every partition HDFS holds',
    )
    .action(async (opts) => {
      const config = configFromFlags(opts);
      const log = loggerFor(config);
      const spec = tableSpec(config);
      const { storage, client } = hdfsStorage(config, log);
      try {
        const dirs = await partitionDirs(storage, spec);
        const { metastoreUri, timeoutMs } = config.sink.hive;
        const created = await withMetastore(metastoreUri, timeoutMs, async (ms) => {
          const before = new Set(await ms.get_partition_names(spec.database, spec.table, -1).catch(() => []));
          const table = await ensureTable(ms, spec);
          await addPartitions(ms, spec, dirs);
          return { table, added: dirs.filter((d) => !before.has(d)).length };
        });
        say(
          `${spec.database}.${spec.table} (${spec.format}, ${spec.location}): table ${created.table}, ${dirs.length} partitions in HDFS, ${created.added} added`,
        );
      } finally {
        await client.close();
      }
    });
}
