/**
 * Chaos: the NameNode of the local stack dies (SIGKILL) in the middle of a sink run and comes back 60 s later.
 * A live producer keeps adding tweets throughout, so the sink has work during and after the outage. The sink
 * must neither exit nor lose or duplicate anything: it retries until HDFS answers, commits again, and ends by
 * itself (--exit-when-idle) with every tweet of the topic exactly once in HDFS. While HDFS is down the sink must
 * hold in bounded memory (its resident size, sampled every second, must not grow with what the producer adds), and
 * it must commit again within 10 s of the NameNode's return, measured from the moment HDFS is healthy again to the
 * `time` of the sink's first `window committed` log line after it.
 *
 * The NameNode is restarted in a `finally`, and the test returns only once HDFS is healthy again: every later
 * test needs it. Before anything is stopped, the test checks that the NameNode can be started again exactly as
 * it runs (see test/helpers/stack-control.ts).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LogLine, startCli, stopCli } from '../helpers/cli.ts';
import { verifySinkOutput } from '../helpers/hdfs-readback.ts';
import { prefill, produceArgs, sinkArgs, sinkScene } from '../helpers/sink-chaos.ts';
import { restartProblem, startStackServer, stopStackServer } from '../helpers/stack-control.ts';
import { consoleKeys } from '../helpers/topics.ts';

const OUTAGE_MS = 60_000;
/** The contract of issue 10: the sink commits again within 10 s of the NameNode's return. */
const RESUME_WITHIN_MS = 10_000;
const MAX_RSS_GROWTH = 24 * 2 ** 20;

test('sink rides out a 60 s NameNode outage in bounded memory, resumes within 10 s of its return, every tweet exactly once', async (t) => {
  const problem = await restartProblem('namenode');
  assert.equal(problem, null, `refusing to stop a NameNode this test could not restart: ${problem}`);

  const scene = await sinkScene(t, 'chaos-sink-namenode');
  const { topic, root, client } = scene;
  await prefill(scene, 30_000, 41);
  const live = startCli(produceArgs(scene, 42, ['--rate', '1000']));
  t.after(() => stopCli(live, 'SIGKILL'));

  const sink = startCli(
    sinkArgs(scene, [
      '--format',
      'jsonl.gz',
      '--max-records',
      '5000',
      '--max-age',
      '1',
      '--exit-when-idle',
      '5',
    ]),
  );
  t.after(() => stopCli(sink, 'SIGKILL'));
  await sink.waitForLog((l) => l.msg === 'window committed', 90_000);

  const since = (mark: number) => (l: LogLine) => sink.logs.indexOf(l) >= mark;
  const isReset = (l: LogLine) => l.level === 40 && /^sink reset/.test(l.msg);
  const outageStart = sink.logs.length;
  const rss: number[] = [];
  let backAt = 0;
  try {
    await stopStackServer('namenode', 'SIGKILL');
    const outageEnd = Date.now() + OUTAGE_MS;
    while (Date.now() < outageEnd) {
      await sleep(1000);
      rss.push(await rssBytes(sink.child.pid!));
    }
    assert.equal(
      sink.child.exitCode,
      null,
      `the sink exited during the outage: ${sink.stderr().slice(-3000)}`,
    );
    assert.ok(
      sink.logs.some((l) => since(outageStart)(l) && isReset(l)),
      'no retry warning during the outage',
    );
  } finally {
    await startStackServer('namenode');
    backAt = Date.now();
  }
  const back = sink.logs.length;
  const resumed = await sink.waitForLog((l) => since(back)(l) && l.msg === 'window committed', 120_000);
  const resumeGapMs = Number(resumed.time) - backAt;
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  // The first half of the outage holds the last fetches before it and the resets' garbage; what matters is that
  // the sink does not keep growing with what the producer adds.
  const secondHalf = rss.slice(rss.length / 2);
  const growth = Math.max(...secondHalf) - (secondHalf[0] ?? 0);
  t.diagnostic(
    `sink RSS during the outage: ${rss.map(mib).join(' ')} MiB; first commit ${resumeGapMs} ms after HDFS was back`,
  );
  // The live producer adds ~1000 tweets/s (~1.5 MB/s): a sink that held them would grow by ~45 MB in 30 s.
  assert.ok(growth < MAX_RSS_GROWTH, `the sink grew by ${mib(growth)} MiB while HDFS was down`);
  assert.ok(
    resumeGapMs <= RESUME_WITHIN_MS,
    `the sink committed again ${resumeGapMs} ms after the NameNode was back (contract: within ${RESUME_WITHIN_MS} ms)`,
  );

  const liveExit = await stopCli(live, 'SIGTERM');
  assert.equal(liveExit.code, 0, live.stderr().slice(-2000));
  const exit = await Promise.race([sink.exited, sleep(120_000, null, { ref: false })]);
  assert.deepEqual(exit, { code: 0, signal: null }, sink.stderr().slice(-3000));

  const ids = await consoleKeys(topic);
  const out = await verifySinkOutput(client, { root, topic, expectedIds: ids });
  t.diagnostic(
    `topic ${ids.length} records; HDFS ${out.records} records, ${out.distinctIds} distinct ids in ${out.files} files`,
  );
  for (const l of sink.logs.filter(isReset))
    t.diagnostic(`sink reset: ${String((l.err as { message?: string } | undefined)?.message).slice(0, 300)}`);
  assert.deepEqual(out.problems, []);
  assert.equal(out.records, ids.length);
  assert.deepEqual(out.tmpFiles, [], 'files left in _tmp');
});

/** Resident set size of a process, from /proc. */
async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}
