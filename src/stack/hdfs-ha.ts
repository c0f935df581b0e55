/**
 * `tweetpipe stack up --ha`: HDFS as an HA pair, so StandbyException and failover are exercised for real.
 *
 * - Two NameNodes of one nameservice (`tweetpipe`): nn1 on stack.namenodeRpcPort / webhdfsPort, nn2 on
 *   stack.standbyNamenodeRpcPort / standbyWebhdfsPort. Their shared edits live in a local directory
 *   (`dfs.namenode.shared.edits.dir=file://...`): the one-machine twin of a JournalNode quorum, enough for the
 *   standby to tail the active's edits and take over after a failover.
 * - Failover is manual (no ZooKeeper): both NameNodes start as standby, `stack up` makes nn1 active, and
 *   `tweetpipe stack failover` runs Hadoop's own `hdfs haadmin -failover` (DFSHAAdmin, from the stack's jars).
 *   Its fencing is `shell(/bin/true)`: on one machine a NameNode killed with -9 is fenced already.
 * - The DataNode registers with both NameNodes (it reads the nameservice from hdfs-site.xml).
 * - An HttpFS gateway on stack.httpfsPort, itself an HA-aware HDFS client of the nameservice.
 *
 * nn1 and the DataNode run with the same spec as in the single-NameNode stack (namenode / datanode); nn1 learns
 * its id from the shared conf (`dfs.ha.namenode.id=nn1`), nn2 from a conf directory of its own.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import {
  coreSite,
  formatNamenodeOnce,
  HDFS_LOG4J,
  hdfsHealth,
  hdfsSite,
  namenodeSpec,
  xml,
} from './hdfs-server.ts';
import type { Health } from './kafka-server.ts';
import type { StackPaths } from './paths.ts';
import { pidFileFor, type ServerSpec } from './process.ts';

const run = promisify(execFile);

export const NAMESERVICE = 'tweetpipe';
export const NAMENODE_IDS = ['nn1', 'nn2'] as const;
export type NamenodeId = (typeof NAMENODE_IDS)[number];
const HTTPFS_CLASS = 'org.apache.hadoop.fs.http.server.HttpFSServerWebServer';
const HAADMIN_CLASS = 'org.apache.hadoop.hdfs.tools.DFSHAAdmin';

export interface HaPaths {
  /** nn2's conf directory (nn1, the DataNode and the tools use the stack's hdfs conf). */
  standbyConf: string;
  standbyName: string;
  sharedEdits: string;
  httpfsConf: string;
  httpfsTemp: string;
}

export function haPaths(paths: StackPaths): HaPaths {
  return {
    standbyConf: join(paths.home, 'hdfs', 'conf-nn2'),
    standbyName: join(paths.home, 'hdfs', 'name-nn2'),
    sharedEdits: join(paths.home, 'hdfs', 'shared-edits'),
    httpfsConf: join(paths.home, 'httpfs', 'conf'),
    httpfsTemp: join(paths.home, 'httpfs', 'temp'),
  };
}

/** Each NameNode's rpc and WebHDFS ports. */
export function namenodeAddresses(config: Config): Record<NamenodeId, { rpc: number; http: number }> {
  const s = config.stack;
  return {
    nn1: { rpc: s.namenodeRpcPort, http: s.webhdfsPort },
    nn2: { rpc: s.standbyNamenodeRpcPort, http: s.standbyWebhdfsPort },
  };
}

/** The WebHDFS URLs of the pair, nn1 first: what `hdfs.webhdfs` lists for this stack. */
export const haWebhdfsUrls = (config: Config): string[] =>
  NAMENODE_IDS.map((id) => `http://localhost:${namenodeAddresses(config)[id].http}`);

export const httpfsUrl = (config: Config): string => `http://localhost:${config.stack.httpfsPort}`;

function haHdfsSite(
  config: Config,
  paths: StackPaths,
  id: NamenodeId,
): Record<string, string | number | boolean> {
  const {
    'dfs.namenode.rpc-address': _rpc,
    'dfs.namenode.http-address': _http,
    ...site
  } = hdfsSite(config, paths);
  const ha = haPaths(paths);
  const addresses = namenodeAddresses(config);
  return {
    ...site,
    'dfs.namenode.name.dir': `file://${id === 'nn1' ? paths.hdfsName : ha.standbyName}`,
    'dfs.nameservices': NAMESERVICE,
    'dfs.ha.namenodes.tweetpipe': NAMENODE_IDS.join(','),
    // Both NameNodes listen on localhost, so neither can tell its id from its address: it is written down.
    'dfs.ha.namenode.id': id,
    ...Object.fromEntries(
      NAMENODE_IDS.flatMap((nn) => [
        [`dfs.namenode.rpc-address.${NAMESERVICE}.${nn}`, `localhost:${addresses[nn].rpc}`],
        [`dfs.namenode.http-address.${NAMESERVICE}.${nn}`, `localhost:${addresses[nn].http}`],
      ]),
    ),
    'dfs.namenode.shared.edits.dir': `file://${ha.sharedEdits}`,
    [`dfs.client.failover.proxy.provider.${NAMESERVICE}`]:
      'org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider',
    'dfs.ha.automatic-failover.enabled': false,
    'dfs.ha.fencing.methods': 'shell(/bin/true)',
    // The standby reads the shared edits every second, so a failover has little to catch up on; it does not
    // checkpoint (one CPU-heavy task less on a small machine).
    'dfs.ha.tail-edits.period': '1s',
    'dfs.ha.standby.checkpoints': false,
    // A DataNode reports to a NameNode that has just become active at once, not at its next full block report.
    'dfs.blockreport.initialDelay': 0,
  };
}

