/**
 * Chaos: the DataNode of the local stack killed with SIGKILL while the sink streams windows into HDFS, and
 * restarted a few seconds later. The uploads of the open windows break mid-file; the sink must abort those windows
 * (a reset: open windows dropped, resumed from what HDFS holds) and write them again, so that every tweet of the
 * topic ends up exactly once in committed files and nothing is left in _tmp.
 *
 * The DataNode is restarted in a `finally`, and the test returns only once it has registered with the NameNode
 * again: every later test needs it (see test/helpers/stack-control.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertExactlyOnce, prefill, sinkScene, startSink } from '../helpers/sink-chaos.ts';
import { restartProblem, startStackServer, stopStackServer } from '../helpers/stack-control.ts';

const DOWN_MS = 5000;

test('DataNode killed -9 mid-write: the open windows are aborted and redone, every tweet exactly once', async (t) => {
  const problem = await restartProblem('datanode');
  assert.equal(problem, null, `refusing to stop a DataNode this test could not restart: ${problem}`);
  const scene = await sinkScene(t, 'chaos-sink-datanode');
  await prefill(scene, 80_000, 61);
  // Windows of 20,000 records: a window is being streamed to the DataNode at almost every instant.
  const sink = startSink(t, scene, ['--max-records', '20000', '--max-age', '30', '--exit-when-idle', '10']);
  await sink.waitForLog((l) => l.msg === 'window committed', 90_000);
  const killedAt = sink.logs.length;
  try {
    await stopStackServer('datanode', 'SIGKILL');
    await sleep(DOWN_MS);
  } finally {
    await startStackServer('datanode');
  }
  const after = (l: { msg: string }) => sink.logs.indexOf(l as never) >= killedAt;
  await sink.waitForLog((l) => after(l) && l.msg === 'window committed', 180_000);
  const exit = await Promise.race([sink.exited, sleep(240_000, null, { ref: false })]);
  assert.deepEqual(exit, { code: 0, signal: null }, sink.stderr().slice(-3000));

  const resets = sink.logs.filter((l) => after(l) && l.level === 40 && /^sink reset/.test(l.msg));
  for (const l of resets)
    t.diagnostic(`sink reset: ${String((l.err as { message?: string } | undefined)?.message).slice(0, 300)}`);
  assert.ok(resets.length > 0, 'the sink never dropped a window: the kill did not land mid-write');
  await assertExactlyOnce(t, scene, 80_000);
});
