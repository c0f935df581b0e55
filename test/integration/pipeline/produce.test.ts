/**
 * `tweetpipe produce` end to end: the real CLI process against the real Kafka broker (TWEETPIPE_BROKERS) and, for
 * the X sources, the in-process X API emulator. What landed in Kafka is read back by Kafka's own ConsoleConsumer;
 * headers and timestamps by a separate consumer. One unique topic per test, deleted at the end.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECORD_SCHEMA_VERSION } from '../../../src/types.ts';
import { startXEmulator } from '../../../src/x-emulator/server.ts';
import { type LogLine, runCli, startCli, stopCli } from '../../helpers/cli.ts';
import {
  consoleKeys,
  deleteTopics,
  readRecords,
  topicRecordCount,
  uniqueTopic,
} from '../../helpers/topics.ts';

/** Info level whatever the test runner sets (TWEETPIPE_LOG_LEVEL=warn): some tests wait for info lines. */
const LOG = ['--log-format', 'json', '--log-level', 'info'];
const ENV = { X_BEARER_TOKEN: 'emulator-token' };

let dir: string;
const topics: string[] = [];

/** A fresh topic (and its DLQ) that is deleted after the file's tests. */
function newTopic(label: string): string {
  const topic = uniqueTopic(label);
  topics.push(topic, `${topic}.dlq`);
  return topic;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tweetpipe-produce-it-'));
});
after(async () => {
  await deleteTopics(topics);
  await rm(dir, { recursive: true, force: true });
});

