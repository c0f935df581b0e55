/**
 * The soak (`npm run soak -- --minutes M [--seed S] [--rate R]`): `tweetpipe run` on synthetic tweets at a set rate
 * while a seeded chaos schedule kill -9s, at random moments and one at a time, the pipeline process, the broker,
 * the NameNode and the DataNode, restarting each. At the end a sink drains the topic, HDFS is read back against
 * the topic, and the figures are printed; the exit code is 1 on any missing or duplicated tweet.
 *
 * It lives beside the tests, not in src/ or scripts/: it is test tooling built on the chaos helpers (stack control,
 * the HDFS read-back, Kafka's own ConsoleConsumer as the independent reader of the topic) and ships nothing.
 * It kills the servers of the stack the environment names (TWEETPIPE_STACK_*, TWEETPIPE_BROKERS, TWEETPIPE_WEBHDFS),
 * after checking that each can be restarted exactly as it runs; never point it at a stack others use.
 *
 * The pipeline is started with the broker as 127.0.0.1 rather than localhost: `tweetpipe run` then takes the
 * cluster for an external one and never starts stack servers itself, which would race the schedule's restarts.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Rng } from '../../src/sources/synthetic-payloads.ts';
import { type CliProcess, type LogLine, startCli, stopCli } from '../helpers/cli.ts';
import {
  checkExactlyOnce,
  listCommitted,
  readBack,
  testHdfsClient,
  topicEndOffsets,
} from '../helpers/hdfs-readback.ts';
import {
  restartProblem,
  STACK_SERVERS,
  type StackServer,
  startStackServer,
  stopStackServer,
} from '../helpers/stack-control.ts';
import { consoleKeys, deleteTopics, testConfig, uniqueTopic } from '../helpers/topics.ts';

type FaultKind = 'pipeline' | StackServer;
const KINDS: readonly FaultKind[] = ['pipeline', ...STACK_SERVERS];

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    rate: { type: 'string', default: '200' },
    'min-gap-s': { type: 'string', default: '10' },
    'max-gap-s': { type: 'string', default: '35' },
    'metrics-port': { type: 'string', default: '0' },
    keep: { type: 'boolean', default: false },
  },
});
const number = (flag: keyof typeof args): number => {
  const n = Number(args[flag]);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${flag} expects a number >= 0, got "${args[flag]}"\n`);
    process.exit(2);
  }
  return n;
};
const minutes = number('minutes');
const seed = number('seed');
const rate = number('rate');
const gapS = [number('min-gap-s'), number('max-gap-s')] as const;

const say = (line: string) =>
  process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const rng = new Rng(seed);
const between = (lo: number, hi: number) => lo + rng.next() * (hi - lo);

const config = testConfig();
for (const server of STACK_SERVERS) {
  const problem = await restartProblem(server, config);
  if (problem) {
    say(`refusing to kill a ${server} this soak could not restart: ${problem}`);
    process.exit(2);
  }
}

const run = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
const topic = uniqueTopic('soak');
const root = `/tmp/tweetpipe-soak-${run}`;
const group = `tp-soak-${run}`;
const stateDir = await mkdtemp(join(tmpdir(), 'tweetpipe-soak-'));
const logDir = join('test-artifacts', `soak-${run}`);
await mkdir(logDir, { recursive: true });
say(`topic ${topic}, HDFS ${root}, seed ${seed}, ${rate} tweets/s for ${minutes} min; logs in ${logDir}`);

const LOG = ['--log-format', 'json', '--log-level', 'info'];
const brokerAsExternal = { TWEETPIPE_BROKERS: `127.0.0.1:${config.stack.kafkaPort}` };
const runs: CliProcess[] = [];
const startPipeline = (): CliProcess => {
  const p = startCli(
    [
      'run',
      '--source',
      'synthetic',
      '--rate',
      String(rate),
      '--seed',
      String(seed + runs.length),
      '--topic',
      topic,
      '--partitions',
      '3',
      '--hdfs-dir',
      root,
      '--group',
      group,
      '--state-dir',
      stateDir,
      '--max-age',
      '5',
      '--metrics-port',
      args['metrics-port'],
      ...LOG,
    ],
    brokerAsExternal,
  );
  runs.push(p);
  return p;
};
const saveLog = (p: CliProcess, name: string) => writeFile(join(logDir, `${name}.log`), p.stderr());

interface Fault {
  kind: FaultKind;
  at: number;
  downMs: number;
  /** From the kill until the server serves again (or the new pipeline process is started). */
  recoveredMs: number;
}
const faults: Fault[] = [];
const stackDown = new Set<StackServer>();

async function inject(kind: FaultKind, pipeline: CliProcess): Promise<CliProcess> {
  const at = Date.now();
  const downMs = Math.round(between(1000, 8000));
  say(`kill -9 ${kind}, down ${downMs} ms`);
  if (kind === 'pipeline') {
    pipeline.child.kill('SIGKILL');
    await pipeline.exited;
    await saveLog(pipeline, `pipeline-${runs.length}`);
    await sleep(downMs);
    const next = startPipeline();
    faults.push({ kind, at, downMs, recoveredMs: Date.now() - at });
    return next;
  }
  stackDown.add(kind);
  await stopStackServer(kind, 'SIGKILL', config);
  await sleep(downMs);
  await startStackServer(kind, 180_000, config);
  stackDown.delete(kind);
  faults.push({ kind, at, downMs, recoveredMs: Date.now() - at });
  return pipeline;
}

