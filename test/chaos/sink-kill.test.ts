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
import { test } from 'node:test';
import { type CliProcess, runCli, startCli, stopCli } from '../helpers/cli.ts';
import { verifySinkOutput } from '../helpers/hdfs-readback.ts';
import { killSinkAfter, produceArgs, sinkArgs, sinkScene, startSink } from '../helpers/sink-chaos.ts';
import { consoleKeys } from '../helpers/topics.ts';

const PREFILL = 200_000;
const KILLS = 20;
const LIVE_RATE = 500;
/** Small windows: a commit is under way at most instants. */
const WINDOWS = ['--format', 'jsonl.gz', '--max-records', '5000', '--max-age', '1'];

const between = (minMs: number, maxMs: number) => Math.round(minMs + Math.random() * (maxMs - minMs));

test('sink killed -9 twenty times mid-run: every tweet exactly once in HDFS, nothing left in _tmp', async (t) => {
  const scene = await sinkScene(t, 'chaos-sink-kill');
  const { topic, root, group, client } = scene;
  const prefill = await runCli(produceArgs(scene, 31, ['--max-tweets', String(PREFILL)]), {}, 180_000);
  assert.equal(prefill.code, 0, prefill.stderr);

  const live = startCli(produceArgs(scene, 32, ['--rate', String(LIVE_RATE)]));
  t.after(() => stopCli(live, 'SIGKILL'));

  const windows = (p: CliProcess) => p.logs.filter((l) => l.msg === 'window committed').length;
  const moments: string[] = [];
  for (let k = 1; k <= KILLS; k++) {
    const sink = startSink(t, scene, WINDOWS);
    const after = between(300, 2500);
    await killSinkAfter(sink, (l) => l.msg === 'partitions opened', after, group);
    moments.push(`run ${k}: killed ${after} ms after opening, ${windows(sink)} windows committed`);
  }
  t.diagnostic(moments.join('\n'));

  const liveExit = await stopCli(live, 'SIGTERM');
  assert.equal(liveExit.code, 0, live.stderr().slice(-2000));
  const final = await runCli(sinkArgs(scene, [...WINDOWS, '--exit-when-idle', '5']), {}, 180_000);
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
