/** The local Kafka: one KRaft node that is both broker and controller, from the Maven-fetched jars. */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import { probeBrokers } from '../kafka/admin.ts';
import type { StackPaths } from './paths.ts';
import { pidFileFor, type ServerSpec } from './process.ts';

const run = promisify(execFile);
const MAIN_CLASS = 'kafka.Kafka';

/** The secured listeners and their settings (`stack up --secure`), added to the plain ones. */
export interface SecureAddition {
  listeners: string[];
  protocolMap: string[];
  properties: string;
}

function serverProperties(config: Config, paths: StackPaths, secure?: SecureAddition): string {
  const { kafkaPort, controllerPort } = config.stack;
  const listeners = [`PLAINTEXT://localhost:${kafkaPort}`, ...(secure?.listeners ?? [])];
  const protocolMap = ['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT', ...(secure?.protocolMap ?? [])];
  return `# Written by tweetpipe stack up: a single-node KRaft cluster for local use.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:${controllerPort}
listeners=${[...listeners, `CONTROLLER://localhost:${controllerPort}`].join(',')}
advertised.listeners=${listeners.join(',')}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=${protocolMap.join(',')}
log.dirs=${paths.kafkaData}
num.partitions=3
auto.create.topics.enable=true
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
num.network.threads=3
num.io.threads=4
${secure?.properties ?? ''}`;
}

const LOG4J2 = `rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;

export function kafkaSpec(config: Config, paths: StackPaths): ServerSpec {
  return {
    name: 'kafka',
    mainClass: MAIN_CLASS,
    classpath: `${paths.kafkaLib}/*`,
    jvmArgs: [
      `-Xms256m`,
      `-Xmx${config.stack.kafkaHeapMb}m`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(paths.kafkaConf, 'log4j2.properties')}`,
    ],
    args: [join(paths.kafkaConf, 'server.properties')],
    logFile: join(paths.logs, 'kafka.log'),
    pidFile: pidFileFor(paths.run, 'kafka'),
  };
}

/**
 * A random KRaft cluster id (16 bytes, base64url, as Kafka's Uuid prints them). Like Kafka's Uuid.randomUuid(),
 * never one starting with '-': the storage tool would read it as an option and fail (1 start in 64 did).
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Writes the config (every time, so port changes apply) and formats the storage once; data survives restarts. */
export async function prepareKafka(
  config: Config,
  paths: StackPaths,
  secure?: SecureAddition,
): Promise<void> {
  await mkdir(paths.kafkaConf, { recursive: true });
  await mkdir(paths.kafkaData, { recursive: true });
  const props = join(paths.kafkaConf, 'server.properties');
  await writeFile(props, serverProperties(config, paths, secure), { mode: 0o600 });
  await writeFile(join(paths.kafkaConf, 'log4j2.properties'), LOG4J2);
  if (existsSync(join(paths.kafkaData, 'meta.properties'))) return;
  const clusterId = newClusterId();
  try {
    await run(
      'java',
      [
        '-cp',
        `${paths.kafkaLib}/*`,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        props,
        '--standalone',
      ],
      { timeout: 120_000 },
    );
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    throw new TweetpipeError(
      'SERVER_DIED',
      `formatting Kafka storage failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`,
      {
        cause: err,
      },
    );
  }
}

export interface Health {
  ok: boolean;
  detail: string;
}

export async function kafkaHealth(config: Config): Promise<Health> {
  const bootstrap = `localhost:${config.stack.kafkaPort}`;
  try {
    const brokers = await probeBrokers({ clientId: 'tweetpipe-stack', bootstrapBrokers: [bootstrap] }, 2000);
    return { ok: true, detail: `broker(s) ${brokers.join(', ')} answered a metadata request` };
  } catch (err) {
    return { ok: false, detail: `no metadata from ${bootstrap}: ${(err as Error).message}` };
  }
}

export const kafkaPorts = (config: Config, secure: boolean): Record<string, number> => ({
  kafkaPort: config.stack.kafkaPort,
  controllerPort: config.stack.controllerPort,
  ...(secure
    ? { kafkaSaslSslPort: config.stack.kafkaSaslSslPort, kafkaSslPort: config.stack.kafkaSslPort }
    : {}),
});
