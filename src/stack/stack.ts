/** `tweetpipe stack up | down | status | logs`: the local single-node Kafka + HDFS, started with `java -cp`. */
import { createReadStream, existsSync, watch } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Config, loadConfig } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import { probeBrokers } from '../kafka/admin.ts';
import { kafkaConnection } from '../kafka/client-options.ts';
import {
  activateOne,
  haHdfsHealth,
  haPaths,
  haWebhdfsUrls,
  httpfsPorts,
  httpfsSpec,
  httpfsUrl,
  prepareHaHdfs,
  standbyNamenodePorts,
  standbyNamenodeSpec,
} from './hdfs-ha.ts';
import {
  datanodePorts,
  datanodeSpec,
  hdfsHealth,
  namenodePorts,
  namenodeSpec,
  prepareHdfs,
} from './hdfs-server.ts';
import { metastoreHealth, metastorePorts, metastoreSpec, prepareMetastore } from './hive-server.ts';
import { type Health, kafkaHealth, kafkaPorts, kafkaSpec, prepareKafka } from './kafka-server.ts';
import { ensureJars, serverPom } from './maven.ts';
import { type StackPaths, stackPaths } from './paths.ts';
import { checkJava } from './prereqs.ts';
import {
  assertPortsFree,
  logTail,
  portIsFree,
  runningPid,
  type ServerSpec,
  startServer,
  stopServer,
} from './process.ts';
import {
  applyUsersAndAcls,
  type ClientSettings,
  prepareSecureMaterial,
  SECURE_USERS,
  type SecureMaterial,
  secureDir,
  secureListeners,
  secureServerProperties,
} from './secure-broker.ts';

export type Say = (line: string) => void;

interface Server {
  spec: ServerSpec;
  ports: Record<string, number>;
}

/** `secure`: the secured listeners' ports are the Kafka server's too; `ha`: the second NameNode and HttpFS. */
function servers(config: Config, paths: StackPaths, secure = false, ha = false): Server[] {
  return [
    { spec: kafkaSpec(config, paths), ports: kafkaPorts(config, secure) },
    { spec: namenodeSpec(config, paths), ports: namenodePorts(config) },
    { spec: datanodeSpec(config, paths), ports: datanodePorts(config) },
    ...(ha
      ? [
          { spec: standbyNamenodeSpec(config, paths), ports: standbyNamenodePorts(config) },
          { spec: httpfsSpec(paths), ports: httpfsPorts(config) },
        ]
      : []),
  ];
}

/** A stack home that `stack up --ha` prepared: its HDFS is the HA pair. */
const isHaHome = (config: Config): boolean => existsSync(haPaths(stackPaths(config)).standbyConf);

export function endpoints(config: Config): string[] {
  const s = config.stack;
  const clients = join(secureDir(stackPaths(config).home), 'clients.json');
  return [
    `Kafka bootstrap   localhost:${s.kafkaPort} (controller localhost:${s.controllerPort})`,
    ...(existsSync(clients)
      ? [
          `Kafka SASL_SSL    localhost:${s.kafkaSaslSslPort}, SSL (client certificates) localhost:${s.kafkaSslPort}`,
          `                  (with stack up --secure) users' settings: ${clients}`,
        ]
      : []),
    ...(isHaHome(config)
      ? [
          `HDFS (HA)         hdfs://tweetpipe: nn1 localhost:${s.namenodeRpcPort}, nn2 localhost:${s.standbyNamenodeRpcPort}`,
          `WebHDFS (HA)      ${haWebhdfsUrls(config).join(',')}  (tweetpipe stack failover switches them)`,
          `HttpFS            ${httpfsUrl(config)}`,
        ]
      : [`HDFS              hdfs://localhost:${s.namenodeRpcPort}`]),
    `Hive Metastore    thrift://localhost:${s.metastorePort} (with --hive)`,
    `WebHDFS / web UI  http://localhost:${s.webhdfsPort}`,
    `DataNode HTTP     http://localhost:${s.datanodeHttpPort}`,
  ];
}

export async function stackHealth(
  config: Config,
  ha = isHaHome(config),
): Promise<{ kafka: Health; hdfs: Health }> {
  const [kafka, hdfs] = await Promise.all([
    kafkaHealth(config),
    ha ? haHdfsHealth(config) : hdfsHealth(config),
  ]);
  return { kafka, hdfs };
}

