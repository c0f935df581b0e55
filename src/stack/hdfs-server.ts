/** The local HDFS: one NameNode and one DataNode (Hadoop 3.5, Java 17) from the Maven-fetched jars. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import type { Health } from './kafka-server.ts';
import type { StackPaths } from './paths.ts';
import { pidFileFor, type ServerSpec } from './process.ts';

const run = promisify(execFile);
export const NAMENODE_CLASS = 'org.apache.hadoop.hdfs.server.namenode.NameNode';
export const DATANODE_CLASS = 'org.apache.hadoop.hdfs.server.datanode.DataNode';

export const xml = (props: Record<string, string | number | boolean>): string =>
  `<?xml version="1.0"?>\n<!-- Written by tweetpipe stack up. -->\n<configuration>\n${Object.entries(props)
    .map(([k, v]) => `  <property><name>${k}</name><value>${v}</value></property>`)
    .join('\n')}\n</configuration>\n`;

export function hdfsSite(config: Config, paths: StackPaths): Record<string, string | number | boolean> {
  const s = config.stack;
  return {
    'dfs.replication': 1,
    'dfs.namenode.name.dir': `file://${paths.hdfsName}`,
    'dfs.datanode.data.dir': `file://${paths.hdfsData}`,
    'dfs.namenode.rpc-address': `localhost:${s.namenodeRpcPort}`,
    'dfs.namenode.http-address': `localhost:${s.webhdfsPort}`,
    'dfs.namenode.secondary.http-address': 'localhost:0',
    'dfs.datanode.address': `localhost:${s.datanodePort}`,
    'dfs.datanode.http.address': `localhost:${s.datanodeHttpPort}`,
    'dfs.datanode.ipc.address': `localhost:${s.datanodeIpcPort}`,
    // WebHDFS redirects name the DataNode by this host, so they resolve on this machine.
    'dfs.datanode.hostname': 'localhost',
    'dfs.namenode.datanode.registration.ip-hostname-check': false,
    'dfs.webhdfs.enabled': true,
    // Permissions are checked as on a real cluster (a sink without write access must be told so at start); the
    // configured HDFS user is a superuser here (core-site maps it to the supergroup), so it may write anywhere.
    'dfs.permissions.enabled': true,
    // Leave safe mode as soon as the NameNode has loaded its image: there is one DataNode, no replicas to wait for.
    'dfs.namenode.safemode.extension': 0,
    'dfs.namenode.safemode.min.datanodes': 0,
    'dfs.namenode.safemode.threshold-pct': 0,
    // With one DataNode there is no replacement node: APPEND and pipeline recovery must not ask for one.
    'dfs.client.block.write.replace-datanode-on-failure.enable': false,
    'dfs.client.block.write.replace-datanode-on-failure.policy': 'NEVER',
    // WebHDFS uploads run a DFS client inside the DataNode; closing a file waits for the block report with a
    // back-off starting at 400 ms, which made most CREATE/APPEND calls take ~450 ms. Start the back-off low.
    'dfs.client.block.write.locateFollowingBlock.initial.delay.ms': 10,
    'dfs.heartbeat.interval': 1,
    'dfs.namenode.heartbeat.recheck-interval': 10000,
    // Sink files close in seconds; small blocks are not needed, but a fast lease recovery is.
    'dfs.namenode.lease-recheck-interval-ms': 1000,
    'dfs.namenode.fs-limits.min-block-size': 1048576,
    'dfs.namenode.handler.count': 20,
    'dfs.datanode.handler.count': 10,
    'dfs.datanode.max.transfer.threads': 4096,
  };
}

export function coreSite(config: Config, paths: StackPaths): Record<string, string | number | boolean> {
  return {
    'fs.defaultFS': `hdfs://localhost:${config.stack.namenodeRpcPort}`,
    'hadoop.tmp.dir': join(paths.home, 'hdfs', 'tmp'),
    'hadoop.http.staticuser.user': config.hdfs.user,
    // There is no OS account behind the HDFS user: its group (the superuser group) is given here.
    'hadoop.user.group.static.mapping.overrides': `dr.who=;${config.hdfs.user}=supergroup`,
  };
}

export const HDFS_LOG4J = `log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
log4j.logger.org.apache.hadoop.hdfs.StateChange=WARN
log4j.logger.org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit=WARN
log4j.logger.BlockStateChange=WARN
log4j.logger.org.apache.hadoop.hdfs.server.datanode.DataNode.clienttrace=WARN
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
`;

function hdfsServerSpec(config: Config, paths: StackPaths, name: 'namenode' | 'datanode'): ServerSpec {
  return {
    name,
    mainClass: name === 'namenode' ? NAMENODE_CLASS : DATANODE_CLASS,
    // The conf dir comes first so our *-site.xml and log4j.properties win over any bundled in the jars.
    classpath: `${paths.hdfsConf}:${paths.hdfsLib}/*`,
    jvmArgs: [
      '-Xms128m',
      `-Xmx${config.stack.hdfsHeapMb}m`,
      '-Djava.net.preferIPv4Stack=true',
      `-Dhadoop.log.dir=${paths.logs}`,
      `-Dhadoop.home.dir=${paths.home}`,
      '-Dhadoop.security.logger=WARN,console',
    ],
    args: [],
    logFile: join(paths.logs, `${name}.log`),
    pidFile: pidFileFor(paths.run, name),
  };
}

export const namenodeSpec = (config: Config, paths: StackPaths) => hdfsServerSpec(config, paths, 'namenode');
export const datanodeSpec = (config: Config, paths: StackPaths) => hdfsServerSpec(config, paths, 'datanode');

/** Writes the config and formats the NameNode once; existing data is kept. */
export async function prepareHdfs(config: Config, paths: StackPaths): Promise<void> {
  await mkdir(paths.hdfsConf, { recursive: true });
  await mkdir(paths.hdfsData, { recursive: true });
  await writeFile(join(paths.hdfsConf, 'core-site.xml'), xml(coreSite(config, paths)));
  await writeFile(join(paths.hdfsConf, 'hdfs-site.xml'), xml(hdfsSite(config, paths)));
  await writeFile(join(paths.hdfsConf, 'log4j.properties'), HDFS_LOG4J);
  await formatNamenodeOnce(namenodeSpec(config, paths), paths);
}