/** Polls `check` until it is true; fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('tweetpipe produce against the real Kafka', () => {
  test('synthetic: 20,000 distinct keys, values carry id and created_at, headers and timestamps per the contract', async () => {
    const topic = newTopic('synthetic');
    const run = await runCli([
      'produce',
      '--source',
      'synthetic',
      '--max-tweets',
      '20000',
      '--seed',
      '7',
      '--topic',
      topic,
      '--state-dir',
      join(dir, 'synthetic'),
      ...LOG,
    ]);
    assert.equal(run.code, 0, run.stderr);
    // This machine has libzstd (the OS package libzstd1): the producer says it compresses through it.
    assert.ok(
      run.logs.some((l) => l.msg.startsWith('zstd batches compress with libzstd') && l.level === 30),
      run.stderr.slice(-2000),
    );

    const keys = await consoleKeys(topic);
    assert.equal(keys.length, 20_000);
    assert.equal(new Set(keys).size, 20_000);

    const records = await readRecords(topic, 20_000);
    assert.equal(records.length, 20_000);
    for (const r of records) {
      const value = JSON.parse(r.value) as { id?: unknown; created_at?: unknown };
      assert.equal(value.id, r.key);
      assert.equal(typeof value.created_at, 'string');
      assert.equal(r.timestamp, Date.parse(value.created_at as string), `timestamp of ${r.key}`);
      assert.equal(r.headers.get('source'), 'synthetic');
      assert.equal(r.headers.get('schema_version'), String(RECORD_SCHEMA_VERSION));
    }
  });

  test('replay: good tweets land once, a malformed line and a payload without id land in the DLQ with a reason', async () => {
    const topic = newTopic('replay');
    const tweet = (id: string, second: number) => ({
      id,
      text: `tweet ${id} about music`,
      created_at: `2026-11-25T06:00:0${second}.000Z`,
      author_id: '42',
    });
    const file = join(dir, 'capture.ndjson');
    await writeFile(
      file,
      [
        JSON.stringify({
          data: tweet('1001', 1),
          includes: { users: [{ id: '42', username: 'someone' }] },
          matching_rules: [{ id: '7', tag: 'music' }],
        }),
        JSON.stringify({ data: [tweet('1003', 3), tweet('1002', 2)], meta: { result_count: 2 } }),
        '{"data": {"id": "1004", "text": "cut in the mid',
        JSON.stringify({ data: { text: 'no id here', created_at: '2026-11-25T06:00:05.000Z' } }),
        JSON.stringify({ data: tweet('1001', 1), matching_rules: [{ id: '7', tag: 'music' }] }),
        JSON.stringify({ data: tweet('1005', 5), matching_rules: [{ id: '7', tag: 'music' }] }),
      ].join('\n'),
    );
    const run = await runCli([
      'produce',
      '--source',
      'replay',
      '--file',
      file,
      '--topic',
      topic,
      '--state-dir',
      join(dir, 'replay'),
      ...LOG,
    ]);
    assert.equal(run.code, 0, run.stderr);

    assert.deepEqual((await consoleKeys(topic)).sort(), ['1001', '1002', '1003', '1005']);
    assert.equal(await topicRecordCount(`${topic}.dlq`), 2);
    const letters = await readRecords(`${topic}.dlq`, 2);
    const reasons = letters.map((l) => l.headers.get('reason') ?? '').sort();
    assert.match(reasons[0] ?? '', /^data without a string id/);
    assert.match(reasons[1] ?? '', /^not JSON/);
    assert.ok(letters.some((l) => l.value.includes('cut in the mid')));
    assert.ok(letters.every((l) => l.headers.get('source') === 'replay'));
  });

  test('x-stream: the topic holds exactly the tweets the emulator published that match the stream rules', async (t) => {
    const emulator = await startXEmulator({ rate: 0, heartbeatMs: 200, seed: 11 });
    t.after(() => emulator.close());
    const topic = newTopic('x-stream');
    const run = startCli(
      [
        'produce',
        '--source',
        'x-stream',
        '--x-api-url',
        emulator.url,
        '--duration',
        '6',
        '--topic',
        topic,
        '--state-dir',
        join(dir, 'x-stream'),
        ...LOG,
      ],
      ENV,
    );
    t.after(() => stopCli(run, 'SIGKILL'));
    await until(() => emulator.stats().connections >= 1, 20_000, 'the stream connection');
    for (let i = 0; i < 4; i++) {
      emulator.publish(100);
      await sleep(250);
    }
    const exit = await run.exited;
    assert.equal(exit.code, 0, run.stderr());

    const matching = emulator.published({ matching: true });
    assert.ok(matching.length > 0 && matching.length < 400, `${matching.length} of 400 tweets matched`);
    assert.deepEqual((await consoleKeys(topic)).sort(), matching.sort());
  });

  test('an unknown flag and a malformed --max-tweets exit with code 2 and name the flag', async () => {
    const unknown = await runCli(['produce', '--no-such-flag']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--no-such-flag/);

    const bad = await runCli(['produce', '--source', 'synthetic', '--max-tweets', 'abc']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--max-tweets/);
    assert.match(bad.stderr, /abc/);
  });

  test('a bearer token X rejects (401) exits with code 1, names X_BEARER_TOKEN and never shows the token', async (t) => {
    const emulator = await startXEmulator({ rate: 0, heartbeatMs: 200, token: 'the-right-token-0123' });
    t.after(() => emulator.close());
    const wrong = 'wrong-token-must-not-leak-9876';
    const run = await runCli(
      [
        'produce',
        '--source',
        'x-stream',
        '--x-api-url',
        emulator.url,
        '--topic',
        newTopic('unauthorized'),
        '--state-dir',
        join(dir, 'unauthorized'),
        ...LOG,
      ],
      { X_BEARER_TOKEN: wrong },
      30_000,
    );
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /X_BEARER_TOKEN/);
    assert.ok(!run.stderr.includes(wrong), 'the token appears on stderr');
    assert.ok(!run.stdout.includes(wrong), 'the token appears on stdout');
  });

  test('an unreachable broker: the producer keeps retrying and says so, it neither exits nor drops', async (t) => {
    const run = startCli(
      [
        'produce',
        '--source',
        'synthetic',
        '--max-tweets',
        '100',
        '--topic',
        uniqueTopic('unreachable'),
        '--state-dir',
        join(dir, 'unreachable'),
        ...LOG,
      ],
      { TWEETPIPE_BROKERS: 'localhost:1' },
    );
    t.after(() => stopCli(run, 'SIGKILL'));
    const retrying = (attempt: number) => (l: LogLine) =>
      l.level === 40 && l.attempt === attempt && /retrying in/.test(l.msg);
    const first = await run.waitForLog(retrying(1), 30_000);
    assert.match(first.msg, /localhost:1/);
    // Still trying on a later attempt: it must not give up (exit) while the tweets are not in Kafka.
    await run.waitForLog(retrying(3), 60_000);
    assert.equal(run.child.exitCode, null, 'the producer exited while the broker was unreachable');
    assert.ok(!run.logs.some((l) => /^produced \d+ tweets/.test(l.msg)), 'claimed to have produced tweets');
    const exit = await stopCli(run, 'SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
  });
});
