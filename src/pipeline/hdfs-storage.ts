/** The WebHDFS Storage for the configured cluster (one NameNode URL, or several for an HA pair). */
import type { Config } from '../config.ts';
import { WebHdfsClient } from '../hdfs/webhdfs.ts';
import { WebHdfsStorage } from '../hdfs/webhdfs-storage.ts';
import type { Logger } from '../log.ts';

export function hdfsStorage(config: Config, log: Logger): { storage: WebHdfsStorage; client: WebHdfsClient } {
  const client = new WebHdfsClient({
    urls: config.hdfs.webhdfs,
    user: config.hdfs.user,
    timeoutMs: config.hdfs.timeoutMs,
    logger: log,
  });
  return { storage: new WebHdfsStorage(client), client };
}
