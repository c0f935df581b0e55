/**
 * Chaos: `tweetpipe sink` killed with SIGKILL at random moments, 20 times, and restarted each time with the same
 * group and HDFS directory, while a live producer keeps adding tweets; then a last run with --exit-when-idle.
 * Small windows (--max-records 5000 --max-age 1) mean a commit is under way at most instants, so kills land in
 * every state of the writer (writing, manifest written, renames half done, Kafka offset not yet committed).
 * Afterwards the committed files, read back through WebHDFS, must hold exactly the ids Kafka's ConsoleConsumer
 * reads from the topic, once each, and nothing may be left in _tmp.
 *
 * "Start" means the moment a run has opened its partitions (log `partitions opened`): a kill during the
 * seconds-long CLI start and group join would test nothing. A process killed with SIGKILL stays a member
 * of the consumer group until its session times out (30 s), and the next run's join would wait for it; the test
 * removes the dead member (what the coordinator does at the session timeout) so that 20 kills fit in minutes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAdmin } from '../../src/kafka/admin.ts';
import { kafkaConnection } from '../../src/kafka/client-options.ts';
import { type CliProcess, runCli, startCli, stopCli } from '../helpers/cli.ts';
import { testHdfsClient, verifySinkOutput } from '../helpers/hdfs-readback.ts';
import { consoleKeys, deleteTopics, testConfig, uniqueTopic } from '../helpers/topics.ts';

const PREFILL = 200_000;
const KILLS = 20;
const LIVE_RATE = 500;
const LOG = ['--log-format', 'json', '--log-level', 'info'];

const between = (minMs: number, maxMs: number) => Math.round(minMs + Math.random() * (maxMs - minMs));

/** Removes every member of `groupId`: all of them are dead processes here. */
async function removeDeadMembers(groupId: string): Promise<void> {
  const admin = createAdmin(kafkaConnection(testConfig(), 'test'));
  try {
    await admin.removeMembersFromConsumerGroup({ groupId });
  } finally {
    await admin.close();
  }
}

test('sink killed -9 twenty times mid-run: every tweet exactly once in HDFS, nothing left in _tmp', async (t) => {
  const run = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  const topic = uniqueTopic('chaos-sink-kill');
  const root = `/tmp/tweetpipe-chaos-sink-kill-${run}`;
  const group = `tp-test-chaos-sink-kill-${run}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'tweetpipe-chaos-sink-kill-'));
  const client = testHdfsClient();
  t.after(async () => {
    await deleteTopics([topic, `${topic}.dlq`]);
    await client.delete(root, { recursive: true }).catch(() => {});
    await client.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  const produceArgs = (seed: number, extra: string[]) => [
    'produce',
    '--source',
    'synthetic',
    '--seed',
    String(seed),
    '--topic',
    topic,
    '--partitions',
    '3',
    '--state-dir',
    join(stateDir, `producer-${seed}`),
    ...extra,
    ...LOG,
  ];
  const prefill = await runCli(produceArgs(31, ['--max-tweets', String(PREFILL)]), {}, 180_000);
  assert.equal(prefill.code, 0, prefill.stderr);

  const live = startCli(produceArgs(32, ['--rate', String(LIVE_RATE)]));
  t.after(() => stopCli(live, 'SIGKILL'));

  const sinkArgs = (extra: string[]) => [
    'sink',
    '--topic',
    topic,
    '--hdfs-dir',
    root,
    '--group',
    group,
    '--format',
    'jsonl.gz',
    '--max-records',
    '5000',
    '--max-age',
    '1',
    ...extra,
    ...LOG,
  ];
  const windows = (p: CliProcess) => p.logs.filter((l) => l.msg === 'window committed').length;
  const moments: string[] = [];
  for (let k = 1; k <= KILLS; k++) {
    const sink = startCli(sinkArgs([]));
    t.after(() => stopCli(sink, 'SIGKILL'));
    await sink.waitForLog((l) => l.msg === 'partitions opened', 90_000);
    const after = between(300, 2500);
    await sleep(after);
    sink.child.kill('SIGKILL');
    const exit = await sink.exited;
    assert.equal(exit.signal, 'SIGKILL', `run ${k} ended on its own: ${sink.stderr().slice(-2000)}`);
    moments.push(`run ${k}: killed ${after} ms after opening, ${windows(sink)} windows committed`);
    await removeDeadMembers(group);
  }
  t.diagnostic(moments.join('\n'));

  const liveExit = await stopCli(live, 'SIGTERM');
  assert.equal(liveExit.code, 0, live.stderr().slice(-2000));
  const final = await runCli(sinkArgs(['--exit-when-idle', '5']), {}, 180_000);
  assert.equal(final.code, 0, final.stderr.slice(-3000));

  const ids = await consoleKeys(topic);
  assert.ok(ids.length > PREFILL, `${ids.length} records in the topic`);
  const out = await verifySinkOutput(client, { root, topic, expectedIds: ids });
  t.diagnostic(
    `topic ${ids.length} records; HDFS ${out.records} records, ${out.distinctIds} distinct ids in ${out.files} files; final run committed ${final.logs.filter((l) => l.msg === 'window committed').length} windows`,
  );
  assert.deepEqual(out.problems, []);
  assert.equal(out.records, ids.length);
  assert.equal(out.distinctIds, ids.length);
  assert.deepEqual(out.tmpFiles, [], 'files left in _tmp');
});