/** Formats the NameNode of `spec` unless its name directory holds an image already (data is kept). */
export async function formatNamenodeOnce(spec: ServerSpec, paths: StackPaths): Promise<void> {
  if (!existsSync(join(paths.hdfsName, 'current', 'VERSION'))) await formatNamenode(spec);
}

/** `NameNode -format` with the conf already written: a new, empty name directory (and shared edits with HA). */
export async function formatNamenode(spec: ServerSpec): Promise<void> {
  try {
    await run(
      'java',
      [...spec.jvmArgs, '-cp', spec.classpath, NAMENODE_CLASS, '-format', '-nonInteractive', '-force'],
      {
        timeout: 120_000,
      },
    );
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    const tail = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new TweetpipeError('SERVER_DIED', `formatting the NameNode failed:\n${tail}`, { cause: err });
  }
}

async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
  return res.json();
}

/** Healthy = WebHDFS answers LISTSTATUS, a DataNode is live, and the NameNode is out of safe mode. */
export async function hdfsHealth(config: Config): Promise<Health> {
  const base = `http://localhost:${config.stack.webhdfsPort}`;
  try {
    await getJson(
      `${base}/webhdfs/v1/?op=LISTSTATUS&user.name=${encodeURIComponent(config.hdfs.user)}`,
      2000,
    );
    const jmx = (await getJson(`${base}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState`, 2000)) as {
      beans: { NumLiveDataNodes?: number; FSState?: string }[];
    };
    const bean = jmx.beans[0];
    const live = bean?.NumLiveDataNodes ?? 0;
    if (live < 1) return { ok: false, detail: 'WebHDFS answers, but no DataNode is live yet' };
    const safe = (await getJson(`${base}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`, 2000)) as {
      beans: { Safemode?: string }[];
    };
    if (safe.beans[0]?.Safemode) return { ok: false, detail: 'NameNode is in safe mode' };
    return { ok: true, detail: `WebHDFS LISTSTATUS answered, ${live} DataNode live, state ${bean?.FSState}` };
  } catch (err) {
    return { ok: false, detail: `WebHDFS at ${base}: ${(err as Error).message}` };
  }
}

export const namenodePorts = (config: Config): Record<string, number> => ({
  namenodeRpcPort: config.stack.namenodeRpcPort,
  webhdfsPort: config.stack.webhdfsPort,
});
export const datanodePorts = (config: Config): Record<string, number> => ({
  datanodePort: config.stack.datanodePort,
  datanodeHttpPort: config.stack.datanodeHttpPort,
  datanodeIpcPort: config.stack.datanodeIpcPort,
});