function haCoreSite(config: Config, paths: StackPaths): Record<string, string | number | boolean> {
  // HttpFS runs as this OS user and acts for the HDFS user (user.name) through Hadoop's proxy-user mechanism.
  const gateway = userInfo().username;
  return {
    ...coreSite(config, paths),
    'fs.defaultFS': `hdfs://${NAMESERVICE}`,
    [`hadoop.proxyuser.${gateway}.hosts`]: '*',
    [`hadoop.proxyuser.${gateway}.groups`]: '*',
    // haadmin and HttpFS give up on a dead NameNode after one connect attempt, not ten.
    'ipc.client.connect.max.retries': 1,
    'ipc.client.connect.retry.interval': 200,
  };
}

export function standbyNamenodeSpec(config: Config, paths: StackPaths): ServerSpec {
  const nn1 = namenodeSpec(config, paths);
  return {
    ...nn1,
    name: 'namenode2',
    classpath: `${haPaths(paths).standbyConf}:${paths.hdfsLib}/*`,
    logFile: join(paths.logs, 'namenode2.log'),
    pidFile: pidFileFor(paths.run, 'namenode2'),
  };
}

export function httpfsSpec(paths: StackPaths): ServerSpec {
  const ha = haPaths(paths);
  return {
    name: 'httpfs',
    mainClass: HTTPFS_CLASS,
    classpath: `${ha.httpfsConf}:${paths.httpfsLib}/*`,
    jvmArgs: [
      '-Xms64m',
      '-Xmx256m',
      '-Djava.net.preferIPv4Stack=true',
      // JAXB (under Jersey 1) defines classes by reflection, which Java 17 allows only when opened.
      '--add-opens=java.base/java.lang=ALL-UNNAMED',
      `-Dhttpfs.home.dir=${join(paths.home, 'httpfs')}`,
      `-Dhttpfs.config.dir=${ha.httpfsConf}`,
      `-Dhttpfs.log.dir=${paths.logs}`,
      `-Dhttpfs.temp.dir=${ha.httpfsTemp}`,
      `-Dhadoop.log.dir=${paths.logs}`,
    ],
    args: [],
    logFile: join(paths.logs, 'httpfs.log'),
    pidFile: pidFileFor(paths.run, 'httpfs'),
  };
}

export const standbyNamenodePorts = (config: Config): Record<string, number> => ({
  standbyNamenodeRpcPort: config.stack.standbyNamenodeRpcPort,
  standbyWebhdfsPort: config.stack.standbyWebhdfsPort,
});
export const httpfsPorts = (config: Config): Record<string, number> => ({
  httpfsPort: config.stack.httpfsPort,
});

/** Writes the HA confs; on first use formats nn1 (and the shared edits) and gives nn2 a copy of its image. */
export async function prepareHaHdfs(config: Config, paths: StackPaths): Promise<void> {
  const ha = haPaths(paths);
  for (const dir of [
    paths.hdfsConf,
    ha.standbyConf,
    ha.httpfsConf,
    ha.httpfsTemp,
    paths.hdfsData,
    ha.sharedEdits,
  ])
    await mkdir(dir, { recursive: true });
  const core = xml(haCoreSite(config, paths));
  for (const [dir, id] of [
    [paths.hdfsConf, 'nn1'],
    [ha.standbyConf, 'nn2'],
  ] as const) {
    await writeFile(join(dir, 'core-site.xml'), core);
    await writeFile(join(dir, 'hdfs-site.xml'), xml(haHdfsSite(config, paths, id)));
    await writeFile(join(dir, 'log4j.properties'), HDFS_LOG4J);
  }
  await writeFile(
    join(ha.httpfsConf, 'httpfs-site.xml'),
    xml({
      'httpfs.http.port': config.stack.httpfsPort,
      'httpfs.http.hostname': 'localhost',
      'httpfs.hadoop.config.dir': paths.hdfsConf,
      [`httpfs.proxyuser.${userInfo().username}.hosts`]: '*',
      [`httpfs.proxyuser.${userInfo().username}.groups`]: '*',
    }),
  );
  await writeFile(join(ha.httpfsConf, 'log4j.properties'), HDFS_LOG4J);
  // HttpFS signs its auth cookie with this secret and refuses to start without one.
  const secret = join(ha.httpfsConf, 'httpfs-signature.secret');
  if (!existsSync(secret)) await writeFile(secret, randomBytes(32).toString('hex'), { mode: 0o600 });
  await formatNamenodeOnce(namenodeSpec(config, paths), paths);
  // What `namenode -bootstrapStandby` does, without needing nn1 up: the standby starts from the same image.
  if (!existsSync(join(ha.standbyName, 'current', 'VERSION')))
    await cp(paths.hdfsName, ha.standbyName, { recursive: true });
}

