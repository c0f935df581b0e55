/**
 * The local Hive Metastore of `stack up --hive`: the standalone metastore 3.1.3 from Maven Central (what Spark's
 * built-in Hive client and most clusters speak), Derby embedded, the warehouse on the local HDFS, Thrift on
 * stack.metastorePort. The Derby schema scripts exist only in the metastore's bin tarball, which the pom fetches
 * beside the jars; they are unpacked once and the schema initialised once (MetastoreSchemaTool).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import { withMetastore } from '../hive/metastore-client.ts';
import type { Health } from './kafka-server.ts';
import type { StackPaths } from './paths.ts';
import { pidFileFor, type ServerSpec } from './process.ts';

const run = promisify(execFile);
export const METASTORE_CLASS = 'org.apache.hadoop.hive.metastore.HiveMetaStore';
const SCHEMA_TOOL_CLASS = 'org.apache.hadoop.hive.metastore.tools.MetastoreSchemaTool';
const BIN_TARBALL = 'hive-standalone-metastore-3.1.3-bin.tar.gz';

const derbyDir = (paths: StackPaths) => join(paths.hiveHome, 'metastore_db');
const confDir = (paths: StackPaths) => join(paths.hiveHome, 'conf');

function metastoreSite(config: Config, paths: StackPaths): string {
  const props: Record<string, string | number> = {
    'javax.jdo.option.ConnectionURL': `jdbc:derby:;databaseName=${derbyDir(paths)};create=true`,
    'javax.jdo.option.ConnectionDriverName': 'org.apache.derby.jdbc.EmbeddedDriver',
    'metastore.thrift.port': config.stack.metastorePort,
    'metastore.warehouse.dir': `hdfs://localhost:${config.stack.namenodeRpcPort}/warehouse`,
    // What the bin tarball's own metastore-site.xml sets: the defaults name classes of full Hive, not in these jars.
    'metastore.expression.proxy': 'org.apache.hadoop.hive.metastore.DefaultPartitionExpressionProxy',
    'metastore.task.threads.always': 'org.apache.hadoop.hive.metastore.events.EventCleanerTask',
    'metastore.event.db.notification.api.auth': 'false',
  };
  return `<?xml version="1.0"?>\n<!-- Written by tweetpipe stack up (hive). -->\n<configuration>\n${Object.entries(
    props,
  )
    .map(([k, v]) => `  <property><name>${k}</name><value>${v}</value></property>`)
    .join('\n')}\n</configuration>\n`;
}

export function metastoreSpec(config: Config, paths: StackPaths): ServerSpec {
  return {
    name: 'metastore',
    mainClass: METASTORE_CLASS,
    // The conf dir first: metastore-site.xml is found on the classpath.
    classpath: `${confDir(paths)}:${paths.hiveLib}/*`,
    jvmArgs: [
      '-Xms64m',
      `-Xmx${config.stack.metastoreHeapMb}m`,
      '-Djava.net.preferIPv4Stack=true',
      `-Dderby.stream.error.file=${join(paths.logs, 'derby.log')}`,
    ],
    args: [],
    logFile: join(paths.logs, 'metastore.log'),
    pidFile: pidFileFor(paths.run, 'metastore'),
  };
}

/** Writes the config, unpacks the Derby scripts and creates the schema once; existing metadata is kept. */
export async function prepareMetastore(config: Config, paths: StackPaths): Promise<void> {
  await mkdir(confDir(paths), { recursive: true });
  await writeFile(join(confDir(paths), 'metastore-site.xml'), metastoreSite(config, paths));
  if (existsSync(join(derbyDir(paths), 'service.properties'))) return;
  const spec = metastoreSpec(config, paths);
  try {
    await run(
      'tar',
      [
        'xzf',
        join(paths.hiveLib, BIN_TARBALL),
        '-C',
        paths.hiveHome,
        '--strip-components=1',
        'apache-hive-metastore-3.1.3-bin/scripts/metastore/upgrade/derby',
      ],
      { timeout: 60_000 },
    );
    await run(
      'java',
      [...spec.jvmArgs, '-cp', spec.classpath, SCHEMA_TOOL_CLASS, '-initSchema', '-dbType', 'derby'],
      { timeout: 180_000, env: { ...process.env, METASTORE_HOME: paths.hiveHome } },
    );
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    const tail = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new TweetpipeError('SERVER_DIED', `creating the metastore schema failed:\n${tail}`, { cause: err });
  }
}

/** Healthy = the metastore answers get_all_databases over Thrift. */
export async function metastoreHealth(config: Config): Promise<Health> {
  const uri = `thrift://localhost:${config.stack.metastorePort}`;
  try {
    const dbs = await withMetastore(uri, 2000, (c) => c.get_all_databases());
    return { ok: true, detail: `${uri} answered get_all_databases (${dbs.length} databases)` };
  } catch (err) {
    return { ok: false, detail: `${uri}: ${(err as Error).message}` };
  }
}

export const metastorePorts = (config: Config): Record<string, number> => ({
  metastorePort: config.stack.metastorePort,
});
