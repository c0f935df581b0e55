/**
 * Chaos on a real HA pair (`stack up --ha`, its own stack home and ports; see test/helpers/ha-stack.ts), with the
 * sink's `hdfs.webhdfs` listing both NameNodes:
 * 1. The active NameNode killed -9 mid-run, then `stack failover`'s code makes the standby active, and the killed
 *    NameNode comes back as standby. The sink moves to the other NameNode and ends with every tweet exactly once.
 * 2. The DataNode (registered with both NameNodes) killed -9 mid-write and restarted: the open windows are aborted
 *    and redone, every tweet exactly once. The sink starts with nn1 first in its list while nn1 is the standby (after
 *    test 1), so its first calls meet a StandbyException and must go to the other NameNode.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LogLine, startCli, stopCli } from '../helpers/cli.ts';
import {
  activeNamenode,
  bothNamenodes,
  failover,
  killHaServer,
  restartHaServer,
  useHaStack,
} from '../helpers/ha-stack.ts';
import { assertExactlyOnce, LOG, prefill, sinkScene, startSink } from '../helpers/sink-chaos.ts';

useHaStack(bothNamenodes);

const isStandbyWarning = (l: LogLine) => l.level === 40 && l.code === 'HDFS_STANDBY';

test('active NameNode killed -9 mid-run, failover to the standby: every tweet exactly once', async (t) => {
  const scene = await sinkScene(t, 'chaos-ha-failover');
  await prefill(scene, 20_000, 71);
  // A live producer keeps the sink writing through the kill and the failover.
  const live = startCli([
    'produce',
    ...['--source', 'synthetic', '--seed', '73', '--rate', '500', '--topic', scene.topic],
    ...['--state-dir', join(scene.stateDir, 'live'), ...LOG],
  ]);
  t.after(() => stopCli(live, 'SIGKILL'));
  const sink = startSink(t, scene, ['--max-records', '2000', '--max-age', '1', '--exit-when-idle', '10']);
  await sink.waitForLog((l) => l.msg === 'window committed', 90_000);
  const active = await activeNamenode();
  const killedAt = sink.logs.length;
  // The HA stack is this file's own (stopped after it), so a failure here needs no restart in a finally.
  await killHaServer(active);
  // Let the sink meet the dead NameNode and the standby before the failover.
  await sleep(3000);
  const switched = await failover();
  t.diagnostic(`killed ${active}; ${switched.output}`);
  await restartHaServer(active);
  const after = (l: LogLine) => sink.logs.indexOf(l) >= killedAt;
  await sink.waitForLog((l) => after(l) && l.msg === 'window committed', 180_000);
  assert.equal((await stopCli(live, 'SIGTERM')).code, 0, live.stderr().slice(-2000));
  const exit = await Promise.race([sink.exited, sleep(240_000, null, { ref: false })]);
  assert.deepEqual(exit, { code: 0, signal: null }, sink.stderr().slice(-3000));

  // The sink began on nn1 and ends on the other one; whether it met refused connections (nn1 dead), the standby
  // (before the failover, or nn1 back as standby) or neither (an upload in flight waits while the DataNode's own
  // HDFS client fails over) depends on timing, so the move is asserted, and what caused it is shown.
  const moves = sink.logs.filter((l) => after(l) && l.msg === 'WebHDFS: trying the other NameNode');
  t.diagnostic(
    `moves to the other NameNode, by code: ${JSON.stringify(countBy(moves, (l) => String(l.code)))}`,
  );
  assert.ok(moves.length > 0, 'the sink never moved to the other NameNode: the kill did not land mid-run');
  await assertExactlyOnce(t, scene);
});

test('DataNode of the HA pair killed -9 mid-write and restarted: every tweet exactly once', async (t) => {
  const scene = await sinkScene(t, 'chaos-ha-datanode');
  await prefill(scene, 60_000, 72);
  const standbyFirst = (await activeNamenode()) === 'nn2';
  const sink = startSink(t, scene, ['--max-records', '15000', '--max-age', '30', '--exit-when-idle', '10']);
  await sink.waitForLog((l) => l.msg === 'window committed', 90_000);
  if (standbyFirst) {
    const moved = sink.logs.find(
      (l) => isStandbyWarning(l) && l.msg === 'WebHDFS: trying the other NameNode',
    );
    assert.ok(
      moved,
      'nn1, listed first, is the standby: the sink should have said it tried the other NameNode',
    );
  }
  const killedAt = sink.logs.length;
  await killHaServer('datanode');
  await sleep(5000);
  await restartHaServer('datanode');
  const after = (l: LogLine) => sink.logs.indexOf(l) >= killedAt;
  await sink.waitForLog((l) => after(l) && l.msg === 'window committed', 180_000);
  const exit = await Promise.race([sink.exited, sleep(240_000, null, { ref: false })]);
  assert.deepEqual(exit, { code: 0, signal: null }, sink.stderr().slice(-3000));

  const resets = sink.logs.filter((l) => after(l) && l.level === 40 && /^sink reset/.test(l.msg));
  assert.ok(resets.length > 0, 'the sink never dropped a window: the kill did not land mid-write');
  await assertExactlyOnce(t, scene, 60_000);
});

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