/** Generous: a NameNode busy loading edits, on a loaded machine, answers JMX in seconds. */
async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
  return res.json();
}

/** 'active', 'standby', or 'down' when the NameNode does not answer. */
export async function namenodeState(config: Config, id: NamenodeId): Promise<'active' | 'standby' | 'down'> {
  const url = `http://localhost:${namenodeAddresses(config)[id].http}/jmx?qry=Hadoop:service=NameNode,name=NameNodeStatus`;
  try {
    const jmx = (await getJson(url)) as { beans: { State?: string }[] };
    const state = jmx.beans[0]?.State;
    return state === 'active' || state === 'standby' ? state : 'down';
  } catch {
    return 'down';
  }
}

export async function namenodeStates(
  config: Config,
): Promise<Record<NamenodeId, 'active' | 'standby' | 'down'>> {
  const [nn1, nn2] = await Promise.all(NAMENODE_IDS.map((id) => namenodeState(config, id)));
  return { nn1: nn1 ?? 'down', nn2: nn2 ?? 'down' };
}

/**
 * Healthy = one NameNode is active and healthy as a single one would be (hdfsHealth), the other answers as standby
 * (so a failover can happen), and HttpFS answers.
 */
export async function haHdfsHealth(config: Config): Promise<Health> {
  const states = await namenodeStates(config);
  const active = NAMENODE_IDS.find((id) => states[id] === 'active');
  const summary = `nn1 ${states.nn1}, nn2 ${states.nn2}`;
  if (!active || NAMENODE_IDS.some((id) => states[id] === 'down'))
    return { ok: false, detail: `not one active and one standby NameNode (${summary})` };
  const port = namenodeAddresses(config)[active].http;
  const hdfs = await hdfsHealth({ ...config, stack: { ...config.stack, webhdfsPort: port } });
  if (!hdfs.ok) return { ok: false, detail: `${active}: ${hdfs.detail}` };
  const gateway = httpfsUrl(config);
  try {
    await getJson(
      `${gateway}/webhdfs/v1/?op=GETFILESTATUS&user.name=${encodeURIComponent(config.hdfs.user)}`,
    );
  } catch (err) {
    return { ok: false, detail: `${summary}; HttpFS at ${gateway}: ${(err as Error).message}` };
  }
  return { ok: true, detail: `${summary}; ${hdfs.detail}; HttpFS ${gateway} answers` };
}

/** Runs Hadoop's `hdfs haadmin` with the stack's conf and jars; its verdict, or an error with its output's tail. */
export async function haadmin(config: Config, paths: StackPaths, args: string[]): Promise<string> {
  const spec = namenodeSpec(config, paths);
  try {
    const { stdout } = await run(
      'java',
      [
        '-Xmx128m',
        ...spec.jvmArgs.slice(2),
        '-cp',
        spec.classpath,
        HAADMIN_CLASS,
        '-ns',
        NAMESERVICE,
        ...args,
      ],
      { timeout: 120_000 },
    );
    // Its verdict is the last line of stdout, after the client's log (stack traces of a fenced NameNode, say).
    return stdout.trim().split('\n').at(-1) ?? '';
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    const tail = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new TweetpipeError('SERVER_DIED', `hdfs haadmin ${args.join(' ')} failed:\n${tail}`, {
      cause: err,
    });
  }
}

/** Right after start both NameNodes are standby: once both answer, nn1 is made active. */
export async function activateOne(config: Config, paths: StackPaths): Promise<NamenodeId | null> {
  const states = await namenodeStates(config);
  if (states.nn1 !== 'standby' || states.nn2 !== 'standby') return null;
  await haadmin(config, paths, ['-transitionToActive', 'nn1']);
  return 'nn1';
}

/**
 * `tweetpipe stack failover`: makes `to` (by default the standby NameNode) the active one with
 * `haadmin -failover`, which first asks the active one to step down and fences it when it cannot answer.
 */
export async function haFailover(
  config: Config,
  paths: StackPaths,
  to?: NamenodeId,
): Promise<{ from: NamenodeId; to: NamenodeId; output: string }> {
  const states = await namenodeStates(config);
  const target = to ?? NAMENODE_IDS.find((id) => states[id] === 'standby') ?? 'nn2';
  const from = NAMENODE_IDS.find((id) => id !== target) ?? 'nn1';
  if (states[target] === 'down')
    throw new TweetpipeError(
      'SERVER_DIED',
      `cannot fail over to ${target}: it does not answer (nn1 ${states.nn1}, nn2 ${states.nn2})`,
    );
  if (states[target] === 'active') return { from, to: target, output: `${target} is active already` };
  return { from, to: target, output: await haadmin(config, paths, ['-failover', from, target]) };
}
