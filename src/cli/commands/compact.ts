/** `tweetpipe compact` and `tweetpipe compliance apply`: rewrites of committed files, safe beside running sinks. */
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { compact } from '../../compact/compact.ts';
import { applyDeletions, parseIdList, storedIds } from '../../compact/compliance.ts';
import { runXComplianceJob } from '../../compact/x-compliance-job.ts';
import { parseDurationMs, parseSizeBytes } from '../../config/units.ts';
import type { Config } from '../../config.ts';
import { TweetpipeError } from '../../errors.ts';
import type { Storage } from '../../hdfs/storage.ts';
import { configuredPartitionLocations } from '../../hive/partition-locations.ts';
import type { Logger } from '../../log.ts';
import { hdfsStorage } from '../../pipeline/hdfs-storage.ts';
import { addConfigOption, addHdfsOptions, configFromFlags, loggerFor } from '../common.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);
const FORMATS = ['jsonl', 'jsonl.gz', 'parquet'];

function addRootOption(cmd: Command): Command {
  return cmd.option(
    '--hdfs-dir <dir>',
    'HDFS root directory the sink writes (TWEETPIPE_HDFS_DIR; default /twitter_data)',
  );
}

async function idsFromFile(path: string): Promise<Set<string>> {
  const text = await readFile(path, 'utf8').catch((err: unknown) => {
    throw new TweetpipeError('USAGE', `--ids ${path}: cannot read the file (${(err as Error).message})`);
  });
  return parseIdList(text, `--ids ${path}`);
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The ids X reports deleted among those stored in the dt= folders of --since..--until. */
async function idsFromX(
  opts: Record<string, unknown>,
  config: Config,
  storage: Storage,
  log: Logger,
): Promise<Set<string>> {
  const since = opts.since as string | undefined;
  const until = (opts.until as string | undefined) ?? since;
  if (!since || !DATE.test(since) || !until || !DATE.test(until))
    throw new TweetpipeError(
      'USAGE',
      '--from-x needs --since YYYY-MM-DD (and optionally --until YYYY-MM-DD)',
    );
  if (!config.x.bearerToken)
    throw new TweetpipeError('CONFIG_INVALID', '--from-x needs x.bearerToken (X_BEARER_TOKEN)');
  const stored = await storedIds(storage, config.hdfs.dir, since, until);
  say(`${stored.size} ids stored in dt=${since}..${until}: asking X which are deleted`);
  if (stored.size === 0) return stored;
  return runXComplianceJob({
    apiUrl: config.x.apiUrl,
    bearerToken: config.x.bearerToken,
    ids: stored,
    logger: log,
  });
}

const READER_GRACE_HELP =
  'with sink.hive: wait this long after each move of catalog readers, for queries planned before it (default: compact.readerGrace, 30s)';

/** --reader-grace, else compact.readerGrace, in ms. */
const readerGraceMs = (opts: { readerGrace?: string }, config: Config): number =>
  opts.readerGrace === undefined
    ? parseDurationMs('compact.readerGrace', config.compact.readerGrace)
    : parseDurationMs('--reader-grace', opts.readerGrace);

export function registerCompact(program: Command): void {
  addRootOption(addHdfsOptions(addConfigOption(program.command('compact'))))
    .description(
      'merge the committed files of idle partition folders into files near the target size, safely while sinks write (docs/compaction.md)',
    )
    .option('--older-than <duration>', 'only folders with no write for this long (s, m, h, d)', '2h')
    .option('--target-size <size>', 'size of the merged files (KB, MB, GB)', '256MB')
    .addOption(
      new Option('--format <format>', 'compact only files of this format (default: all)').choices(FORMATS),
    )
    .option('--reader-grace <duration>', READER_GRACE_HELP)
    .action(async (opts) => {
      const olderThanMs = parseDurationMs('--older-than', opts.olderThan);
      const targetBytes = parseSizeBytes('--target-size', opts.targetSize);
      const config = configFromFlags(opts);
      const log = loggerFor(config);
      const { storage, client } = hdfsStorage(config, log);
      try {
        const r = await compact({
          storage,
          root: config.hdfs.dir,
          olderThanMs,
          targetBytes,
          formats: opts.format ? [opts.format as string] : undefined,
          catalog: configuredPartitionLocations(config),
          readerGraceMs: readerGraceMs(opts, config),
          logger: log,
        });
        say(
          `${config.hdfs.dir}: ${r.filesBefore} files merged into ${r.filesAfter} in ${r.folders} folders (${r.records} records, ${r.recovered} interrupted jobs finished) in ${(r.tookMs / 1000).toFixed(1)} s; longest double visibility ${r.maxDoubleVisibleMs.toFixed(0)} ms`,
        );
      } finally {
        await client.close();
      }
    });

  const compliance = program
    .command('compliance')
    .description('X compliance: remove deleted posts from what is stored');
  addRootOption(addHdfsOptions(addConfigOption(compliance.command('apply'))))
    .description(
      'rewrite every committed file holding one of the ids without it (each file old or new after a crash); log under <dir>/_compliance/',
    )
    .option('--ids <file>', 'ids to delete: one per line, bare or as X compliance result lines ({"id": ...})')
    .option(
      '--from-x',
      'ask X instead: a batch compliance job for the ids stored in --since..--until (x.apiUrl, X_BEARER_TOKEN)',
    )
    .option('--since <date>', 'with --from-x: first dt= folder to check (YYYY-MM-DD)')
    .option('--until <date>', 'with --from-x: last dt= folder to check (YYYY-MM-DD, default: --since)')
    .option('--reader-grace <duration>', READER_GRACE_HELP)
    .action(async (opts) => {
      if (Boolean(opts.ids) === Boolean(opts.fromX))
        throw new TweetpipeError('USAGE', 'compliance apply needs exactly one of --ids FILE and --from-x');
      const config = configFromFlags(opts);
      const log = loggerFor(config);
      const { storage, client } = hdfsStorage(config, log);
      try {
        const ids = opts.fromX
          ? await idsFromX(opts, config, storage, log)
          : await idsFromFile(opts.ids as string);
        const r = await applyDeletions({
          storage,
          root: config.hdfs.dir,
          ids,
          catalog: configuredPartitionLocations(config),
          readerGraceMs: readerGraceMs(opts, config),
          logger: log,
        });
        say(
          `${config.hdfs.dir}: ${ids.size} ids, ${r.scannedFiles} files scanned, ${r.rewrittenFiles} rewritten, ${r.removedRecords} records removed${r.deferred.length ? `, ${r.deferred.length} files deferred (named by the sink's newest manifests: run again later)` : ''}`,
        );
        if (r.deferred.length > 0) process.exitCode = 3;
      } finally {
        await client.close();
      }
    });
}
