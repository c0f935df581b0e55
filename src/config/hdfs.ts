/** HDFS: where the output goes and how WebHDFS is reached (`hdfs.*`). */
import { z } from 'zod';
import { hdfsPath, int, list, url } from './setting-types.ts';

export const hdfsSettings = z
  .strictObject({
    /** One WebHDFS URL, or several for an HA pair (the active one is found and remembered). */
    webhdfs: list(url()).pipe(z.array(z.string()).min(1)).default(['http://localhost:9870']),
    user: z.string().min(1).default('tweetpipe'),
    dir: hdfsPath.default('/twitter_data'),
    /** The file system URI readers (Spark, Hive, Trino) put before hdfs.dir in table locations. */
    uri: z
      .string()
      .regex(/^[a-z][a-z0-9+.-]*:\/\/[^\s/]+\/?$/, 'expected a file system URI such as hdfs://localhost:9000')
      .default('hdfs://localhost:9000'),
    timeoutMs: int(100).default(60_000),
  })
  .prefault({});
