/**
 * The ceilings tweetpipe is compared with, measured in the same run on the same stack: Kafka's own
 * ProducerPerformance and ConsumerPerformance (the Java clients, from the stack's jars), and a raw WebHDFS write of a
 * given number of bytes with nothing else to do.
 */

import { TweetpipeError } from '../src/errors.ts';
import { WebHdfsClient } from '../src/hdfs/webhdfs.ts';
import { runKafkaTool } from '../src/stack/kafka-tools.ts';
import { type BenchContext, MB } from './context.ts';
import type { RunCpu } from './cpu-usage.ts';
import { createBenchTopic } from './topics.ts';

export interface Throughput {
  records: number;
  seconds: number;
  tweetsPerS: number;
  mbPerS: number;
}

/** Kafka prints MB as 1024 * 1024 bytes; the tables use decimal MB. */
const KAFKA_MB = 1024 * 1024;

/**
 * The producer settings of the ceiling besides the ones the brief fixes (acks=all, zstd, idempotence): batches in the
 * same league as tweetpipe's, which sends a whole source batch (1,000 tweets, ~2 MB) per request. With Kafka's
 * default 16 KB batches and 5 ms linger the ceiling would understate what the broker takes.
 */
function producerProps(ctx: BenchContext): string[] {
  return [
    `bootstrap.servers=${ctx.config.kafka.brokers.join(',')}`,
    'acks=all',
    `compression.type=${ctx.config.producer.compression}`,
    // The level tweetpipe compresses at (Kafka's default is 3).
    `compression.zstd.level=${ctx.config.producer.zstdLevel}`,
    'enable.idempotence=true',
    'linger.ms=20',
    'batch.size=1048576',
  ];
}

/** ProducerPerformance into a fresh topic (made like tweetpipe's), values drawn from `payloadFile`. */
export async function producerPerformance(
  ctx: BenchContext,
  topic: string,
  records: number,
  payloadFile: string,
  avgValueBytes: number,
): Promise<Throughput & { props: string[]; cpu: RunCpu | null }> {
  await createBenchTopic(ctx, topic);
  const props = producerProps(ctx);
  const label = `ProducerPerformance-${topic}`;
  const { stdout } = await runKafkaTool(
    ctx.config,
    'org.apache.kafka.tools.ProducerPerformance',
    [
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--throughput',
      '-1',
      '--payload-file',
      payloadFile,
      '--producer-props',
      ...props,
    ],
    600_000,
    (pid) => ctx.cpu?.track(label, pid),
  );
  const exitedAt = Date.now();
  const totals = [...stdout.matchAll(/^(\d+) records sent, ([\d.]+) records\/sec/gm)].at(-1);
  if (!totals) throw toolOutputError('ProducerPerformance', stdout);
  const tweetsPerS = Number(totals[2]);
  const seconds = Number(totals[1]) / tweetsPerS;
  return {
    records: Number(totals[1]),
    seconds,
    tweetsPerS,
    mbPerS: (tweetsPerS * avgValueBytes) / MB,
    props,
    // Its figures cover the sends; it prints them when the sends are done and exits right after.
    cpu: ctx.cpu?.measure(label, 'ProducerPerformance', exitedAt - seconds * 1000, exitedAt, records) ?? null,
  };
}

/**
 * ConsumerPerformance reading `records` messages of `topic` from the beginning. Its fetch figures are used: they
 * leave out the group join, as the sink's figures leave out its start-up.
 */
export async function consumerPerformance(
  ctx: BenchContext,
  topic: string,
  records: number,
): Promise<Throughput> {
  const { stdout } = await runKafkaTool(
    ctx.config,
    'org.apache.kafka.tools.ConsumerPerformance',
    [
      '--bootstrap-server',
      ctx.config.kafka.brokers.join(','),
      '--topic',
      topic,
      '--messages',
      String(records),
      '--group',
      `bench-${ctx.runId}-consumer-perf`,
      '--timeout',
      '30000',
    ],
    600_000,
  );
  // start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const row = stdout
    .split('\n')
    .map((l) => l.split(',').map((f) => f.trim()))
    .find((f) => f.length === 10 && /^\d{4}-/.test(f[0] ?? ''));
  if (!row) throw toolOutputError('ConsumerPerformance', stdout);
  const [, , , , nMsg, , , fetchMs, fetchMbPerS, fetchMsgPerS] = row.map(Number) as number[];
  return {
    records: nMsg ?? 0,
    seconds: (fetchMs ?? 0) / 1000,
    tweetsPerS: fetchMsgPerS ?? 0,
    mbPerS: ((fetchMbPerS ?? 0) * KAFKA_MB) / MB,
  };
}

export interface RawWriteResult {
  bytes: number;
  files: number;
  seconds: number;
  mbPerS: number;
}

const RAW_FILE_BYTES = 128 * 1024 * 1024;
const RAW_CHUNK_BYTES = 1024 * 1024;

/**
 * Streams `bytes` bytes to HDFS with WebHdfsClient.create, in 128 MiB files one after the other (faster here than
 * three in parallel), the content cycling through `content` (HDFS stores bytes as they come, so what they are does
 * not change the cost). The files are deleted afterwards.
 */
export async function rawWebHdfsWrite(
  ctx: BenchContext,
  dir: string,
  bytes: number,
  content: Buffer,
): Promise<RawWriteResult> {
  const client = new WebHdfsClient({
    urls: ctx.config.hdfs.webhdfs,
    user: ctx.config.hdfs.user,
    timeoutMs: ctx.config.hdfs.timeoutMs,
  });
  const chunk = content.subarray(0, RAW_CHUNK_BYTES);
  async function* body(size: number): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < size; sent += chunk.length)
      yield chunk.subarray(0, Math.min(chunk.length, size - sent));
  }
  try {
    await client.mkdirs(dir);
    const t0 = performance.now();
    let files = 0;
    for (let written = 0; written < bytes; written += RAW_FILE_BYTES) {
      await client.create(`${dir}/raw-${files++}`, body(Math.min(RAW_FILE_BYTES, bytes - written)));
    }
    const seconds = (performance.now() - t0) / 1000;
    return { bytes, files, seconds, mbPerS: bytes / MB / seconds };
  } finally {
    await client.delete(dir, { recursive: true }).catch(() => false);
    await client.close();
  }
}

function toolOutputError(tool: string, stdout: string): TweetpipeError {
  return new TweetpipeError(
    'INTERNAL',
    `could not read the figures in ${tool}'s output:\n${stdout.slice(-2000)}`,
  );
}
