/** The WebHDFS Storage for the configured cluster (one NameNode URL, or several for an HA pair), and its output root. */
import type { Config } from '../config.ts';
import type { Storage } from '../hdfs/storage.ts';
import { WebHdfsClient } from '../hdfs/webhdfs.ts';
import { WebHdfsStorage } from '../hdfs/webhdfs-storage.ts';
import type { Logger } from '../log.ts';
import { retryForever } from './retry.ts';

export function hdfsStorage(config: Config, log: Logger): { storage: WebHdfsStorage; client: WebHdfsClient } {
  const client = new WebHdfsClient({
    urls: config.hdfs.webhdfs,
    user: config.hdfs.user,
    timeoutMs: config.hdfs.timeoutMs,
    logger: log,
  });
  return { storage: new WebHdfsStorage(client), client };
}

/** Creates hdfs.dir when missing, waiting for HDFS to answer; a refusal (permission) is thrown to the caller. */
export async function ensureOutputDir(storage: Storage, config: Config, log: Logger): Promise<void> {
  await retryForever(() => storage.mkdirs(config.hdfs.dir), {
    what: `creating ${config.hdfs.dir} in HDFS`,
    log,
  });
}
