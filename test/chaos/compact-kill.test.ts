/**
 * Chaos: `tweetpipe compact` killed with SIGKILL at spread-out moments, 12 times, while a sink writes the same tree
 * (a second topic, live producer, windows of at most 1 s) and finishes; then a last compaction runs to the end.
 * Afterwards both topics' records, read back through WebHDFS, are each exactly once in committed files, the
 * compacted topic has far fewer files, and no rewrite manifest or temp file is left. Only our own compact
 * processes are killed, never the shared stack.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startCli, stopCli } from '../helpers/cli.ts';
import { listCommitted, listFiles, verifySinkOutput } from '../helpers/hdfs-readback.ts';
import { LOG, prefill, type SinkScene, sinkArgs, sinkScene } from '../helpers/sink-chaos.ts';
import { consoleKeys, deleteTopics, uniqueTopic } from '../helpers/topics.ts';

const PREFILL = 3000;
const KILLS = 12;

/** `topic`'s records exactly once; `other` is the topic sharing the tree, whose files the check must not judge. */
async function exactlyOnce(scene: SinkScene, topic: string, other: string): Promise<number> {
  // A long idle wait: on a loaded machine the ConsoleConsumer JVM can take seconds to see the first record.
  const ids = await consoleKeys(topic, 15_000);
  const out = await verifySinkOutput(scene.client, { root: scene.root, topic, expectedIds: ids });
  assert.deepEqual(
    out.problems.filter((p) => !p.includes(` ${other}/`)),
    [],
    topic,
  );
  assert.ok(ids.length > 0, `${topic}: the ConsoleConsumer read nothing`);
  assert.equal(out.records, ids.length, topic);
  return out.committed.filter((f) => f.name !== null).length;
}

test('compact killed at random steps beside a writing sink: every record exactly once', {
  timeout: 900_000,
}, async (t) => {
  const scene = await sinkScene(t, 'compact-kill');
  await prefill(scene, PREFILL, 23);
  const first = await runCli(sinkArgs(scene, ['--max-records', '20', '--exit-when-idle', '2']), {}, 180_000);
  assert.equal(first.code, 0, first.stderr.slice(-3000));
  const filesBefore = (await listCommitted(scene.client, scene.root, scene.topic)).length;

  // The sink writing the same tree: a second topic, produced live.
  const live = uniqueTopic('compact-kill-live');
  t.after(() => deleteTopics([live, `${live}.dlq`]));
  const producer = startCli(
    [
      'produce',
      '--source',
      'synthetic',
      '--rate',
      '200',
      '--duration',
      '60',
      '--topic',
      live,
      '--partitions',
      '3',
    ].concat(['--state-dir', `${scene.stateDir}/live`, ...LOG]),
  );
  t.after(() => stopCli(producer, 'SIGKILL'));
  const sink = startCli(
    sinkArgs({ topic: live, root: scene.root, group: `${scene.group}-live` }, [
      '--max-age',
      '1',
      '--exit-when-idle',
      '5',
    ]),
  );
  t.after(() => stopCli(sink, 'SIGKILL'));

  const compactArgs = [
    'compact',
    '--hdfs-dir',
    scene.root,
    '--older-than',
    '1s',
    '--target-size',
    '64KB',
    ...LOG,
  ];
  let finishedEarly = 0;
  // What the runs found of their killed predecessors (logged at warn/info by RewriteJobs.recover).
  let jobsFinished = 0;
  let jobsUndone = 0;
  const countRecoveries = (stderr: string) => {
    jobsFinished += stderr.split('finishing a rewrite job').length - 1;
    jobsUndone += stderr.split('never committed').length - 1;
  };
  for (let i = 0; i < KILLS; i++) {
    const run = startCli(compactArgs);
    // Node's start takes about a second; the kills spread from before the first job to the last deletes.
    await Promise.race([sleep(800 + Math.round(Math.random() * 400) + i * 250), run.exited]);
    const exit = await stopCli(run, 'SIGKILL', 0);
    if (exit.code === 0) finishedEarly++;
    countRecoveries(run.stderr());
  }
  t.diagnostic(`${KILLS - finishedEarly} compactions killed, ${finishedEarly} finished before their kill`);

  const last = await runCli(compactArgs, {}, 300_000);
  assert.equal(last.code, 0, last.stderr.slice(-3000));
  countRecoveries(last.stderr);
  t.diagnostic(`killed runs' jobs finished by a later run: ${jobsFinished}, undone: ${jobsUndone}`);
  assert.equal((await producer.exited).code, 0, producer.stderr().slice(-3000));
  assert.equal((await sink.exited).code, 0, sink.stderr().slice(-3000));

  const filesAfter = await exactlyOnce(scene, scene.topic, live);
  t.diagnostic(`${scene.topic}: ${filesBefore} files before, ${filesAfter} after`);
  assert.ok(filesAfter * 3 < filesBefore, `${filesBefore} files before, ${filesAfter} after`);
  await exactlyOnce(scene, live, scene.topic);
  const leftovers = [
    ...(await listFiles(scene.client, `${scene.root}/_wal/+rewrite`, { hidden: true })),
    ...(await listFiles(scene.client, `${scene.root}/_tmp/+rewrite`, { hidden: true })),
  ];
  assert.deepEqual(
    leftovers.map((f) => f.path),
    [],
  );
});
