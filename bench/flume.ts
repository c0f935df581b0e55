/**
 * Benchmark 4, Apache Flume 1.11.0 beside the sink: the Kafka-to-HDFS tool users pick instead, reading the same sink
 * topic with a fresh consumer group, Kafka source -> memory channel -> HDFS sink, once as JSON Lines (DataStream,
 * text serializer) and once gzip (CompressedStream at tweetpipe's gzip level). Its jars come from Maven Central
 * (bench/flume/pom.xml, cached beside the stack's jars) and it runs as `java -cp ... org.apache.flume.node.Application`
 * (what the flume-ng script runs). The configuration is written out by flumeConfig() and copied into
 * docs/benchmarks.md.
 *
 * Flume's time comes from its HTTP metrics, polled every 250 ms: from the first event the Kafka source took to the
 * moment the HDFS sink's EventDrainSuccessCount reaches the records in the topic. Then the agent is stopped (its
 * shutdown closes and renames the open files) and the lines in its files are counted: Flume is at-least-once, so
 * lines may exceed records, and a shortfall is data loss. Like the Python baseline, any failure is reported and the
 * bench goes on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { SINK_DEFAULTS } from '../src/config/sink.ts';
import { WebHdfsClient } from '../src/hdfs/webhdfs.ts';
import { ensureJars } from '../src/stack/maven.ts';
import { stackPaths } from '../src/stack/paths.ts';
import { readHighWaterMark } from './cli.ts';
import type { BenchContext } from './context.ts';
import type { RunCpu } from './cpu-usage.ts';

const POM = fileURLToPath(new URL('flume/pom.xml', import.meta.url));
export const FLUME_VERSION = '1.11.0';
const BATCH = 10_000;
const ROLL_BYTES = 128 * 1024 * 1024;
/** The heap of the flume-env.sh template that Flume ships (conf/flume-env.sh.template). */
const JAVA_HEAP = ['-Xms100m', '-Xmx2000m'];
const POLL_MS = 250;
/** No new event drained for this long means Flume is stuck (or lost records): stop waiting. */
const STALL_MS = 120_000;

export type FlumeFormat = 'jsonl' | 'jsonl.gz';
const FLUME_FORMATS: readonly FlumeFormat[] = ['jsonl', 'jsonl.gz'];

export interface FlumeRun {
  format: FlumeFormat;
  records: number;
  seconds: number;
  tweetsPerS: number;
  /** Lines in Flume's files once it stopped; more than `records` are duplicates (at-least-once), fewer are losses. */
  linesWritten: number;
  files: number;
  bytesWritten: number;
  peakRssBytes: number | null;
  cpu: RunCpu | null;
}

export type FlumeResult = FlumeRun | { format: FlumeFormat; failed: string };

export interface FlumeBench {
  version: string;
  javaOptions: string[];
  runs: FlumeResult[];
}

export async function benchFlume(ctx: BenchContext, topic: string, count: number): Promise<FlumeBench> {
  const libDir = join(stackPaths(ctx.config).cache, 'flume', 'lib');
  const runs: FlumeResult[] = [];
  try {
    await ensureJars({ name: `flume ${FLUME_VERSION}`, path: POM }, libDir, ctx.say);
  } catch (err) {
    const failed = `could not fetch the Flume jars: ${(err as Error).message}`;
    return {
      version: FLUME_VERSION,
      javaOptions: JAVA_HEAP,
      runs: FLUME_FORMATS.map((format) => ({ format, failed })),
    };
  }
  for (const format of FLUME_FORMATS) {
    ctx.say(`flume: ${FLUME_VERSION} ${format} on ${topic}`);
    try {
      runs.push(await flumeOnce(ctx, libDir, topic, count, format));
    } catch (err) {
      ctx.say(`flume: ${format} failed: ${(err as Error).message}`);
      runs.push({ format, failed: (err as Error).message });
    }
  }
  return { version: FLUME_VERSION, javaOptions: JAVA_HEAP, runs };
}

export interface FlumeConfigInput {
  brokers: string;
  topic: string;
  group: string;
  /** hdfs://host:port/dir the sink writes under. */
  hdfsDir: string;
  format: FlumeFormat;
}