export interface UpResult {
  alreadyRunning: boolean;
  started: string[];
  seconds: number;
}

export interface UpOptions {
  /** Add the secured listeners (SASL_SSL, mutual TLS), users and ACLs (secure-broker.ts). */
  secure?: boolean;
  /** Add the Hive Metastore (its warehouse on this HDFS). */
  hive?: boolean;
  /** HDFS as an HA pair (two NameNodes, shared edits) with an HttpFS gateway (hdfs-ha.ts). */
  ha?: boolean;
}

/** Kafka and HDFS (with `secure`, their secured listeners), then with `hive` the metastore. */
export async function stackUp(config: Config, say: Say, opts: UpOptions = {}): Promise<UpResult> {
  const core = await coreUp(config, say, opts.secure ?? false, opts.ha ?? false);
  if (!opts.hive) return core;
  const started = await metastoreUp(config, say);
  return {
    alreadyRunning: core.alreadyRunning && !started,
    started: [...core.started, ...(started ? ['metastore'] : [])],
    seconds: core.seconds,
  };
}

/**
 * Starts the Hive Metastore unless it answers already; true when it was started. Kafka and HDFS are not touched,
 * so it can join a stack that runs elsewhere (its HDFS at stack.namenodeRpcPort).
 */
export async function metastoreUp(config: Config, say: Say): Promise<boolean> {
  if ((await metastoreHealth(config)).ok) return false;
  const paths = stackPaths(config);
  await checkJava();
  await ensureJars(serverPom('hive'), paths.hiveLib, say);
  await mkdir(paths.logs, { recursive: true });
  await mkdir(paths.run, { recursive: true });
  const server = { spec: metastoreSpec(config, paths), ports: metastorePorts(config) };
  if ((await runningPid(server.spec)) === null) {
    await assertPortsFree(server.spec.name, server.ports);
    await prepareMetastore(config, paths);
    const pid = await startServer(server.spec);
    say(`started metastore (pid ${pid}), log ${server.spec.logFile}`);
  }
  const deadline = Date.now() + config.stack.startTimeoutS * 1000;
  while (Date.now() < deadline) {
    // The metastore does not exit when its start fails (a Thrift server that never listens): the log says why.
    if (
      (await runningPid(server.spec)) === null ||
      /Metastore Thrift Server threw an exception/.test(await logTail(server.spec.logFile, 400))
    )
      throw new TweetpipeError(
        'SERVER_DIED',
        `the metastore failed to start; last lines of ${server.spec.logFile}:\n${await logTail(server.spec.logFile)}`,
      );
    if ((await metastoreHealth(config)).ok) return true;
    await sleep(500);
  }
  throw new TweetpipeError(
    'TIMEOUT',
    `the metastore did not answer within ${config.stack.startTimeoutS} s (stack.startTimeoutS)\n${await logTail(server.spec.logFile, 15)}`,
  );
}

/** Stops the metastore when this stack home runs one. */
export async function metastoreDown(config: Config, say: Say): Promise<void> {
  const result = await stopServer(metastoreSpec(config, stackPaths(config)), 30_000);
  if (result !== 'not-running') say(`metastore: ${result}`);
}

