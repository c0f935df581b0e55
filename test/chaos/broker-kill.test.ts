/**
 * Chaos: the broker of the local stack killed with SIGKILL and restarted a few seconds later, once while a producer
 * sends and once while a sink writes. The producer is idempotent with acks=all: its retries after the restart must
 * neither lose a tweet nor write one twice, so the topic, read back by Kafka's own ConsoleConsumer, holds exactly
 * --max-tweets distinct keys, once each. The sink must ride the outage out (reset, rejoin, resume from what HDFS
 * holds) and end with every tweet of the topic exactly once in HDFS.
 *
 * The broker is restarted in a `finally`, and each test returns only once it serves again: every later test needs
 * it. Before anything is stopped, the test checks that the broker can be started again exactly as it runs (see
 * test/helpers/stack-control.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli, stopCli } from '../helpers/cli.ts';
import { assertExactlyOnce, LOG, prefill, sinkScene, startSink } from '../helpers/sink-chaos.ts';
import { restartProblem, startStackServer, stopStackServer } from '../helpers/stack-control.ts';
import { consoleKeys, deleteTopics, uniqueTopic } from '../helpers/topics.ts';

const DOWN_MS = 5000;

async function killBrokerFor(ms: number): Promise<void> {
  try {
    await stopStackServer('kafka', 'SIGKILL');
    await sleep(ms);
  } finally {
    await startStackServer('kafka');
  }
}

test('broker killed -9 and restarted during produce: every tweet once in the topic, none lost or doubled', async (t) => {
  const problem = await restartProblem('kafka');
  assert.equal(problem, null, `refusing to stop a broker this test could not restart: ${problem}`);
  const topic = uniqueTopic('chaos-broker-produce');
  const stateDir = await mkdtemp(join(tmpdir(), 'tweetpipe-chaos-broker-produce-'));
  t.after(async () => {
    await deleteTopics([topic, `${topic}.dlq`]);
    await rm(stateDir, { recursive: true, force: true });
  });

  const TWEETS = 30_000;
  const producer = startCli([
    'produce',
    '--source',
    'synthetic',
    '--rate',
    '2000',
    '--max-tweets',
    String(TWEETS),
    '--topic',
    topic,
    '--partitions',
    '3',
    '--state-dir',
    stateDir,
    ...LOG,
  ]);
  t.after(() => stopCli(producer, 'SIGKILL'));
  await producer.waitForLog((l) => l.msg === 'progress' || l.msg.startsWith('created topic'), 60_000);
  await sleep(3000);
  assert.equal(producer.child.exitCode, null, 'the producer finished before the broker was killed');
  await killBrokerFor(DOWN_MS);

  const exit = await Promise.race([producer.exited, sleep(180_000, null, { ref: false })]);
  assert.deepEqual(exit, { code: 0, signal: null }, producer.stderr().slice(-3000));
  const keys = await consoleKeys(topic);
  const distinct = new Set(keys);
  t.diagnostic(`topic ${keys.length} records, ${distinct.size} distinct keys`);
  assert.equal(distinct.size, TWEETS, `${TWEETS - distinct.size} tweets lost`);
  assert.equal(keys.length, distinct.size, `${keys.length - distinct.size} duplicate keys in the topic`);
});

test('broker killed -9 and restarted during sink: every tweet exactly once in HDFS', async (t) => {
  const problem = await restartProblem('kafka');
  assert.equal(problem, null, `refusing to stop a broker this test could not restart: ${problem}`);
  const scene = await sinkScene(t, 'chaos-broker-sink');
  await prefill(scene, 60_000, 51);
  const sink = startSink(t, scene, ['--max-records', '5000', '--max-age', '1', '--exit-when-idle', '10']);
  await sink.waitForLog((l) => l.msg === 'window committed', 90_000);
  const killedAt = sink.logs.length;
  await killBrokerFor(DOWN_MS);
  await sink.waitForLog((l) => sink.logs.indexOf(l) >= killedAt && l.msg === 'window committed', 120_000);

  const exit = await Promise.race([sink.exited, sleep(180_000, null, { ref: false })]);
  assert.deepEqual(exit, { code: 0, signal: null }, sink.stderr().slice(-3000));
  await assertExactlyOnce(t, scene, 60_000);
});