/** The agent's properties file (agent name `agent`), as docs/benchmarks.md shows it. */
export function flumeConfig(c: FlumeConfigInput): string {
  const gzip = c.format === 'jsonl.gz';
  return `agent.sources = kafka
agent.channels = mem
agent.sinks = hdfs

agent.sources.kafka.type = org.apache.flume.source.kafka.KafkaSource
agent.sources.kafka.channels = mem
agent.sources.kafka.kafka.bootstrap.servers = ${c.brokers}
agent.sources.kafka.kafka.topics = ${c.topic}
agent.sources.kafka.kafka.consumer.group.id = ${c.group}
agent.sources.kafka.kafka.consumer.auto.offset.reset = earliest
agent.sources.kafka.batchSize = ${BATCH}
agent.sources.kafka.batchDurationMillis = 1000
# A batch of 10,000 tweets is ~20 MB: let one poll bring that much.
agent.sources.kafka.kafka.consumer.max.poll.records = ${BATCH}
agent.sources.kafka.kafka.consumer.max.partition.fetch.bytes = 10485760

agent.channels.mem.type = memory
agent.channels.mem.capacity = ${5 * BATCH}
agent.channels.mem.transactionCapacity = ${BATCH}

agent.sinks.hdfs.type = hdfs
agent.sinks.hdfs.channel = mem
# The Kafka source puts the record timestamp (created_at) in the timestamp header: buckets by tweet hour, like
# tweetpipe's layout.
agent.sinks.hdfs.hdfs.path = ${c.hdfsDir}/dt=%Y-%m-%d/hour=%H
agent.sinks.hdfs.hdfs.useLocalTimeStamp = false
agent.sinks.hdfs.hdfs.timeZone = UTC
agent.sinks.hdfs.hdfs.filePrefix = tweets
agent.sinks.hdfs.hdfs.fileSuffix = ${gzip ? '.jsonl.gz' : '.jsonl'}
agent.sinks.hdfs.hdfs.fileType = ${gzip ? 'CompressedStream' : 'DataStream'}
${gzip ? 'agent.sinks.hdfs.hdfs.codeC = gzip\n' : ''}agent.sinks.hdfs.serializer = text
agent.sinks.hdfs.serializer.appendNewline = true
agent.sinks.hdfs.hdfs.batchSize = ${BATCH}
agent.sinks.hdfs.hdfs.rollSize = ${ROLL_BYTES}
agent.sinks.hdfs.hdfs.rollCount = 0
agent.sinks.hdfs.hdfs.rollInterval = 0
agent.sinks.hdfs.hdfs.callTimeout = 60000
# One DataNode: a block with one replica is complete (else Flume rolls every file at once).
agent.sinks.hdfs.hdfs.minBlockReplicas = 1
`;
}

/**
 * The Hadoop client's configuration (a conf dir on the classpath): the stack's NameNode, one replica, and the gzip
 * level of tweetpipe's default (BEST_SPEED is zlib level 1) for the codec's built-in Java compressor.
 */
function hadoopConf(ctx: BenchContext): { 'core-site.xml': string; 'hdfs-site.xml': string } {
  const site = (props: Record<string, string>) =>
    `<?xml version="1.0"?>\n<configuration>\n${Object.entries(props)
      .map(([k, v]) => `  <property><name>${k}</name><value>${v}</value></property>`)
      .join('\n')}\n</configuration>\n`;
  if (SINK_DEFAULTS.gzipLevel !== 1)
    throw new Error(
      `bench/flume.ts maps gzip level 1 to BEST_SPEED; tweetpipe's default is now ${SINK_DEFAULTS.gzipLevel}`,
    );
  return {
    'core-site.xml': site({
      'fs.defaultFS': defaultFs(ctx),
      'zlib.compress.level': 'BEST_SPEED',
    }),
    'hdfs-site.xml': site({ 'dfs.replication': '1' }),
  };
}

const defaultFs = (ctx: BenchContext) => `hdfs://localhost:${ctx.config.stack.namenodeRpcPort}`;