async function coreUp(config: Config, say: Say, secure: boolean, ha: boolean): Promise<UpResult> {
  const t0 = performance.now();
  const paths = stackPaths(config);
  await checkJava();
  // Sequential: two Maven processes writing one local repository can corrupt it.
  await ensureJars(serverPom('kafka'), paths.kafkaLib, say);
  await ensureJars(serverPom('hdfs'), paths.hdfsLib, say);
  if (ha) await ensureJars(serverPom('httpfs'), paths.httpfsLib, say);
  await mkdir(paths.logs, { recursive: true });
  await mkdir(paths.run, { recursive: true });

  const before = await stackHealth(config, ha);
  // A healthy Kafka (of another stack home, say) is used as it is, so an HA HDFS can join a running broker.
  const all = servers(config, paths, secure, ha).filter((s) => !(s.spec.name === 'kafka' && before.kafka.ok));
  const material = secure ? await prepareSecureMaterial(config, paths.home) : undefined;
  const started: string[] = [];
  const alreadyUp = async () => {
    if (material) {
      if (await portIsFree(config.stack.kafkaSaslSslPort))
        throw new TweetpipeError(
          'USAGE',
          'Kafka is running without the secured listeners: stop it (tweetpipe stack down) and run stack up --secure',
        );
      await secureUsers(config, material, say);
    }
    say('stack already up and healthy');
    return { alreadyRunning: true, started, seconds: (performance.now() - t0) / 1000 };
  };
  // A healthy Kafka and HDFS on these ports are used as they are, even when another stack home runs them.
  if (before.kafka.ok && before.hdfs.ok) return alreadyUp();
  const toStart: Server[] = [];
  for (const server of all) {
    if ((await runningPid(server.spec)) === null) {
      await assertPortsFree(server.spec.name, server.ports);
      toStart.push(server);
    }
  }
  const needs = new Set(toStart.map((s) => s.spec.name));
  if (toStart.length === 0) {
    const health = await stackHealth(config, ha);
    if (health.kafka.ok && health.hdfs.ok) return alreadyUp();
  }
  const secureAddition = material && {
    ...secureListeners(config),
    properties: secureServerProperties(material),
  };
  await Promise.all([
    needs.has('kafka') ? prepareKafka(config, paths, secureAddition) : undefined,
    ha ? prepareHaHdfs(config, paths) : undefined,
    !ha && (needs.has('namenode') || needs.has('datanode')) ? prepareHdfs(config, paths) : undefined,
  ]);
  for (const server of toStart) {
    const pid = await startServer(server.spec);
    started.push(server.spec.name);
    say(`started ${server.spec.name} (pid ${pid}), log ${server.spec.logFile}`);
  }
  await waitHealthy(config, all, say, ha);
  if (material) await secureUsers(config, material, say);
  return { alreadyRunning: false, started, seconds: (performance.now() - t0) / 1000 };
}

/** A user's client settings as `kafka.*` config flags. */
export const kafkaFlags = (settings: ClientSettings): Record<string, unknown> =>
  Object.fromEntries(Object.entries(settings).map(([key, value]) => [`kafka.${key}`, value]));

/** SCRAM users and ACLs (idempotent), then one secured connection that proves the doors open. */
async function secureUsers(config: Config, material: SecureMaterial, say: Say): Promise<void> {
  await applyUsersAndAcls(config, material);
  const probe = loadConfig({ env: {}, flags: kafkaFlags(material.clients[SECURE_USERS[0]!.name]!) });
  // The credentials reach the broker through the metadata log a moment after the controller accepted them.
  let lastError: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await probeBrokers(kafkaConnection(probe, 'stack'), 3000);
      say(`secured listeners up; users and their client settings: ${material.clientsFile}`);
      return;
    } catch (err) {
      lastError = err;
      await sleep(250);
    }
  }
  throw new TweetpipeError('SERVER_DIED', `the secured listener does not accept ${SECURE_USERS[0]!.name}`, {
    cause: lastError,
  });
}

async function waitHealthy(config: Config, all: Server[], say: Say, ha: boolean): Promise<void> {
  const deadline = Date.now() + config.stack.startTimeoutS * 1000;
  let last = '';
  while (Date.now() < deadline) {
    for (const { spec } of all) {
      if ((await runningPid(spec)) === null) {
        throw new TweetpipeError(
          'SERVER_DIED',
          `${spec.name} exited during start; last lines of ${spec.logFile}:\n${await logTail(spec.logFile)}`,
        );
      }
    }
    // HA NameNodes start as standby (no automatic failover): one is made active once both answer.
    if (ha) {
      const active = await activateOne(config, stackPaths(config));
      if (active) say(`made ${active} the active NameNode`);
    }
    const health = await stackHealth(config, ha);
    if (health.kafka.ok && health.hdfs.ok) return;
    const now = `waiting: kafka ${health.kafka.ok ? 'ok' : 'starting'}, hdfs ${health.hdfs.ok ? 'ok' : health.hdfs.detail}`;
    if (now !== last) say(now);
    last = now;
    await sleep(250);
  }
  const tails = await Promise.all(
    all.map(async ({ spec }) => `--- ${spec.name}:\n${await logTail(spec.logFile, 15)}`),
  );
  throw new TweetpipeError(
    'TIMEOUT',
    `the stack did not become healthy within ${config.stack.startTimeoutS} s (stack.startTimeoutS)\n${tails.join('\n')}`,
  );
}

