/**
 * Benchmark 1, produce: `tweetpipe produce --source synthetic`, and `--source replay` of an NDJSON archive of the same
 * tweets, each into a fresh topic, beside Kafka's ProducerPerformance with the same record count and values. tweetpipe's time is the produce loop's own (its summary: from the
 * source's first read to the last Kafka ack), which leaves out process start-up and topic creation, as
 * ProducerPerformance's figure does.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { TweetpipeError } from '../src/errors.ts';
import { syntheticStartMs } from '../src/sources/synthetic-batch.ts';
import { SyntheticTweets } from '../src/sources/synthetic-payloads.ts';
import { producerPerformance, type Throughput } from './ceilings.ts';
import { runCpu, runTweetpipe } from './cli.ts';
import { type BenchContext, MB } from './context.ts';
import type { RunCpu } from './cpu-usage.ts';
import { readSynthetic, SYNTHETIC_SEED, type SyntheticSample } from './synthetic-sample.ts';
import { createBenchTopic } from './topics.ts';

export interface ProduceRun {
  produced: number;
  seconds: number;
  wallS: number;
  peakRssBytes: number | null;
  /** CPU use during the produce loop. */
  cpu: RunCpu | null;
  cpuProfile?: string;
}

/** Runs `tweetpipe produce --source synthetic --max-tweets count` into the fresh `topic` (see topics.ts). */
export const produceSynthetic = (ctx: BenchContext, label: string, topic: string, count: number) =>
  runProduce(ctx, label, topic, count, [
    '--source',
    'synthetic',
    '--seed',
    String(SYNTHETIC_SEED),
    '--max-tweets',
    String(count),
  ]);

/**
 * Writes an NDJSON archive of `count` filtered-stream lines (v2 payloads: data, includes, matching_rules) of the
 * benchmarks' synthetic stream, the input `tweetpipe produce --source replay` reads. Their records are the bytes
 * the synthetic produce sends (only `_ingest` differs), so the two share ProducerPerformance's ceiling.
 */
export async function writeReplayArchive(file: string, count: number): Promise<number> {
  const tweets = new SyntheticTweets({ seed: SYNTHETIC_SEED, startTimeMs: syntheticStartMs(count) });
  const out = createWriteStream(file);
  const now = Date.now();
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const line = `${JSON.stringify({ ...tweets.nextTweet(undefined, now), matching_rules: REPLAY_RULES })}\n`;
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  return bytes;
}

const REPLAY_RULES = [{ id: '1', tag: 'synthetic' }];

/** Runs `tweetpipe produce --source replay --pace max` of `file` (of `count` payloads) into the fresh `topic`. */
const produceReplay = (ctx: BenchContext, topic: string, file: string, count: number) =>
  runProduce(ctx, 'replay', topic, count, ['--source', 'replay', '--file', file, '--pace', 'max']);

/** Runs `tweetpipe produce <sourceArgs>` into the fresh `topic`; the source must yield exactly `count` tweets. */
async function runProduce(
  ctx: BenchContext,
  label: string,
  topic: string,
  count: number,
  sourceArgs: string[],
): Promise<ProduceRun> {
  await createBenchTopic(ctx, topic);
  const run = await runTweetpipe(
    ctx,
    label,
    ['produce', ...sourceArgs, '--topic', topic, '--state-dir', `${ctx.workDir}/producer-state-${label}`],
    30 * 60_000,
  );
  const summaryLine = run.logs.find((l) => typeof l.summary === 'object' && l.summary !== null);
  const summary = summaryLine?.summary as { produced: number; seconds: number } | undefined;
  if (!summary || summary.produced !== count)
    throw new TweetpipeError(
      'INTERNAL',
      `tweetpipe produce ${sourceArgs.join(' ')} into ${topic} should have produced ${count} tweets; its summary says ${JSON.stringify(summary)}`,
    );
  const end = typeof summaryLine?.time === 'number' ? summaryLine.time : Date.now();
  return {
    produced: summary.produced,
    seconds: summary.seconds,
    wallS: run.wallS,
    peakRssBytes: run.peakRssBytes,
    cpu: runCpu(ctx, run, end - summary.seconds * 1000, end, summary.produced),
    ...(run.cpuProfile ? { cpuProfile: run.cpuProfile } : {}),
  };
}

