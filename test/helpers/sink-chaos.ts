/**
 * The frame of a sink fault test (chaos tests, and the integration tests that kill or run the sink CLI): a unique
 * topic, HDFS directory and group cleaned up after the test, a topic filled with synthetic tweets, the sink CLI's
 * arguments and process, a run killed -9 at a chosen moment, and the closing exactly-once check of HDFS against the
 * topic as Kafka's ConsoleConsumer reads it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebHdfsClient } from '../../src/hdfs/webhdfs.ts';
import { createAdmin } from '../../src/kafka/admin.ts';
import { kafkaConnection } from '../../src/kafka/client-options.ts';
import { type CliProcess, type LogLine, runCli, startCli, stopCli } from './cli.ts';
import { testHdfsClient, verifySinkOutput } from './hdfs-readback.ts';
import { consoleKeys, deleteTopics, testConfig, uniqueTopic } from './topics.ts';

export const LOG = ['--log-format', 'json', '--log-level', 'info'];

export interface SinkScene {
  topic: string;
  root: string;
  group: string;
  stateDir: string;
  client: WebHdfsClient;
}

export async function sinkScene(t: TestContext, label: string): Promise<SinkScene> {
  const run = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  const scene = {
    topic: uniqueTopic(label),
    root: `/tmp/tweetpipe-${label}-${run}`,
    group: `tp-test-${label}-${run}`,
    stateDir: await mkdtemp(join(tmpdir(), `tweetpipe-${label}-`)),
    client: testHdfsClient(),
  };
  t.after(async () => {
    await deleteTopics([scene.topic, `${scene.topic}.dlq`]);
    await scene.client.delete(scene.root, { recursive: true }).catch(() => {});
    await scene.client.close();
    await rm(scene.stateDir, { recursive: true, force: true });
  });
  return scene;
}

/** Where a producer writes, and under which directory it keeps its cursors. */
export type ProduceTarget = Pick<SinkScene, 'topic' | 'stateDir'>;

/** Where a sink writes: its topic, HDFS directory and consumer group. */
export type SinkTarget = Pick<SinkScene, 'topic' | 'root' | 'group'>;

/** The arguments of `tweetpipe sink` on `target`, with `extra` flags and JSON info logs (tests wait for lines). */
export function sinkArgs(target: SinkTarget, extra: string[] = []): string[] {
  return [
    'sink',
    '--topic',
    target.topic,
    '--hdfs-dir',
    target.root,
    '--group',
    target.group,
    ...extra,
    ...LOG,
  ];
}

/** `tweetpipe produce` of synthetic tweets into the scene's topic; each seed keeps its own cursor. */
export function produceArgs(scene: ProduceTarget, seed: number, extra: string[], partitions = 3): string[] {
  const stateDir = join(scene.stateDir, `producer-${seed}`);
  const source = ['--source', 'synthetic', '--seed', String(seed)];
  return [
    'produce',
    ...source,
    '--topic',
    scene.topic,
    '--partitions',
    String(partitions),
    '--state-dir',
    stateDir,
    ...extra,
    ...LOG,
  ];
}

/** Fills the scene's topic (3 partitions) with `tweets` synthetic tweets, as fast as the producer goes. */
export async function prefill(scene: ProduceTarget, tweets: number, seed: number): Promise<void> {
  const done = await runCli(produceArgs(scene, seed, ['--max-tweets', String(tweets)]), {}, 180_000);
  assert.equal(done.code, 0, done.stderr);
}

/** `tweetpipe sink` on the scene, killed when the test ends. */
export function startSink(
  t: TestContext,
  scene: SinkScene,
  extra: string[],
  env: Record<string, string | undefined> = {},
): CliProcess {
  const sink = startCli(sinkArgs(scene, extra), env);
  t.after(() => stopCli(sink, 'SIGKILL'));
  return sink;
}

/**
 * Removes every member of `group`, all dead processes here: what the coordinator does at the session timeout, so
 * that the next run's join does not wait for a killed one.
 */
export async function removeDeadMembers(group: string): Promise<void> {
  const admin = createAdmin(kafkaConnection(testConfig(), 'test'));
  await admin.removeMembersFromConsumerGroup({ groupId: group }).finally(() => admin.close());
}

/**
 * Kills `sink` with SIGKILL `afterMs` after its log shows `ready`, checks that it had not ended on its own, and
 * removes its dead member from `group`.
 */
export async function killSinkAfter(
  sink: CliProcess,
  ready: (line: LogLine) => boolean,
  afterMs: number,
  group: string,
): Promise<void> {
  await sink.waitForLog(ready, 90_000);
  await sleep(afterMs);
  sink.child.kill('SIGKILL');
  const exit = await sink.exited;
  assert.equal(exit.signal, 'SIGKILL', `the sink ended on its own: ${sink.stderr().slice(-2000)}`);
  await removeDeadMembers(group);
}

/** Every tweet of the topic exactly once in committed files, nothing left in _tmp. */
export async function assertExactlyOnce(t: TestContext, scene: SinkScene, expected?: number): Promise<void> {
  const ids = await consoleKeys(scene.topic);
  const out = await verifySinkOutput(scene.client, {
    root: scene.root,
    topic: scene.topic,
    expectedIds: ids,
  });
  t.diagnostic(`topic ${ids.length} records; HDFS ${out.records} records in ${out.files} files`);
  if (expected !== undefined) assert.equal(ids.length, expected, 'records in the topic');
  assert.deepEqual(out.problems, []);
  assert.equal(out.records, ids.length);
  assert.deepEqual(out.tmpFiles, [], 'files left in _tmp');
}
