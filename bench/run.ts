/**
 * `npm run bench`: tweetpipe's throughput beside ceilings and a baseline measured in the same run on the same local
 * stack (started here when it is not running, and then stopped again). Prints a table (figure, ceiling, ratio, goal
 * met) and writes test-artifacts/bench.json. Benchmarks report; they never fail on a slow figure.
 * docs/benchmarks.md describes the method and holds the figures of a full run.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TweetpipeError } from '../src/errors.ts';
import { stackStatus } from '../src/stack/stack.ts';
import { removeRunArtifacts } from './cleanup.ts';
import type { BenchContext } from './context.ts';
import { formatProfile, summarizeCpuProfile } from './cpu-profile.ts';
import { CpuMeter } from './cpu-usage.ts';
import { benchFlume } from './flume.ts';
import { benchProduce } from './produce.ts';
import { benchPython } from './python-baseline.ts';
import { type BenchResults, buildRows, formatDetails, formatTable, writeResults } from './report.ts';
import { benchSink, fillSinkTopic } from './sink.ts';
import { acquireStack } from './stack.ts';
import { sampleSynthetic } from './synthetic-sample.ts';

const USAGE = `usage: npm run bench -- [options]
  --quick                 small counts, for a smoke run
  --only <what>           produce | sink | python | flume (default: all four)
  --produce-count <n>     tweets for the produce benchmark (default 300000; --quick 20000)
  --sink-count <n>        tweets in the sink topic (default 1000000; --quick 50000)
  --python-records <n>    the Python baseline stops after this many records (default 100000; --quick 5000)
  --python-seconds <s>    ... or after this many seconds (default 60; --quick 15)
  --skip-flume            leave out Apache Flume (two runs over the sink topic; the slowest part of the bench)
  --cpu-prof              profile the tweetpipe processes (test-artifacts/bench-profiles) and print their hotspots
  --keep                  keep the run's topics, groups and HDFS files`;

const ONLY = ['produce', 'sink', 'python', 'flume'] as const;
type Only = (typeof ONLY)[number];
const RESULTS_FILE = 'test-artifacts/bench.json';
const PROFILE_DIR = resolve('test-artifacts/bench-profiles');
const SAMPLE_RECORDS = 20_000;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'produce-count': { type: 'string' },
      'sink-count': { type: 'string' },
      'python-records': { type: 'string' },
      'python-seconds': { type: 'string' },
      'skip-flume': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.only !== undefined && !ONLY.includes(values.only as Only))
    throw new TweetpipeError('USAGE', `--only must be one of ${ONLY.join(', ')}\n${USAGE}`);
  const count = (flag: keyof typeof values, full: number, quick: number): number => {
    const raw = values[flag];
    if (raw === undefined) return values.quick ? quick : full;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0)
      throw new TweetpipeError('USAGE', `--${flag} must be a positive integer, got ${String(raw)}`);
    return n;
  };
  return {
    quick: values.quick,
    only: values.only as Only | undefined,
    produceCount: count('produce-count', 300_000, 20_000),
    sinkCount: count('sink-count', 1_000_000, 50_000),
    pythonRecords: count('python-records', 100_000, 5_000),
    pythonSeconds: count('python-seconds', 60, 15),
    skipFlume: values['skip-flume'],
    cpuProf: values['cpu-prof'],
    keep: values.keep,
  };
}

const say = (line: string) => process.stdout.write(`[bench] ${line}\n`);

async function main(): Promise<void> {
  const opts = options();
  const runs = (what: Only) =>
    opts.only === undefined ? !(what === 'flume' && opts.skipFlume) : opts.only === what;
  const cpu = os.cpus();
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? 'unknown',
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      kernel: `${os.type()} ${os.release()}`,
      node: process.version,
    },
    load: { before: os.loadavg() },
    options: opts,
  };
  say(
    `load average before: ${results.load.before.map((l) => l.toFixed(2)).join(' ')} on ${cpu.length} cores`,
  );

  if (opts.cpuProf) {
    await rm(PROFILE_DIR, { recursive: true, force: true });
    await mkdir(PROFILE_DIR, { recursive: true });
  }
  const stack = await acquireStack(say);
  const servers = (await stackStatus(stack.config)).servers;
  const cpuMeter = new CpuMeter(Object.fromEntries(servers.map((s) => [s.name, s.pid])));
  const runId = Date.now().toString(36);
  const ctx: BenchContext = {
    config: stack.config,
    env: stack.env,
    runId,
    workDir: await mkdtemp(join(os.tmpdir(), 'tweetpipe-bench-')),
    hdfsRoot: `/tweetpipe-bench/${runId}`,
    cpuProfDir: opts.cpuProf ? PROFILE_DIR : undefined,
    cpu: cpuMeter,
    say,
  };
  try {
    const sample =
      runs('produce') || runs('sink') ? await sampleSynthetic(ctx.workDir, SAMPLE_RECORDS) : undefined;
    if (sample) results.sample = { records: sample.records, avgValueBytes: sample.avgValueBytes };
    if (runs('produce') && sample) results.produce = await benchProduce(ctx, opts.produceCount, sample);
    if (runs('sink') || runs('python') || runs('flume')) {
      const { topic, fill } = await fillSinkTopic(ctx, opts.sinkCount);
      results.sinkFill = fill;
      if (runs('sink') && sample) results.sink = await benchSink(ctx, topic, opts.sinkCount, sample.jsonl);
      if (runs('python'))
        results.python = await benchPython(ctx, topic, {
          records: opts.pythonRecords,
          seconds: opts.pythonSeconds,
        });
      if (runs('flume')) results.flume = await benchFlume(ctx, topic, opts.sinkCount);
    }
  } finally {
    cpuMeter.stop();
    if (!opts.keep) await removeRunArtifacts(ctx);
    await stack.release();
  }
  results.load.after = os.loadavg();

  if (ctx.cpuProfDir) {
    const files = (await readdir(ctx.cpuProfDir)).filter((f) => f.endsWith('.cpuprofile'));
    results.profiles = await Promise.all(files.map((f) => summarizeCpuProfile(join(ctx.cpuProfDir!, f))));
  }
  results.rows = buildRows(results);
  await writeResults(RESULTS_FILE, results);

  console.log(`\n${formatTable(results.rows)}\n\n${formatDetails(results)}`);
  for (const p of results.profiles ?? []) console.log(`\n${formatProfile(p)}`);
  console.log(
    `\nload average before ${results.load.before.map((l) => l.toFixed(2)).join(' ')}, after ${results.load.after.map((l) => l.toFixed(2)).join(' ')} (${cpu.length} cores; above ~${cpu.length} the machine was shared)`,
  );
  console.log(`results: ${RESULTS_FILE}`);
}

try {
  await main();
} catch (err) {
  console.error(err instanceof TweetpipeError ? `bench: ${err.message}` : err);
  process.exit(err instanceof TweetpipeError && err.code === 'USAGE' ? 2 : 1);
}
