/**
 * `compact.every`: compaction on a schedule inside `tweetpipe run`. Runs never overlap (the next is scheduled
 * when one ends), and a failure only waits for the next turn: a run killed or failed midway is finished by the
 * next one (src/compact/rewrite-job.ts), and another process compacting the tree holds the lock meanwhile.
 */

import { parseDurationMs, parseSizeBytes } from '../config/units.ts';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import { configuredPartitionLocations } from '../hive/partition-locations.ts';
import type { Logger } from '../log.ts';
import { compact } from './compact.ts';

/** Starts the schedule when compact.every is set; returns a stop function that waits for a run in progress. */
export function startCompactionSchedule(config: Config, storage: Storage, log: Logger): () => Promise<void> {
  const { every, olderThan, targetSize } = config.compact;
  if (every === undefined) return async () => {};
  const everyMs = parseDurationMs('compact.every', every);
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const turn = async () => {
    try {
      await compact({
        storage,
        root: config.hdfs.dir,
        olderThanMs: parseDurationMs('compact.olderThan', olderThan),
        targetBytes: parseSizeBytes('compact.targetSize', targetSize),
        catalog: configuredPartitionLocations(config),
        readerGraceMs: parseDurationMs('compact.readerGrace', config.compact.readerGrace),
        logger: log,
      });
    } catch (err) {
      const busy = err instanceof TweetpipeError && err.code === 'FENCED';
      log.warn(
        { err },
        busy ? 'compaction skipped: another one is running' : 'compaction failed; retried next time',
      );
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = turn().finally(schedule);
    }, everyMs);
  };
  schedule();
  log.info({ every, olderThan, targetSize }, 'compaction scheduled');
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
