/**
 * Chaos: partitions move between sink processes of one consumer group while they write (sink A runs two worker
 * threads, each a group member of its own). On a 6-partition topic
 * that a live producer keeps filling, sink A runs alone, sink B joins mid-run (A loses partitions, possibly with
 * a window half written: a zombie that fencing must stop), A is stopped with SIGTERM (B takes everything), and A
 * starts again (they split once more). Both then end by themselves (--exit-when-idle). The committed files,
 * read back through WebHDFS, must hold exactly the ids Kafka's ConsoleConsumer reads from the topic, once each.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CliExit, type CliProcess, type LogLine, runCli, startCli, stopCli } from '../helpers/cli.ts';
import { verifySinkOutput } from '../helpers/hdfs-readback.ts';
import { produceArgs, sinkArgs, sinkScene } from '../helpers/sink-chaos.ts';
import { consoleKeys } from '../helpers/topics.ts';

const between = (minMs: number, maxMs: number) => Math.round(minMs + Math.random() * (maxMs - minMs));

/** Partitions a sink owns: those of the latest group join of each of its worker threads. */
function assigned(sink: CliProcess): number[] {
  const latest = new Map<unknown, { partition: number }[]>();
  for (const l of sink.logs)
    if (l.msg === 'consumer group joined') latest.set(l.worker, l.assignments as { partition: number }[]);
  return [...latest.values()]
    .flat()
    .map((a) => a.partition)
    .sort((a, b) => a - b);
}

/**
 * The shares of `sinks` once their latest assignments split the six partitions between them: a rebalance reaches
 * the members (and each worker thread) one after another, so a look in between sees a partition twice or not at all.
 */
async function settledShares(sinks: CliProcess[], timeoutMs: number): Promise<number[][]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shares = sinks.map(assigned);
    const all = shares.flat().sort((x, y) => x - y);
    if (all.join() === '0,1,2,3,4,5' || Date.now() > deadline) return shares;
    await sleep(200);
  }
}

test('sinks joining and leaving one group mid-run: every tweet exactly once in HDFS', async (t) => {
  const scene = await sinkScene(t, 'chaos-sink-rebalance');
  const { topic, root, client } = scene;
  const prefilled = await runCli(produceArgs(scene, 51, ['--max-tweets', '60000'], 6), {}, 120_000);
  assert.equal(prefilled.code, 0, prefilled.stderr);
  const live = startCli(produceArgs(scene, 52, ['--rate', '1000'], 6));
  t.after(() => stopCli(live, 'SIGKILL'));

  const startSink = (workers: number) => {
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
        '--workers',
        String(workers),
      ]),
    );
    t.after(() => stopCli(sink, 'SIGKILL'));
    return sink;
  };
  /** A log line of `sink` after its first `mark` lines whose message starts with `msg`. */
  const after = (sink: CliProcess, mark: number, msg: string) => (l: LogLine) =>
    sink.logs.indexOf(l) >= mark && l.msg.startsWith(msg);

  const a = startSink(2);
  await a.waitForLog((l) => l.msg === 'window committed', 90_000);
  assert.deepEqual(assigned(a), [0, 1, 2, 3, 4, 5]);

  // B joins: A gives up partitions (dropping their open windows) and B recovers them from HDFS.
  const aBeforeB = a.logs.length;
  const b = startSink(1);
  await a.waitForLog(after(a, aBeforeB, 'partitions revoked'), 90_000);
  await b.waitForLog((l) => l.msg === 'window committed', 90_000);
  const [aShare = [], bShare = []] = await settledShares([a, b], 60_000);
  assert.deepEqual(
    [...aShare, ...bShare].sort((x, y) => x - y),
    [0, 1, 2, 3, 4, 5],
    `A ${aShare}, B ${bShare}`,
  );
  assert.ok(aShare.length > 0 && bShare.length > 0, `A ${aShare}, B ${bShare}`);
  await sleep(between(1000, 3000));

  // A leaves with SIGTERM (commits its windows); B takes A's partitions over.
  const bBeforeStop = b.logs.length;
  // A worker stopped in the middle of a reset closes its Kafka consumer while the group rebalances, and that close
  // was seen to wait out the client's 30 s request timeout (the sink's own shutdown grace is 30 s too): a SIGKILL
  // at 30 s would cut a clean exit short.
  const stopping = performance.now();
  const aExit = await stopCli(a, 'SIGTERM', 90_000);
  t.diagnostic(`sink A exited ${((performance.now() - stopping) / 1000).toFixed(1)} s after SIGTERM`);
  assert.deepEqual(aExit, { code: 0, signal: null }, a.stderr().slice(-3000));
  await b.waitForLog(
    (l) => after(b, bBeforeStop, 'consumer group joined')(l) && assigned(b).length === 6,
    90_000,
  );
  await b.waitForLog(after(b, bBeforeStop, 'window committed'), 90_000);

  // A comes back: the partitions split again.
  const bBeforeA2 = b.logs.length;
  const a2 = startSink(2);
  await a2.waitForLog((l) => l.msg === 'partitions opened', 90_000);
  await b.waitForLog(after(b, bBeforeA2, 'partitions revoked'), 90_000);
  await sleep(between(1000, 3000));

  const liveExit = await stopCli(live, 'SIGTERM');
  assert.equal(liveExit.code, 0, live.stderr().slice(-2000));
  const timeout = sleep(180_000, null, { ref: false });
  const exits = await Promise.all(
    [a2, b].map((s) => Promise.race([s.exited, timeout]) as Promise<CliExit | null>),
  );
  assert.deepEqual(exits[0], { code: 0, signal: null }, a2.stderr().slice(-3000));
  assert.deepEqual(exits[1], { code: 0, signal: null }, b.stderr().slice(-3000));

  const ids = await consoleKeys(topic);
  const out = await verifySinkOutput(client, { root, topic, expectedIds: ids });
  const resets = [a, b, a2].flatMap((s) => s.logs.filter((l) => l.level === 40 && /^sink reset/.test(l.msg)));
  t.diagnostic(
    `topic ${ids.length} records; HDFS ${out.records} records, ${out.distinctIds} distinct ids in ${out.files} files; ${resets.length} sink resets`,
  );
  for (const l of resets)
    t.diagnostic(`sink reset: ${String((l.err as { message?: string } | undefined)?.message).slice(0, 300)}`);
  assert.deepEqual(out.problems, []);
  assert.equal(out.records, ids.length);
  assert.deepEqual(out.tmpFiles, [], 'files left in _tmp');
});
