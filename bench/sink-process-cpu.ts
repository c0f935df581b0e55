/**
 * The sink process's CPU per tweet against the running local stack, for comparing checkouts (before/after a change)
 * on one topic: fills a fresh topic with N synthetic tweets once (tweetpipe produce), then runs `tweetpipe sink`
 * of each checkout, alternating, for each format and round, each with a fresh group and HDFS folder. CPU is the
 * process's (all threads, /proc/<pid>/stat) from its first `partitions opened` log line to its last `window
 * committed`, as `npm run bench` takes it; start-up and the idle wait are left out. CPU, not wall time: the
 * machine is shared. Deletes its topic and folders at the end.
 *
 *   node_modules/.bin/node bench/sink-process-cpu.ts [tweets=200000] [formats=jsonl,jsonl.gz,parquet] [rounds=2] \
 *     [checkout dirs, default this one]
 *
 * With SINK_CPU_PROF=<dir> in the environment each sink process also writes a V8 CPU profile there. A checkout may
 * carry extra sink flags after a `+`: `/work/main+--workers+2` runs that checkout's sink with `--workers 2`, and
 * `NAME=value` extras set its environment (`/work/main+MALLOC_MMAP_THRESHOLD_=131072`) and `node:` extras are flags
 * of node itself (`/work/main+node:--single-threaded-gc`), so two settings of one checkout alternate like two
 * checkouts. Each line also gives the sink's tweets/s over the same
 * interval (wall time: on a shared machine, read it beside the load), and the CPU per tweet of each thread (by its
 * name: the main thread, V8's GC helpers, libuv's pool).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebHdfsClient } from '../src/hdfs/webhdfs.ts';
import { createAdmin } from '../src/kafka/admin.ts';
import { kafkaConnection } from '../src/kafka/client-options.ts';
import type { BenchContext } from './context.ts';
import { produceSynthetic } from './produce.ts';
import { acquireStack } from './stack.ts';
import { createBenchTopic } from './topics.ts';

const tweets = Number(process.argv[2] ?? 200_000);
const formats = (process.argv[3] ?? 'jsonl,jsonl.gz,parquet').split(',');
const rounds = Number(process.argv[4] ?? 2);
const checkouts = process.argv.length > 5 ? process.argv.slice(5) : [process.cwd()];
const NODE = process.execPath;
const TICKS_PER_S = 100;
const profileDir = process.env.SINK_CPU_PROF;

const runId = `sinkcpu-${Date.now().toString(36)}`;
const topic = `${runId}-sink`;
const hdfsRoot = `/tweetpipe-bench/${runId}`;

/** CPU seconds of a process so far, all threads (utime + stime). */
function cpuSeconds(pid: number | string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

/** CPU seconds per thread name so far (V8's GC helpers, libuv's pool, the main thread...), all threads of `pid`. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const seconds = cpuSeconds(`${pid}/task/${tid}`);
      out.set(name, (out.get(name) ?? 0) + seconds);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** The process's peak resident set so far (VmHWM), MiB. */
function peakRssMiB(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) / 1024;
}

/** us per tweet by thread name between two samples, largest first, as `name us, ...`. */
function threadShares(before: Map<string, number>, after: Map<string, number>): string {
  return [...after]
    .map(([name, s]) => [name, ((s - (before.get(name) ?? 0)) * 1e6) / tweets] as const)
    .filter(([, us]) => us >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => `${name} ${us.toFixed(1)}`)
    .join(', ');
}

/** CPU per tweet (us) and tweets/s of one sink run, from its first `partitions opened` to its last `window committed`. */
async function sinkCpu(
  run: string,
  format: string,
  n: number,
): Promise<{ us: number; tweetsPerS: number; threads: string; peakMiB: number }> {
  const [checkout = run, ...extras] = run.split('+');
  // NAME=value extras are environment variables of that run (NODE_OPTIONS=..., MALLOC_MMAP_THRESHOLD_=...).
  const isEnv = (e: string) => /^[A-Z_]+=/.test(e);
  // node:--flag extras are flags of node itself (V8's, which NODE_OPTIONS refuses).
  const isNodeFlag = (e: string) => e.startsWith('node:');
  const nodeFlags = extras.filter(isNodeFlag).map((e) => e.slice('node:'.length));
  const extraArgs = extras.filter((e) => !isEnv(e) && !isNodeFlag(e));
  const extraEnv = Object.fromEntries(
    extras.filter(isEnv).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  const child = spawn(
    NODE,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...nodeFlags,
      `${checkout}/bin/tweetpipe.js`,
      'sink',
      '--topic',
      topic,
      '--group',
      `${runId}-${n}`,
      '--hdfs-dir',
      `${hdfsRoot}/${n}`,
      '--format',
      format,
      '--exit-when-idle',
      '3',
      ...extraArgs,
    ],
    { cwd: checkout, stdio: ['ignore', 'pipe', 'pipe'], env: { ...childEnv, ...extraEnv } },
  );
  let first: number | undefined;
  let last: number | undefined;
  let firstAt = 0;
  let lastAt = 0;
  let peakMiB = 0;
  let firstThreads = new Map<string, number>();
  let lastThreads = new Map<string, number>();
  const onLine = (line: string) => {
    if (line.includes('"partitions opened"') && first === undefined) {
      first = cpuSeconds(child.pid!);
      firstThreads = threadCpu(child.pid!);
      firstAt = performance.now();
    }
    if (line.includes('"window committed"')) {
      last = cpuSeconds(child.pid!);
      lastThreads = threadCpu(child.pid!);
      lastAt = performance.now();
      peakMiB = peakRssMiB(child.pid!);
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0 || first === undefined || last === undefined)
    throw new Error(`tweetpipe sink of ${run} (${format}) exited with ${code}`);
  // The last windows commit only after the idle wait (--exit-when-idle 3): it is not sink time.
  const seconds = (lastAt - firstAt) / 1000 - 3;
  return {
    us: ((last - first) * 1e6) / tweets,
    tweetsPerS: tweets / seconds,
    threads: threadShares(firstThreads, lastThreads),
    peakMiB,
  };
}

const say = (line: string) => console.log(line);
const stack = await acquireStack(say);
const config = stack.config;
const childEnv = Object.fromEntries(
  Object.entries({ ...process.env, ...stack.env }).filter((e): e is [string, string] => e[1] !== undefined),
);
const ctx: BenchContext = {
  config,
  env: stack.env,
  runId,
  workDir: mkdtempSync(join(tmpdir(), 'tweetpipe-sinkcpu-')),
  hdfsRoot,
  say,
};
await createBenchTopic(ctx, topic);
await produceSynthetic(ctx, 'fill', topic, tweets);
console.log(`${topic}: ${tweets} tweets; load average ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
let n = 0;
try {
  for (let round = 1; round <= rounds; round++)
    for (const format of formats)
      for (const checkout of checkouts) {
        const { us, tweetsPerS, threads, peakMiB } = await sinkCpu(checkout, format, ++n);
        console.log(
          `round ${round} ${format.padEnd(8)} ${us.toFixed(1)} us CPU per tweet, ${Math.round(tweetsPerS)} tweets/s, peak RSS ${Math.round(peakMiB)} MiB  ${checkout}  (load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n  by thread (us per tweet): ${threads}`,
        );
      }
} finally {
  const hdfs = new WebHdfsClient({ urls: config.hdfs.webhdfs, user: config.hdfs.user });
  await hdfs.delete(hdfsRoot, { recursive: true }).catch(() => {});
  await hdfs.close();
  const admin = createAdmin(kafkaConnection(config, 'bench'));
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.close().catch(() => {});
  await stack.release();
}
