/**
 * Chaos: `tweetpipe produce --source x-stream` killed with SIGKILL at random moments and restarted with the same
 * state directory, against an X API emulator that ends the stream every few seconds, answers 429 to a share of the
 * stream connects and searches, and re-sends recent tweets after every reconnect. Tweets are published from the
 * test at ~100/s throughout. Afterwards Kafka's own ConsoleConsumer must find every matching tweet the emulator
 * published (while a producer ran or while none did) exactly once.
 *
 * The expected set starts at the first stream connection: publishing begins only once the emulator has accepted
 * it, and the emulator generates nothing on its own (rate 0). Gaps are filled by recent search 35 s after each
 * reconnect (see src/sources/x-stream.ts), so the last producer runs until the topic count reaches the expected
 * count, polled with a generous bound.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startXEmulator } from '../../src/x-emulator/server.ts';
import { type CliProcess, type LogLine, startCli, stopCli } from '../helpers/cli.ts';
import { consoleKeys, deleteTopics, topicRecordCount, uniqueTopic } from '../helpers/topics.ts';

const KILLS = 2;
const PUBLISH_PER_TICK = 5;
const TICK_MS = 50;
/**
 * A safety bound, not the expected time: the gap search delay (35 s) after a 429 backoff (60 s, 120 s for a second
 * 429 in a row) that may begin just before publishing stops.
 */
const CONVERGE_TIMEOUT_MS = 240_000;

const between = (minMs: number, maxMs: number) => Math.round(minMs + Math.random() * (maxMs - minMs));

test('produce survives kill -9 under disconnect storms, 429s and duplicates: every tweet exactly once', async (t) => {
  const emulator = await startXEmulator({
    rate: 0,
    heartbeatMs: 500,
    seed: 23,
    scenarios: ['disconnect-storm', 'rate-limit', 'duplicates-after-reconnect'],
    scenarioSettings: { disconnectEveryMs: 4000, rateLimitEvery: 7, duplicateCount: 5 },
    // Only the scenario's 429s: the stream's own 50-per-15-minutes budget would not survive the storm, and a
    // search 429 waits for the window's reset, which must stay seconds away.
    rateLimits: {
      stream: { limit: 100_000, windowMs: 15 * 60_000 },
      search: { limit: 100_000, windowMs: 3000 },
    },
  });
  const stateDir = await mkdtemp(join(tmpdir(), 'tweetpipe-chaos-produce-'));
  const topic = uniqueTopic('chaos-produce');
  t.after(async () => {
    await emulator.close();
    await deleteTopics([topic, `${topic}.dlq`]);
    await rm(stateDir, { recursive: true, force: true });
  });

  const runs: CliProcess[] = [];
  const startProducer = () => {
    const run = startCli(
      [
        'produce',
        '--source',
        'x-stream',
        '--x-api-url',
        emulator.url,
        '--topic',
        topic,
        '--state-dir',
        stateDir,
        '--log-format',
        'json',
        '--log-level',
        'info',
      ],
      { X_BEARER_TOKEN: 'chaos-token' },
    );
    runs.push(run);
    t.after(() => stopCli(run, 'SIGKILL'));
    return run;
  };

  let producer = startProducer();
  await producer.waitForLog((l) => l.msg === 'stream rules synced', 30_000);
  const connectDeadline = Date.now() + 30_000;
  while (emulator.stats().connections === 0) {
    assert.ok(Date.now() < connectDeadline, 'the first producer never connected to the stream');
    await sleep(20);
  }
  const publisher = setInterval(() => emulator.publish(PUBLISH_PER_TICK), TICK_MS);
  t.after(() => clearInterval(publisher));

  // The first run lives past its first gap searches (35 s after the early reconnects), so its cursor has moved
  // and it dies among later ones; the next runs die before their own resume search, so the one after must redo it.
  const moments: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    const runFor = k === 0 ? between(36_000, 48_000) : between(3000, 12_000);
    const downFor = between(100, 3000);
    moments.push(`kill ${k + 1} after ${runFor} ms, down ${downFor} ms`);
    await sleep(runFor);
    producer.child.kill('SIGKILL');
    const killed = await producer.exited;
    assert.equal(
      killed.signal,
      'SIGKILL',
      `run ${k + 1} ended on its own: ${producer.stderr().slice(-2000)}`,
    );
    await sleep(downFor);
    producer = startProducer();
  }
  await sleep(between(3000, 8000));
  clearInterval(publisher);
  const expected = emulator.published({ matching: true });
  const publishedAll = emulator.published().length;

  // The last producer fills the remaining gaps by search 35 s after its reconnects; wait for the count.
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  let inTopic = await topicRecordCount(topic);
  while (inTopic < expected.length && Date.now() < deadline) {
    assert.equal(
      producer.child.exitCode,
      null,
      `the last producer exited: ${producer.stderr().slice(-2000)}`,
    );
    await sleep(1000);
    inTopic = await topicRecordCount(topic);
  }
  const exit = await stopCli(producer, 'SIGTERM');
  assert.equal(exit.code, 0, `the last producer did not stop cleanly: ${producer.stderr().slice(-2000)}`);

  const keys = await consoleKeys(topic);
  const distinct = new Set(keys);
  const wanted = new Set(expected);
  const missing = expected.filter((id) => !distinct.has(id));
  const unexpected = [...distinct].filter((id) => !wanted.has(id));
  const logs = runs.flatMap((r) => r.logs);
  const stats = emulator.stats();
  t.diagnostic(moments.join('; '));
  t.diagnostic(
    `published ${publishedAll} (matching ${expected.length}); in topic ${keys.length} (${distinct.size} distinct); ` +
      `missing ${missing.length}; duplicate keys ${keys.length - distinct.size}`,
  );
  t.diagnostic(
    `duplicates re-sent by X ${stats.duplicatesSent}, dropped by the producers ${duplicatesDropped(runs)} (last report of each run); ` +
      `reconnects ${logs.filter((l) => l.msg === 'X stream disconnected; reconnecting').length}; ` +
      `stream connections ${stats.connections}; 429s ${stats.rateLimited}; ` +
      `gap searches ${logs.filter((l) => l.msg === 'outage gap filled with recent search').length}`,
  );

  assert.ok(expected.length > 200, `only ${expected.length} matching tweets were published`);
  assert.ok(stats.rateLimited > 0 && stats.duplicatesSent > 0 && stats.disconnectsInjected > 0);
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} published tweets are not in the topic`);
  assert.equal(keys.length, distinct.size, `${keys.length - distinct.size} duplicate keys in the topic`);
  assert.deepEqual(unexpected, [], 'ids in the topic that the emulator never published as matching');
});

/** Duplicates each run reported last (its final summary, else its latest progress line), summed. */
function duplicatesDropped(runs: CliProcess[]): number {
  let total = 0;
  for (const run of runs) {
    const last = run.logs.findLast(
      (l: LogLine) => l.summary !== undefined || (l.msg === 'progress' && l.progress !== undefined),
    );
    const counts = (last?.summary ?? last?.progress) as { duplicates?: number } | undefined;
    total += counts?.duplicates ?? 0;
  }
  return total;
}