let pipeline = startPipeline();
let exitCode = 1;
/** The stall is measured while the schedule runs, not over the final stop and drain. */
let chaosEnd = Number.POSITIVE_INFINITY;
try {
  await pipeline.waitForLog((l) => l.msg === 'window committed', 120_000);
  const end = Date.now() + minutes * 60_000;
  // Each round kills every kind once, in a seeded order: the kinds stay even however short the soak.
  let round: FaultKind[] = [];
  for (;;) {
    const wait = between(gapS[0], gapS[1]) * 1000;
    if (Date.now() + wait > end) break;
    await sleep(wait);
    if (pipeline.child.exitCode !== null)
      throw new Error(
        `the pipeline exited by itself (code ${pipeline.child.exitCode}):\n${pipeline.stderr().slice(-3000)}`,
      );
    if (round.length === 0) round = shuffled(KINDS);
    pipeline = await inject(round.shift()!, pipeline);
  }
  await sleep(Math.max(0, end - Date.now()));
  chaosEnd = Date.now();

  say('chaos over: stopping the pipeline (SIGTERM) and draining the topic with a sink');
  const stopped = await stopCli(pipeline, 'SIGTERM', 120_000);
  await saveLog(pipeline, `pipeline-${runs.length}`);
  if (stopped.code !== 0) say(`the last pipeline exited with ${JSON.stringify(stopped)}`);
  const drain = startCli(
    [
      'sink',
      '--topic',
      topic,
      '--hdfs-dir',
      root,
      '--group',
      group,
      '--max-age',
      '5',
      '--exit-when-idle',
      '15',
      ...LOG,
    ],
    brokerAsExternal,
  );
  const drained = await Promise.race([drain.exited, sleep(600_000, null)]);
  await saveLog(drain, 'drain');
  if (drained === null || drained.code !== 0)
    throw new Error(`the draining sink did not finish: ${JSON.stringify(drained)}`);
  runs.push(drain);

  exitCode = await report();
} catch (err) {
  say(`soak failed: ${(err as Error).stack ?? err}`);
} finally {
  for (const p of runs) await stopCli(p, 'SIGKILL');
  for (const server of stackDown) await startStackServer(server, 180_000, config).catch(() => {});
  if (!args.keep) {
    await deleteTopics([topic, `${topic}.dlq`]);
    const client = testHdfsClient();
    await client.delete(root, { recursive: true }).catch(() => {});
    await client.close();
  }
  await rm(stateDir, { recursive: true, force: true });
}
process.exit(exitCode);

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Reads the topic and HDFS back, prints the figures, and returns the exit code. */
async function report(): Promise<number> {
  const keys = await consoleKeys(topic);
  const produced = new Set(keys);
  const client = testHdfsClient();
  try {
    const files = await listCommitted(client, root, topic);
    const records = await readBack(client, files);
    const check = checkExactlyOnce({
      files,
      records,
      ends: await topicEndOffsets(topic),
      expectedIds: produced,
    });
    const written = new Map<string, number>();
    for (const r of records) written.set(r.id, (written.get(r.id) ?? 0) + 1);
    const missing = [...produced].filter((id) => !written.has(id)).length;
    const duplicated = records.length - written.size + (keys.length - produced.size);
    const stall = longestStall(runs.flatMap((p) => p.logs));
    const byKind = Object.fromEntries(KINDS.map((k) => [k, faults.filter((f) => f.kind === k).length]));
    const slowest = Object.fromEntries(
      KINDS.map((k) => [k, Math.max(0, ...faults.filter((f) => f.kind === k).map((f) => f.recoveredMs))]),
    );
    const figures = {
      minutes,
      seed,
      rate,
      faults: byKind,
      slowestRecoveryMs: slowest,
      pipelineRuns: runs.length - 1,
      produced: produced.size,
      duplicateKeysInTopic: keys.length - produced.size,
      written: records.length,
      filesCommitted: files.length,
      missing,
      duplicated,
      longestStallS: stall.seconds,
      longestStallFaults: stall.faults,
      problems: check.problems,
    };
    await writeFile(join(logDir, 'figures.json'), `${JSON.stringify({ faults, figures }, null, 2)}\n`);
    say(`faults injected: ${KINDS.map((k) => `${k} ${byKind[k]}`).join(', ')} (${faults.length} in all)`);
    say(`tweets produced ${produced.size} (duplicate keys in the topic ${keys.length - produced.size})`);
    say(`tweets written ${records.length} in ${files.length} files`);
    say(`missing ${missing}, duplicated ${duplicated}`);
    say(
      `longest stall ${stall.seconds.toFixed(1)} s (no window committed), faults in it: ${stall.faults.join(', ') || 'none'}`,
    );
    for (const p of check.problems) say(`problem: ${p}`);
    process.stdout.write(`SOAK ${JSON.stringify(figures)}\n`);
    return missing === 0 && duplicated === 0 && check.problems.length === 0 ? 0 : 1;
  } finally {
    await client.close();
  }
}

/**
 * The longest time between two window commits (pino `time`), and the faults that were under way in it (killed and
 * not yet serving again) or began in it: back-to-back faults make the long stalls.
 */
function longestStall(logs: LogLine[]): { seconds: number; faults: FaultKind[] } {
  const times = logs
    .filter((l) => l.msg === 'window committed' && Number(l.time) <= chaosEnd)
    .map((l) => Number(l.time))
    .sort((a, b) => a - b);
  let best = { seconds: 0, from: 0, to: 0 };
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i]! - times[i - 1]!) / 1000;
    if (gap > best.seconds) best = { seconds: gap, from: times[i - 1]!, to: times[i]! };
  }
  const during = faults.filter((f) => f.at < best.to && f.at + f.recoveredMs > best.from).map((f) => f.kind);
  return { seconds: best.seconds, faults: during };
}
