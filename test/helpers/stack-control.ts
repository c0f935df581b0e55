/**
 * Stops and restarts a server of the running local stack (the broker, the NameNode or the DataNode) for chaos tests
 * and the soak, with the stack's own process code (the same spec `tweetpipe stack up` starts it with). Before
 * stopping anything, `restartProblem` checks that the server can be started again exactly as it runs now, because
 * every later test needs it: a caller that stops a server must restart it in a `finally` and wait for `startStackServer`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../src/config.ts';
import { datanodeSpec, hdfsHealth, namenodeSpec } from '../../src/stack/hdfs-server.ts';
import { type Health, kafkaHealth, kafkaSpec } from '../../src/stack/kafka-server.ts';
import { stackPaths } from '../../src/stack/paths.ts';
import { isAlive, logTail, runningPid, type ServerSpec, startServer } from '../../src/stack/process.ts';
import { testConfig } from './topics.ts';

export type StackServer = 'kafka' | 'namenode' | 'datanode';
export const STACK_SERVERS: readonly StackServer[] = ['kafka', 'namenode', 'datanode'];

function spec(server: StackServer, config: Config): ServerSpec {
  const paths = stackPaths(config);
  if (server === 'kafka') return kafkaSpec(config, paths);
  return server === 'namenode' ? namenodeSpec(config, paths) : datanodeSpec(config, paths);
}

/** Why the tests' endpoints are not the ones this server serves, or null when they are. */
function endpointProblem(server: StackServer, config: Config): string | null {
  if (server === 'kafka') {
    const port = `:${config.stack.kafkaPort}`;
    const served = [`localhost${port}`, `127.0.0.1${port}`];
    return config.kafka.brokers.every((b) => served.includes(b))
      ? null
      : `the tests use brokers ${config.kafka.brokers.join(', ')}, but the stack's broker serves localhost${port}`;
  }
  const served = [
    `http://localhost:${config.stack.webhdfsPort}`,
    `http://127.0.0.1:${config.stack.webhdfsPort}`,
  ];
  return config.hdfs.webhdfs.every((u) => served.includes(u.replace(/\/+$/, '')))
    ? null
    : `the tests use WebHDFS ${config.hdfs.webhdfs.join(', ')}, but the stack's NameNode serves ${served[0]}`;
}

/**
 * Why `server` of the configured stack cannot be stopped and restarted safely, or null when it can: it must run
 * from this stack's pid file, serve the endpoints the tests use, and run from the jars the spec names.
 */
export async function restartProblem(
  server: StackServer,
  config: Config = testConfig(),
): Promise<string | null> {
  const s = spec(server, config);
  const pid = await runningPid(s);
  if (pid === null)
    return `no ${server} runs from ${s.pidFile} (start the stack with \`tweetpipe stack up\`)`;
  const endpoints = endpointProblem(server, config);
  if (endpoints) return endpoints;
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  const classpath = argv[argv.indexOf('-cp') + 1];
  if (classpath !== s.classpath)
    return `the ${server} runs with classpath ${classpath}, but a restart would use ${s.classpath} (set TWEETPIPE_STACK_CACHE_DIR / TWEETPIPE_STACK_HOME as when the stack was started)`;
  const lib = server === 'kafka' ? stackPaths(config).kafkaLib : stackPaths(config).hdfsLib;
  if (!existsSync(lib)) return `no jars in ${lib}`;
  return null;
}

/** Stops `server`: SIGKILL (a crash) or SIGTERM (an orderly stop), and waits until the process is gone. */
export async function stopStackServer(
  server: StackServer,
  signal: 'SIGKILL' | 'SIGTERM',
  config: Config = testConfig(),
): Promise<void> {
  const pid = await runningPid(spec(server, config));
  if (pid === null) return;
  process.kill(pid, signal);
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
      break;
    }
    await sleep(50);
  }
}

/**
 * A DataNode serves once it has registered with the NameNode: a DataNode killed with -9 still counts as live at
 * the NameNode for ~30 s (heartbeat recheck), so the NameNode's view alone would call a dead one healthy.
 */
async function datanodeRegistered(config: Config): Promise<Health> {
  const url = `http://localhost:${config.stack.datanodeHttpPort}/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { beans: { BPServiceActorInfo?: string }[] };
    const actors = JSON.parse(body.beans[0]?.BPServiceActorInfo ?? '[]') as { ActorState?: string }[];
    return actors.some((a) => a.ActorState === 'RUNNING')
      ? { ok: true, detail: 'DataNode registered' }
      : { ok: false, detail: 'DataNode not registered with the NameNode yet' };
  } catch (err) {
    return { ok: false, detail: `DataNode JMX at ${url}: ${(err as Error).message}` };
  }
}

async function health(server: StackServer, config: Config): Promise<Health> {
  if (server === 'kafka') return kafkaHealth(config);
  const hdfs = await hdfsHealth(config);
  if (!hdfs.ok || server === 'namenode') return hdfs;
  return datanodeRegistered(config);
}

/**
 * Starts `server` unless it runs, then waits until it serves again (the broker answers metadata; HDFS is healthy:
 * WebHDFS answers, a DataNode is live and registered, safe mode is off). A server that dies while starting (its
 * ports not yet released, say) is started again, a few times.
 */
export async function startStackServer(
  server: StackServer,
  timeoutMs = 120_000,
  config: Config = testConfig(),
): Promise<void> {
  const s = spec(server, config);
  const deadline = Date.now() + timeoutMs;
  let starts = 0;
  for (;;) {
    if ((await runningPid(s)) === null) {
      if (starts === 3)
        throw new Error(`the ${server} died at start ${starts} times; its log:\n${await logTail(s.logFile)}`);
      if (starts > 0) await sleep(1000);
      await startServer(s);
      starts++;
    }
    const now = await health(server, config);
    if (now.ok) return;
    if (Date.now() > deadline)
      throw new Error(
        `the ${server} did not serve within ${timeoutMs} ms (${now.detail}); its log:\n${await logTail(s.logFile)}`,
      );
    await sleep(250);
  }
}
