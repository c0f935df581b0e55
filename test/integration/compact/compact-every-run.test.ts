/**
 * `compact.every` inside a real `tweetpipe run` (synthetic source -> shared Kafka -> shared HDFS): with minute
 * folders, 1 s windows, `compact.every: 5s` and `compact.olderThan: 5s`, each minute folder the run has left
 * behind is merged by the run's own schedule while the pipeline keeps writing the next one. The run's log says
 * how many files were merged, the tree ends with that many fewer files than the sink committed, and every tweet of
 * the topic is in HDFS exactly once (offsets tiling each partition, each record in the folder of its created_at).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { LogLine } from '../../helpers/cli.ts';
import { runCli, startCli, stopCli } from '../../helpers/cli.ts';
import { utcMinutePath, verifySinkOutput } from '../../helpers/hdfs-readback.ts';
import { LOG, sinkArgs, sinkScene } from '../../helpers/sink-chaos.ts';
import { consoleKeys } from '../../helpers/topics.ts';

interface CompactionLog extends LogLine {
  filesBefore: number;
  filesAfter: number;
  records: number;
}

const merged = (line: LogLine): line is CompactionLog =>
  line.msg === 'compaction finished' && Number(line.filesBefore) > 0;

test('tweetpipe run compacts idle folders on compact.every while it keeps writing', {
  timeout: 300_000,
}, async (t) => {
  const scene = await sinkScene(t, 'compact-every');
  const config = join(scene.stateDir, 'config.json');
  await writeFile(config, JSON.stringify({ compact: { every: '5s', olderThan: '5s' } }));
  const run = startCli([
    'run',
    '--config',
    config,
    '--source',
    'synthetic',
    '--rate',
    '40',
    '--partitions',
    '3',
    '--topic',
    scene.topic,
    '--hdfs-dir',
    scene.root,
    '--group',
    scene.group,
    '--granularity',
    'minute',
    '--max-age',
    '1',
    '--metrics-port',
    '0',
    '--state-dir',
    join(scene.stateDir, 'producer'),
    ...LOG,
  ]);
  t.after(() => stopCli(run, 'SIGKILL'));

  // A minute folder becomes idle once the clock has left it (and its last window was committed 5 s ago).
  await run.waitForLog(merged, 200_000);
  const exit = await stopCli(run, 'SIGTERM', 60_000);
  assert.equal(exit.code, 0, run.stderr().slice(-3000));

  // On the caller's signal, run stops its sink without waiting for it to read the producer's last batches (they
  // stay in Kafka, uncommitted): a sink of the same group writes them, as the next run would.
  const drain = await runCli(
    sinkArgs(scene, ['--granularity', 'minute', '--exit-when-idle', '3']),
    {},
    120_000,
  );
  assert.equal(drain.code, 0, drain.stderr.slice(-3000));

  const compactions = run.logs.filter(merged);
  const removed = compactions.reduce((n, l) => n + l.filesBefore - l.filesAfter, 0);
  assert.ok(removed > 0, JSON.stringify(compactions));
  const committedBySink = [...run.logs, ...drain.logs]
    .filter((l) => l.msg === 'window committed')
    .reduce((n, l) => n + Number(l.files), 0);
  const out = await verifySinkOutput(scene.client, {
    root: scene.root,
    topic: scene.topic,
    expectedIds: await consoleKeys(scene.topic),
    timePath: utcMinutePath,
  });
  const merges = compactions.map((l) => `${l.filesBefore} files into ${l.filesAfter}`).join(', ');
  t.diagnostic(`compactions: ${merges}; ${out.records} records in ${out.files} files at the end`);
  assert.deepEqual(out.problems, []);
  assert.ok(out.records > 0);
  assert.deepEqual(out.tmpFiles, [], 'files left in _tmp');
  assert.ok(committedBySink > 0, 'the sink logs its commits');
  assert.equal(out.files, committedBySink - removed, 'committed files minus those merged away');
});
