/**
 * The frame of a sink fault test: a unique topic, HDFS directory and group cleaned up after the test, a topic
 * filled with synthetic tweets, the sink CLI started on it, and the closing exactly-once check of HDFS against the
 * topic as Kafka's ConsoleConsumer reads it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { WebHdfsClient } from '../../src/hdfs/webhdfs.ts';
import { type CliProcess, runCli, startCli, stopCli } from './cli.ts';
import { testHdfsClient, verifySinkOutput } from './hdfs-readback.ts';
import { consoleKeys, deleteTopics, uniqueTopic } from './topics.ts';

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

/** Fills the scene's topic (3 partitions) with `tweets` synthetic tweets, as fast as the producer goes. */
export async function prefill(scene: SinkScene, tweets: number, seed: number): Promise<void> {
  const args = ['produce', '--source', 'synthetic', '--seed', String(seed), '--max-tweets', String(tweets)];
  const done = await runCli(
    [...args, '--topic', scene.topic, '--partitions', '3', '--state-dir', scene.stateDir, ...LOG],
    {},
    180_000,
  );
  assert.equal(done.code, 0, done.stderr);
}

/** `tweetpipe sink` on the scene, killed when the test ends. */
export function startSink(
  t: TestContext,
  scene: SinkScene,
  extra: string[],
  env: Record<string, string | undefined> = {},
): CliProcess {
  const sink = startCli(
    ['sink', '--topic', scene.topic, '--hdfs-dir', scene.root, '--group', scene.group, ...extra, ...LOG],
    env,
  );
  t.after(() => stopCli(sink, 'SIGKILL'));
  return sink;
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
