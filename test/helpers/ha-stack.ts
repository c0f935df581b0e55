/**
 * The HA HDFS of `tweetpipe stack up --ha` for the HA and HttpFS tests: two NameNodes, the DataNode registered with
 * both, and an HttpFS gateway, in a stack home and on ports of their own, so its servers can be killed and
 * restarted without touching the shared stack (whose Kafka the tests still use). A test file calls `useHaStack`,
 * which starts the HA HDFS unless it already runs and stops it after the file when it started it. It then points the
 * tests' HDFS settings (TWEETPIPE_WEBHDFS, read by testConfig() and passed to the CLI under test) at it.
 */

import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Config, loadConfig } from '../../src/config.ts';
import {
  haFailover,
  haHdfsHealth,
  haWebhdfsUrls,
  httpfsUrl,
  type NamenodeId,
  namenodeStates,
  standbyNamenodeSpec,
} from '../../src/stack/hdfs-ha.ts';
import { datanodeSpec, namenodeSpec } from '../../src/stack/hdfs-server.ts';
import { stackPaths } from '../../src/stack/paths.ts';
import { isAlive, logTail, runningPid, type ServerSpec, startServer } from '../../src/stack/process.ts';
import { stackDown, stackUp } from '../../src/stack/stack.ts';

/** Ports clear of the shared stack (9000, 9864-9870) and of the Kerberos profile (9010-9019, 9871-9879). */
export const HA_STACK_ENV: Record<string, string> = {
  TWEETPIPE_STACK_HOME: '.tweetpipe/stack-ha',
  TWEETPIPE_STACK_NAMENODE_RPC_PORT: '9021',
  TWEETPIPE_STACK_WEBHDFS_PORT: '9881',
  TWEETPIPE_STACK_STANDBY_NAMENODE_RPC_PORT: '9022',
  TWEETPIPE_STACK_STANDBY_WEBHDFS_PORT: '9882',
  TWEETPIPE_STACK_DATANODE_PORT: '9023',
  TWEETPIPE_STACK_DATANODE_HTTP_PORT: '9024',
  TWEETPIPE_STACK_DATANODE_IPC_PORT: '9025',
  TWEETPIPE_STACK_HTTPFS_PORT: '14000',
  TWEETPIPE_STACK_HDFS_HEAP_MB: '384',
};

export const haConfig = (): Config => loadConfig({ env: { ...process.env, ...HA_STACK_ENV } });

const say = (line: string) => process.stderr.write(`[ha-stack] ${line}\n`);

/**
 * Starts the HA HDFS before the file's tests (unless it runs) and stops it after them (if started here); the tests'
 * WebHDFS setting becomes `webhdfs(config)`: both NameNodes, or the HttpFS gateway.
 */
export function useHaStack(webhdfs: (config: Config) => string[]): void {
  let startedHere = false;
  before(async () => {
    const config = haConfig();
    const up = await stackUp(config, say, { ha: true });
    startedHere = !up.alreadyRunning;
    process.env.TWEETPIPE_WEBHDFS = webhdfs(config).join(',');
  });
  after(async () => {
    if (startedHere) await stackDown(haConfig(), say);
  });
}

export const bothNamenodes = haWebhdfsUrls;
export const gateway = (config: Config): string[] => [httpfsUrl(config)];

type HaServer = NamenodeId | 'datanode';

function spec(server: HaServer, config: Config): ServerSpec {
  const paths = stackPaths(config);
  if (server === 'datanode') return datanodeSpec(config, paths);
  return server === 'nn1' ? namenodeSpec(config, paths) : standbyNamenodeSpec(config, paths);
}

/** kill -9 and wait until the process is gone. */
export async function killHaServer(server: HaServer, config = haConfig()): Promise<void> {
  const pid = await runningPid(spec(server, config));
  if (pid === null) throw new Error(`no ${server} runs in the HA stack`);
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
}

/** The NameNode that is active now. */
export async function activeNamenode(config = haConfig()): Promise<NamenodeId> {
  const states = await namenodeStates(config);
  const active = (['nn1', 'nn2'] as const).find((id) => states[id] === 'active');
  if (!active) throw new Error(`no active NameNode: nn1 ${states.nn1}, nn2 ${states.nn2}`);
  return active;
}

/** `tweetpipe stack failover`'s own code: the standby becomes active. */
export const failover = async (config = haConfig()) => haFailover(config, stackPaths(config));

/**
 * Starts a killed server again and waits until the HA HDFS is whole: a NameNode answers (as standby, since the
 * other one is active now), or the DataNode has registered with both NameNodes; and the pair is healthy.
 */
export async function restartHaServer(
  server: HaServer,
  config = haConfig(),
  timeoutMs = 180_000,
): Promise<void> {
  const s = spec(server, config);
  if ((await runningPid(s)) === null) await startServer(s);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await namenodeStates(config);
    const back = server === 'datanode' ? await datanodeRegisteredWithBoth(config) : states[server] !== 'down';
    if (back && (await haHdfsHealth(config)).ok) return;
    if ((await runningPid(s)) === null)
      throw new Error(`the ${server} died at start:\n${await logTail(s.logFile)}`);
    if (Date.now() > deadline)
      throw new Error(`the ${server} did not serve within ${timeoutMs} ms:\n${await logTail(s.logFile)}`);
    await sleep(250);
  }
}

/** A DataNode killed -9 still counts as live at the NameNodes for a while: ask the DataNode itself. */
async function datanodeRegisteredWithBoth(config: Config): Promise<boolean> {
  const url = `http://localhost:${config.stack.datanodeHttpPort}/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { beans: { BPServiceActorInfo?: string }[] };
    const actors = JSON.parse(body.beans[0]?.BPServiceActorInfo ?? '[]') as { ActorState?: string }[];
    return actors.length === 2 && actors.every((a) => a.ActorState === 'RUNNING');
  } catch {
    return false;
  }
}
