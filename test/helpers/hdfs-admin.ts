/**
 * Hadoop's own admin tool (`hdfs dfsadmin`, the class org.apache.hadoop.hdfs.tools.DFSAdmin) run against the local
 * stack with its cached jars and its conf directory, the way src/stack/hdfs-server.ts runs the NameNode: tests set
 * quotas the way an operator does, not through a side door of tweetpipe's own client.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Config } from '../../src/config.ts';
import { stackPaths } from '../../src/stack/paths.ts';
import { testConfig } from './topics.ts';

const run = promisify(execFile);

export async function dfsadmin(args: string[], config: Config = testConfig()): Promise<string> {
  const paths = stackPaths(config);
  try {
    const { stdout, stderr } = await run(
      'java',
      [
        '-Xmx128m',
        '-cp',
        `${paths.hdfsConf}:${paths.hdfsLib}/*`,
        'org.apache.hadoop.hdfs.tools.DFSAdmin',
        ...args,
      ],
      { timeout: 60_000 },
    );
    return `${stdout}${stderr}`;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `hdfs dfsadmin ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
    );
  }
}
