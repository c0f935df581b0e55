/** The WebHDFS Storage for the configured cluster (one NameNode URL, or several for an HA pair), and its output root. */
import type { Config } from '../config.ts';
import type { Storage } from '../hdfs/storage.ts';
import { WebHdfsClient } from '../hdfs/webhdfs.ts';
import { WebHdfsStorage } from '../hdfs/webhdfs-storage.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { retryForever } from '../retry/retry-forever.ts';
import { checkOutputWritable, outputPermissionError } from '../sink/output-check.ts';

export function hdfsStorage(config: Config, log: Logger): { storage: WebHdfsStorage; client: WebHdfsClient } {
  const client = new WebHdfsClient({
    urls: config.hdfs.webhdfs,
    user: config.hdfs.user,
    timeoutMs: config.hdfs.timeoutMs,
    logger: log,
  });
  return { storage: new WebHdfsStorage(client), client };
}

/**
 * Before the first window: creates hdfs.dir when missing, waiting for HDFS to answer (each failed try counted in
 * `metrics` as the sink's, so that a wait longer than health.stallAfterS shows as a stall), then checks that
 * hdfs.user may write there. A permission refusal stops the start with an error naming directory, user and mode.
 */
export async function ensureOutputDir(
  storage: Storage,
  config: Config,
  log: Logger,
  metrics: Metrics,
): Promise<void> {
  const { dir, user } = config.hdfs;
  await retryForever(() => storage.mkdirs(dir), {
    what: `creating ${dir} in HDFS`,
    log,
    onError: (err) => metrics.errors.inc({ stage: 'sink', code: err.code }),
  }).catch((err: unknown) => {
    throw outputPermissionError(dir, user, err) ?? err;
  });
  await checkOutputWritable(storage, dir, user, log);
}