export async function stackDown(config: Config, say: Say): Promise<void> {
  const paths = stackPaths(config);
  // DataNode first so the NameNode does not log it as lost; Kafka in parallel (its controlled shutdown is slowest).
  // The secured listeners' ports too: they must be free after a stop whether or not they were used.
  const ha = isHaHome(config);
  const all = servers(config, paths, true, ha);
  const [kafka, namenode, datanode, ...haServers] = all as [Server, Server, Server, ...Server[]];
  // Only the ports of servers this home ran are checked: a broker of another home (an HA HDFS joined to it) stays.
  const stopped: Server[] = [];
  const stop = async (server: Server) => {
    const result = await stopServer(server.spec, 30_000);
    if (result !== 'not-running') stopped.push(server);
    say(`${server.spec.name}: ${result}`);
  };
  await Promise.all([
    stop(kafka),
    stop(datanode).then(() => Promise.all([namenode, ...haServers].map(stop))),
    metastoreDown(config, say),
  ]);
  // The kernel may take a moment to release a listening socket after the process is gone.
  let busy: string[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    busy = [];
    for (const server of stopped) {
      for (const [what, port] of Object.entries(server.ports)) {
        if (!(await portIsFree(port))) busy.push(`${port} (${server.spec.name} ${what})`);
      }
    }
    if (busy.length === 0) break;
    await sleep(250);
  }
  if (busy.length > 0)
    throw new TweetpipeError(
      'PORT_IN_USE',
      `stack stopped, but these ports are still in use: ${busy.join(', ')}`,
    );
  say('all stack ports are free');
}

export interface ServerStatus {
  name: string;
  pid: number | null;
  log: string;
}

export async function stackStatus(
  config: Config,
): Promise<{ servers: ServerStatus[]; kafka: Health; hdfs: Health; healthy: boolean }> {
  const paths = stackPaths(config);
  const list = await Promise.all(
    servers(config, paths, false, isHaHome(config)).map(async ({ spec }) => ({
      name: spec.name,
      pid: await runningPid(spec),
      log: spec.logFile,
    })),
  );
  const { kafka, hdfs } = await stackHealth(config);
  return { servers: list, kafka, hdfs, healthy: kafka.ok && hdfs.ok };
}

/** Prints the last lines of each server log; with follow, keeps printing what they append. */
export async function stackLogs(
  config: Config,
  opts: { server?: string; lines: number; follow: boolean; signal?: AbortSignal },
  write: (text: string) => void,
): Promise<void> {
  const paths = stackPaths(config);
  const known = servers(config, paths, false, isHaHome(config));
  const chosen = known.filter(({ spec }) => !opts.server || spec.name === opts.server);
  if (chosen.length === 0)
    throw new TweetpipeError(
      'USAGE',
      `unknown server "${opts.server}": expected one of ${known.map(({ spec }) => spec.name).join(', ')}`,
    );
  for (const { spec } of chosen) {
    write(`==> ${spec.logFile} <==\n${await logTail(spec.logFile, opts.lines)}\n`);
  }
  if (!opts.follow) return;
  const offsets = new Map<string, number>();
  for (const { spec } of chosen)
    offsets.set(spec.logFile, existsSync(spec.logFile) ? (await stat(spec.logFile)).size : 0);
  const watchers = chosen.map(({ spec }) =>
    watch(spec.logFile, async () => {
      const from = offsets.get(spec.logFile) ?? 0;
      const size = (await stat(spec.logFile)).size;
      if (size <= from) return;
      offsets.set(spec.logFile, size);
      for await (const chunk of createReadStream(spec.logFile, { start: from, end: size - 1 }))
        write(String(chunk));
    }),
  );
  await new Promise<void>((resolve) => {
    if (opts.signal?.aborted) return resolve();
    opts.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  for (const w of watchers) w.close();
}
