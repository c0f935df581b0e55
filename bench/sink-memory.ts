/**
 * The sink process's memory, for comparing checkouts (before/after a change) on one topic: fills a fresh topic with
 * N synthetic tweets once (or fills $SINK_MEM_TOPIC once and leaves it for the next runs), then runs `tweetpipe sink` of each checkout
 * for each case, alternating, each with a fresh group and HDFS folder, and prints its peak RSS (VmHWM), what
 * process.memoryUsage() and V8's heap spaces held at the highest sampled RSS (bench/memory-sampler.ts), the array
 * buffers live after its major GCs (median and highest), and its CPU per tweet (as bench/sink-process-cpu.ts takes it).
 *
 *   node_modules/.bin/node bench/sink-memory.ts [tweets=300000] [cases=jsonl,jsonl.gz,parquet,jsonl.gz+folders] \
 *     [checkout dirs, default this one]
 *
 * A case is a format, optionally with `+folders`: field partitioning into 100 folders (`--granularity day
 * --partition-fields public_metrics.reply_count`, which takes 100 values in the synthetic stream). Extra node flags
 * for the sink: $SINK_MEM_NODE_FLAGS.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebHdfsClient } from '../src/hdfs/webhdfs.ts';
import { createAdmin, describeTopic } from '../src/kafka/admin.ts';
import { kafkaConnection } from '../src/kafka/client-options.ts';
import { readHighWaterMark } from './cli.ts';
import type { BenchContext } from './context.ts';
import { produceSynthetic } from './produce.ts';
import { acquireStack } from './stack.ts';
import { createBenchTopic } from './topics.ts';

const tweets = Number(process.argv[2] ?? 300_000);
const cases = (process.argv[3] ?? 'jsonl,jsonl.gz,parquet,jsonl.gz+folders').split(',');
const checkouts = process.argv.length > 4 ? process.argv.slice(4) : [process.cwd()];
const NODE = process.execPath;
const TICKS_PER_S = 100;
const SAMPLER = new URL('./memory-sampler.ts', import.meta.url).pathname;
const FOLDERS_ARGS = ['--granularity', 'day', '--partition-fields', 'public_metrics.reply_count'];
const nodeFlags = (process.env.SINK_MEM_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');

const runId = `sinkmem-${Date.now().toString(36)}`;
const reusedTopic = process.env.SINK_MEM_TOPIC;
const topic = reusedTopic ?? `${runId}-sink`;
const hdfsRoot = `/tweetpipe-bench/${runId}`;
const workDir = mkdtempSync(join(tmpdir(), 'tweetpipe-sinkmem-'));

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

const mib = (bytes: number | undefined) => ((bytes ?? 0) / 2 ** 20).toFixed(0);

async function sinkMemory(checkout: string, kase: string, n: number): Promise<string> {
  const [format, extra] = kase.split('+');
  const out = join(workDir, `${n}.json`);
  const child = spawn(
    NODE,
    [
      ...nodeFlags,
      '--import',
      SAMPLER,
      `${checkout}/bin/tweetpipe.js`,
      'sink',
      ...['--topic', topic, '--group', `${runId}-${n}`, '--hdfs-dir', `${hdfsRoot}/${n}`],
      ...['--format', format!, '--exit-when-idle', '3'],
      ...(extra === 'folders' ? FOLDERS_ARGS : []),
    ],
    { cwd: checkout, stdio: ['ignore', 'pipe', 'pipe'], env: { ...childEnv, SINK_MEM_OUT: out } },
  );
  let first: number | undefined;
  let last: number | undefined;
  let hwm = 0;
  const sampler = setInterval(async () => {
    hwm = Math.max(hwm, (await readHighWaterMark(child.pid)) ?? 0);
  }, 100);
  const onLine = (line: string) => {
    if (line.includes('"partitions opened"') && first === undefined) first = cpuSeconds(child.pid!);
    if (line.includes('"window committed"')) last = cpuSeconds(child.pid!);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  if (code !== 0 || first === undefined || last === undefined)
    throw new Error(`tweetpipe sink of ${checkout} (${kase}) exited with ${code}`);
  const { atPeak: p, liveAfterMajorGc: live } = JSON.parse(readFileSync(out, 'utf8')) as {
    atPeak: Record<string, number>;
    liveAfterMajorGc: number[];
  };
  live.sort((a, b) => a - b);
  const young = (p['new_space.size'] ?? 0) + (p['new_large_object_space.size'] ?? 0);
  const old = (p.heapTotal ?? 0) - young;
  return [
    `peak RSS ${mib(hwm)} MiB`,
    `${(((last - first) * 1e6) / tweets).toFixed(1)} us CPU/tweet`,
    `at the highest sample: rss ${mib(p.rss)}, heap ${mib(p.heapTotal)} (young ${mib(young)}, old+code+lo ${mib(old)}, used ${mib(p.heapUsed)}),`,
    `external ${mib(p.external)} (arrayBuffers ${mib(p.arrayBuffers)}), rest ${mib((p.rss ?? 0) - (p.heapTotal ?? 0) - (p.external ?? 0))} MiB`,
    `arrayBuffers after the ${live.length} major GCs: median ${mib(live[live.length >> 1])}, max ${mib(live.at(-1))} MiB`,
  ].join('; ');
}

const say = (line: string) => console.log(line);
const stack = await acquireStack(say);
const config = stack.config;
const childEnv = Object.fromEntries(
  Object.entries({ ...process.env, ...stack.env }).filter((e): e is [string, string] => e[1] !== undefined),
);
const ctx: BenchContext = { config, env: stack.env, runId, workDir, hdfsRoot, say };
const admin = createAdmin(kafkaConnection(config, 'bench'));
const exists = reusedTopic !== undefined && (await describeTopic(admin, topic)) !== null;
await admin.close().catch(() => {});
if (!exists) {
  await createBenchTopic(ctx, topic);
  await produceSynthetic(ctx, 'fill', topic, tweets);
}
console.log(`${topic}: ${tweets} tweets; load average ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
let n = 0;
try {
  for (const kase of cases)
    for (const checkout of checkouts) {
      const figures = await sinkMemory(checkout, kase, ++n);
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
      console.log(`${kase.padEnd(16)} ${figures}  ${checkout}  (load ${load})`);
    }
} finally {
  const hdfs = new WebHdfsClient({ urls: config.hdfs.webhdfs, user: config.hdfs.user });
  await hdfs.delete(hdfsRoot, { recursive: true }).catch(() => {});
  await hdfs.close();
  if (!reusedTopic) {
    const admin = createAdmin(kafkaConnection(config, 'bench'));
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.close().catch(() => {});
  }
  await stack.release();
}
