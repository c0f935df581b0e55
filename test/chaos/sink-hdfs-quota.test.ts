/**
 * Chaos: the HDFS space quota of the output directory is exceeded while the sink writes (set and raised with
 * Hadoop's own `hdfs dfsadmin`, as an operator would). A quota under one block's size fails every new block, so
 * the sink cannot commit anything: it must say why (the quota and the directory, in its log), write nothing
 * partial, and resume by itself once the quota is raised, ending with every tweet exactly once.
 *
 * The second test is the readiness half of the contract: with the stall watchdog (`health.stallAfterS`), a sink
 * stuck on the quota turns `/readyz` not-ready with a `stall:sink` check.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli } from '../helpers/cli.ts';
import { dfsadmin } from '../helpers/hdfs-admin.ts';
import { listCommitted } from '../helpers/hdfs-readback.ts';
import { assertExactlyOnce, LOG, prefill, sinkScene, startSink } from '../helpers/sink-chaos.ts';

/** Below one block (128 MiB by default): HDFS reserves a whole block per replica when it allocates one. */
const TINY_QUOTA = '1m';

test('HDFS space quota exceeded: a clear error, nothing committed, resumes by itself once raised', async (t) => {
  const scene = await sinkScene(t, 'chaos-sink-quota');
  await prefill(scene, 20_000, 71);
  await scene.client.mkdirs(scene.root);
  await dfsadmin(['-setSpaceQuota', TINY_QUOTA, scene.root]);
  t.after(() => dfsadmin(['-clrSpaceQuota', scene.root]).catch(() => ''));

  const sink = startSink(t, scene, ['--max-records', '5000', '--max-age', '1', '--exit-when-idle', '10']);
  const quotaError = (l: { msg: string; err?: unknown }) =>
    /^sink reset/.test(l.msg) &&
    /DSQuotaExceededException/.test(String((l.err as { message?: string })?.message));
  const first = await sink.waitForLog(quotaError, 90_000);
  const message = String((first.err as { message: string }).message);
  t.diagnostic(`sink error over quota: ${message.slice(0, 400)}`);
  assert.match(message, /quota/i);
  assert.ok(message.includes(scene.root), `the error does not name the directory ${scene.root}: ${message}`);
  // Two more resets: it keeps trying, and commits nothing meanwhile.
  await sink.waitForLog(
    (l) => quotaError(l) && l !== first && sink.logs.filter(quotaError).length >= 3,
    90_000,
  );
  assert.equal(sink.child.exitCode, null, `the sink exited over quota: ${sink.stderr().slice(-2000)}`);
  assert.equal(
    sink.logs.filter((l) => l.msg === 'window committed').length,
    0,
    'a window was committed over quota',
  );
  assert.deepEqual(await listCommitted(scene.client, scene.root, scene.topic), []);

  await dfsadmin(['-clrSpaceQuota', scene.root]);
  const exit = await Promise.race([sink.exited, sleep(180_000, null, { ref: false })]);
  assert.deepEqual(exit, { code: 0, signal: null }, sink.stderr().slice(-3000));
  await assertExactlyOnce(t, scene, 20_000);
});

test('HDFS space quota exceeded: /readyz turns not-ready with a stall:sink check', async (t) => {
  const scene = await sinkScene(t, 'chaos-run-quota');
  await scene.client.mkdirs(scene.root);
  await dfsadmin(['-setSpaceQuota', TINY_QUOTA, scene.root]);
  t.after(() => dfsadmin(['-clrSpaceQuota', scene.root]).catch(() => ''));
  const args = ['run', '--source', 'synthetic', '--rate', '200', '--topic', scene.topic, '--partitions', '3'];
  const pipeline = startCli(
    [
      ...args,
      ...['--hdfs-dir', scene.root, '--group', scene.group, '--state-dir', scene.stateDir],
      ...['--max-age', '1', '--metrics-port', '0', ...LOG],
    ],
    { TWEETPIPE_HEALTH_STALL_AFTER_S: '5' },
  );
  t.after(() => pipeline.child.kill('SIGKILL'));
  const stalled = await pipeline.waitForLog((l) => l.level === 50 && /^stalled: /.test(l.msg), 120_000);
  t.diagnostic(stalled.msg);
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(pipeline.stdout())?.[0];
  assert.ok(url, `no dashboard URL in the output: ${pipeline.stdout()}`);
  const ready = await fetch(`${url}/readyz`);
  const body = (await ready.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
  assert.equal(ready.status, 503);
  assert.equal(body.checks['stall:sink']?.ok, false, JSON.stringify(body));
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /tweetpipe_stalled\{[^}]*stage="sink"[^}]*\} 1/);
  assert.match(metrics, /tweetpipe_stalls_total\{[^}]*stage="sink"[^}]*\} [1-9]/);
});