export interface SyntheticAlone {
  records: number;
  seconds: number;
  tweetsPerS: number;
  /** CPU microseconds per tweet, all threads of the reading process (the generator runs on a worker thread). */
  usPerTweet: number;
}

/**
 * The synthetic source on its own, in this process: the generator and the payload -> record mapping that
 * `tweetpipe produce --source synthetic` runs, read as fast as it goes, with no Kafka. The issue asks it to reach
 * 50,000 tweets/s; this is where that is measured.
 */
export async function benchSyntheticAlone(count: number): Promise<SyntheticAlone> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let records = 0;
  await readSynthetic(count, (tweets) => {
    records += tweets.length;
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { records, seconds, tweetsPerS: records / seconds, usPerTweet: (cpu.user + cpu.system) / records };
}

export interface ProduceBench {
  records: number;
  avgValueBytes: number;
  syntheticAlone: SyntheticAlone;
  tweetpipe: Throughput & {
    wallS: number;
    peakRssBytes: number | null;
    cpu: RunCpu | null;
    cpuProfile?: string;
  };
  /** `tweetpipe produce --source replay --pace max` of an NDJSON archive of the same tweets. */
  replay: Throughput & {
    archiveBytes: number;
    wallS: number;
    peakRssBytes: number | null;
    cpu: RunCpu | null;
    cpuProfile?: string;
  };
  ceiling: Throughput & { props: string[]; cpu: RunCpu | null };
  ratio: number;
  replayRatio: number;
}

const asThroughput = (run: ProduceRun, avgValueBytes: number) => {
  const { produced, seconds, ...rest } = run;
  const tweetsPerS = produced / seconds;
  return { records: produced, seconds, tweetsPerS, mbPerS: (tweetsPerS * avgValueBytes) / MB, ...rest };
};

export async function benchProduce(
  ctx: BenchContext,
  count: number,
  sample: SyntheticSample,
): Promise<ProduceBench> {
  ctx.say(`produce: the synthetic source alone, ${count} tweets, no Kafka`);
  const syntheticAlone = await benchSyntheticAlone(count);
  ctx.say(`produce: tweetpipe produce of ${count} synthetic tweets into a fresh topic`);
  const tweetpipe = asThroughput(
    await produceSynthetic(ctx, 'produce', `bench-${ctx.runId}-produce`, count),
    sample.avgValueBytes,
  );
  const archive = join(ctx.workDir, 'replay-archive.ndjson');
  const archiveBytes = await writeReplayArchive(archive, count);
  ctx.say(
    `produce: tweetpipe produce --source replay of ${count} payloads (${(archiveBytes / MB).toFixed(0)} MB)`,
  );
  const replay = {
    ...asThroughput(
      await produceReplay(ctx, `bench-${ctx.runId}-replay`, archive, count),
      sample.avgValueBytes,
    ),
    archiveBytes,
  };
  ctx.say(
    `produce: ProducerPerformance of ${count} records of ${sample.avgValueBytes.toFixed(0)} bytes on average`,
  );
  const ceiling = await producerPerformance(
    ctx,
    `bench-${ctx.runId}-producer-perf`,
    count,
    sample.payloadFile,
    sample.avgValueBytes,
  );
  return {
    records: count,
    avgValueBytes: sample.avgValueBytes,
    syntheticAlone,
    tweetpipe,
    replay,
    ceiling,
    ratio: tweetpipe.tweetsPerS / ceiling.tweetsPerS,
    replayRatio: replay.tweetsPerS / ceiling.tweetsPerS,
  };
}