async function flumeOnce(
  ctx: BenchContext,
  libDir: string,
  topic: string,
  count: number,
  format: FlumeFormat,
): Promise<FlumeRun> {
  const label = `flume-${format}`;
  const dir = join(ctx.workDir, label);
  const hadoopDir = join(dir, 'hadoop-conf');
  await mkdir(hadoopDir, { recursive: true });
  for (const [name, text] of Object.entries(hadoopConf(ctx))) await writeFile(join(hadoopDir, name), text);
  const hdfsPath = `${ctx.hdfsRoot}/flume-${format}`;
  const confFile = join(dir, 'agent.properties');
  await writeFile(
    confFile,
    flumeConfig({
      brokers: ctx.config.kafka.brokers.join(','),
      topic,
      group: `bench-${ctx.runId}-flume-${format}`,
      hdfsDir: `${defaultFs(ctx)}${hdfsPath}`,
      format,
    }),
  );
  await writeFile(join(dir, 'log4j2.xml'), LOG4J2(join(dir, 'flume.log')));
  const port = await freePort();
  const child = spawn(
    'java',
    [
      ...JAVA_HEAP,
      `-Dlog4j.configurationFile=${join(dir, 'log4j2.xml')}`,
      '-Dflume.monitoring.type=http',
      `-Dflume.monitoring.port=${port}`,
      '-cp',
      `${hadoopDir}:${libDir}/*`,
      'org.apache.flume.node.Application',
      '-f',
      confFile,
      '-n',
      'agent',
    ],
    { env: { ...process.env, HADOOP_USER_NAME: ctx.config.hdfs.user }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  if (child.pid !== undefined) ctx.cpu?.track(label, child.pid);
  let peakRssBytes: number | null = null;
  const rss = setInterval(async () => {
    const hwm = await readHighWaterMark(child.pid);
    if (hwm !== null) peakRssBytes = Math.max(peakRssBytes ?? 0, hwm);
  }, 100);
  let timing: { startMs: number; endMs: number };
  try {
    timing = await waitForDrain(child, port, count, () => stderr);
  } finally {
    clearInterval(rss);
    await stop(child);
  }
  const seconds = (timing.endMs - timing.startMs) / 1000;
  const written = await countLines(ctx, hdfsPath, format === 'jsonl.gz');
  return {
    format,
    records: count,
    seconds,
    tweetsPerS: count / seconds,
    linesWritten: written.lines,
    files: written.files,
    bytesWritten: written.bytes,
    peakRssBytes,
    cpu: ctx.cpu?.measure(label, 'flume', timing.startMs, timing.endMs, count) ?? null,
  };
}

const LOG4J2 = (file: string) => `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="ERROR">
  <Appenders><File name="file" fileName="${file}"><PatternLayout pattern="%d{ISO8601} %-5p [%t] %c{1}: %m%n"/></File></Appenders>
  <Loggers><Root level="info"><AppenderRef ref="file"/></Root></Loggers>
</Configuration>
`;

interface FlumeCounters {
  received: number;
  drained: number;
}

async function readCounters(port: number): Promise<FlumeCounters | null> {
  try {
    const res = await fetch(`http://localhost:${port}/metrics`);
    const m = (await res.json()) as Record<string, Record<string, string>>;
    return {
      received: Number(m['SOURCE.kafka']?.EventReceivedCount ?? 0),
      drained: Number(m['SINK.hdfs']?.EventDrainSuccessCount ?? 0),
    };
  } catch {
    return null; // not listening yet
  }
}

async function waitForDrain(
  child: ChildProcess,
  port: number,
  count: number,
  stderr: () => string,
): Promise<{ startMs: number; endMs: number }> {
  let startMs: number | undefined;
  let lastDrained = 0;
  let lastProgressMs = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`flume exited with ${child.exitCode ?? child.signalCode}:\n${stderr()}`);
    const c = await readCounters(port);
    const now = Date.now();
    if (c) {
      if (startMs === undefined && c.received > 0) startMs = now;
      if (c.drained >= count && startMs !== undefined) return { startMs, endMs: now };
      if (c.drained > lastDrained) {
        lastDrained = c.drained;
        lastProgressMs = now;
      }
    }
    if (now - lastProgressMs > STALL_MS)
      throw new Error(
        `flume drained ${lastDrained} of ${count} events and none for ${STALL_MS / 1000} s (see its log in the bench's work dir)`,
      );
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** SIGTERM runs Flume's shutdown hook, which closes (and renames) the open files; SIGKILL after a minute. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await exited.finally(() => clearTimeout(killer));
}

async function countLines(
  ctx: BenchContext,
  root: string,
  gzip: boolean,
): Promise<{ lines: number; files: number; bytes: number }> {
  const client = new WebHdfsClient({ urls: ctx.config.hdfs.webhdfs, user: ctx.config.hdfs.user });
  const total = { lines: 0, files: 0, bytes: 0 };
  try {
    const walk = async (path: string): Promise<void> => {
      for (const s of await client.listStatus(path)) {
        const child = `${path}/${s.pathSuffix}`;
        if (s.type === 'DIRECTORY') {
          await walk(child);
          continue;
        }
        total.files += 1;
        total.bytes += s.length;
        // Whole files (at most the 128 MiB roll size): streaming the body through a gunzip that pushes back
        // tripped an assertion in undici when the socket ended while paused.
        const stored = await client.readAll(child);
        const text = gzip ? gunzipSync(stored) : stored;
        for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) total.lines += 1;
      }
    };
    await walk(root);
    return total;
  } finally {
    await client.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, 'localhost', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
