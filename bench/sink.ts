/**
 * Benchmark 2, sink: `tweetpipe sink --exit-when-idle` over a topic of synthetic tweets, once per format (fresh group
 * and HDFS directory each), beside two ceilings measured in the same run: ConsumerPerformance reading the same
 * messages, and a raw WebHDFS write of the bytes that format wrote. A format's ratio is against the lower of the two.
 *
 * The sink's time comes from its JSON logs: from the first 'partitions opened' (logged when the first records of a
 * partition arrive) to the last 'window committed', minus the idle wait, since the sink commits its last windows
 * only once it has seen no record for --exit-when-idle seconds. That wait is 10 s, not 2: the sink counts the time
 * it spends writing and committing a batch as idle, so on a busy machine a short wait ends it before the topic is
 * drained (seen here at 780,000 of 1,000,000 with 2 s). A run that writes fewer tweets than the topic holds is
 * reported as failed, and the other formats still run.
 */

import { TweetpipeError } from '../src/errors.ts';
import { WebHdfsClient } from '../src/hdfs/webhdfs.ts';
import type { FormatName } from '../src/sink/formats/format.ts';
import { consumerPerformance, type RawWriteResult, rawWebHdfsWrite, type Throughput } from './ceilings.ts';
import { logTime, runCpu, runTweetpipe } from './cli.ts';
import { type BenchContext, MB } from './context.ts';
import type { RunCpu } from './cpu-usage.ts';
import { type ProduceRun, produceSynthetic } from './produce.ts';

const SINK_FORMATS: readonly FormatName[] = ['jsonl', 'jsonl.gz', 'parquet'];
const IDLE_S = 10;

/** Fills a fresh topic with `count` synthetic tweets (tweetpipe produce; its throughput is kept as a second look). */
export async function fillSinkTopic(
  ctx: BenchContext,
  count: number,
): Promise<{ topic: string; fill: ProduceRun }> {
  const topic = `bench-${ctx.runId}-sink`;
  ctx.say(`sink: filling ${topic} with ${count} synthetic tweets (tweetpipe produce)`);
  return { topic, fill: await produceSynthetic(ctx, 'fill', topic, count) };
}

export interface SinkFigures extends Throughput {
  format: FormatName;
  bytesWritten: number;
  wallS: number;
  peakRssBytes: number | null;
  /** CPU use between the first records and the last commit before the idle wait. */
  cpu: RunCpu | null;
  cpuProfile?: string;
}

export interface FormatBench {
  tweetpipe: SinkFigures;
  /** Raw WebHDFS write of the bytes this format wrote. */
  raw: RawWriteResult & { tweetsPerS: number };
  ceiling: { tweetsPerS: number; which: 'ConsumerPerformance' | 'raw WebHDFS write' };
  ratio: number;
}

export interface FormatFailure {
  format: FormatName;
  failed: string;
}

export interface SinkBench {
  topic: string;
  records: number;
  consumerPerf: Throughput;
  formats: (FormatBench | FormatFailure)[];
}

export async function benchSink(
  ctx: BenchContext,
  topic: string,
  count: number,
  rawContent: Buffer,
): Promise<SinkBench> {
  // First, so every sink run below reads the topic from a warm page cache alike.
  ctx.say(`sink: ConsumerPerformance reading ${count} messages of ${topic}`);
  const consumerPerf = await consumerPerformance(ctx, topic, count);
  const formats: (FormatBench | FormatFailure)[] = [];
  for (const format of SINK_FORMATS) {
    ctx.say(`sink: tweetpipe sink --format ${format}`);
    let tweetpipe: SinkFigures;
    try {
      tweetpipe = await sinkOnce(ctx, topic, count, format);
    } catch (err) {
      ctx.say(`sink: ${format} failed: ${(err as Error).message}`);
      formats.push({ format, failed: (err as Error).message });
      continue;
    }
    ctx.say(`sink: raw WebHDFS write of the ${(tweetpipe.bytesWritten / MB).toFixed(0)} MB ${format} wrote`);
    const raw = await rawWebHdfsWrite(
      ctx,
      `${ctx.hdfsRoot}/raw-${format}`,
      tweetpipe.bytesWritten,
      rawContent,
    );
    const rawTweetsPerS = count / raw.seconds;
    const ceiling =
      rawTweetsPerS < consumerPerf.tweetsPerS
        ? { tweetsPerS: rawTweetsPerS, which: 'raw WebHDFS write' as const }
        : { tweetsPerS: consumerPerf.tweetsPerS, which: 'ConsumerPerformance' as const };
    formats.push({
      tweetpipe,
      raw: { ...raw, tweetsPerS: rawTweetsPerS },
      ceiling,
      ratio: tweetpipe.tweetsPerS / ceiling.tweetsPerS,
    });
  }
  return { topic, records: count, consumerPerf, formats };
}

async function sinkOnce(
  ctx: BenchContext,
  topic: string,
  count: number,
  format: FormatName,
): Promise<SinkFigures> {
  const dir = `${ctx.hdfsRoot}/sink-${format}`;
  const run = await runTweetpipe(
    ctx,
    `sink-${format}`,
    [
      'sink',
      '--topic',
      topic,
      '--group',
      `bench-${ctx.runId}-sink-${format}`,
      '--hdfs-dir',
      dir,
      '--format',
      format,
      '--exit-when-idle',
      String(IDLE_S),
    ],
    30 * 60_000,
  );
  const written = run.logs.find((l) => l.msg === 'sink stopped')?.written;
  if (written !== count)
    throw new TweetpipeError(
      'INTERNAL',
      `tweetpipe sink --format ${format} should have written ${count} tweets; it says ${String(written)}`,
    );
  const opened = logTime(run.logs, 'partitions opened', 'first');
  const seconds = (logTime(run.logs, 'window committed', 'last') - opened) / 1000 - IDLE_S;
  const bytesWritten = await committedBytes(ctx, `${dir}/${topic}`);
  return {
    format,
    records: count,
    seconds,
    tweetsPerS: count / seconds,
    mbPerS: bytesWritten / MB / seconds,
    bytesWritten,
    wallS: run.wallS,
    peakRssBytes: run.peakRssBytes,
    cpu: runCpu(ctx, run, opened, opened + seconds * 1000, count),
    ...(run.cpuProfile ? { cpuProfile: run.cpuProfile } : {}),
  };
}

/** Bytes of the committed files (the topic's directory; temp files and manifests live beside it). */
async function committedBytes(ctx: BenchContext, path: string): Promise<number> {
  const client = new WebHdfsClient({ urls: ctx.config.hdfs.webhdfs, user: ctx.config.hdfs.user });
  try {
    return (await client.getContentSummary(path)).length;
  } finally {
    await client.close();
  }
}
