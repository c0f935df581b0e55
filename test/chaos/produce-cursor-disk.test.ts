/**
 * Chaos: the producer's cursor directory cannot take the cursor. Tests run as root, whom file modes do not stop,
 * so "unwritable" is a state directory that is a file, and "full" is a tiny tmpfs mounted on the state directory
 * and filled up. A producer that cannot save its cursor must stop with an error naming the cursor path and the
 * cause, and lose nothing: the tweets Kafka acknowledged stay in the topic, and a producer started again once the
 * disk has room reads from the old cursor, the dedup window (seeded from the topic's tail) drops what is already
 * there, and the topic ends with every matching tweet exactly once.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startXEmulator } from '../../src/x-emulator/server.ts';
import { runCli, startCli, stopCli } from '../helpers/cli.ts';
import { LOG } from '../helpers/sink-chaos.ts';
import { consoleKeys, deleteTopics, topicRecordCount, uniqueTopic } from '../helpers/topics.ts';

const QUERY = 'music lang:en -is:retweet';
const TOKEN = { X_BEARER_TOKEN: 'chaos-token' };

const produceArgs = (url: string, topic: string, stateDir: string) => [
  'produce',
  '--source',
  'x-search',
  '--x-api-url',
  url,
  '--query',
  QUERY,
  '--topic',
  topic,
  '--state-dir',
  stateDir,
  ...LOG,
];

test('cursor directory is a file: the producer refuses to start, naming the path', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tweetpipe-chaos-cursor-file-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const notADir = join(dir, 'state');
  await writeFile(notADir, 'not a directory');
  const emulator = await startXEmulator({ rate: 0, seed: 5 });
  t.after(() => emulator.close());
  const topic = uniqueTopic('chaos-cursor-file');
  t.after(() => deleteTopics([topic, `${topic}.dlq`]));

  const run = await runCli(produceArgs(emulator.url, topic, notADir), TOKEN, 60_000);
  const said = run.stderr.slice(-2000);
  t.diagnostic(said);
  assert.notEqual(run.code, 0);
  assert.ok(said.includes(notADir), `the error does not name ${notADir}`);
  assert.match(said, /not a directory|ENOTDIR|EEXIST/i);
});

test('cursor directory full: the producer stops with a clear error, and nothing is lost', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'tweetpipe-chaos-cursor-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', stateDir]);
  t.after(async () => {
    execFileSync('umount', [stateDir]);
    await rm(stateDir, { recursive: true, force: true });
  });
  // Fill the tmpfs: every further block written fails with ENOSPC.
  const filler = join(stateDir, 'filler');
  try {
    await writeFile(filler, Buffer.alloc(64 * 1024));
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  const emulator = await startXEmulator({
    rate: 0,
    seed: 5,
    rules: [{ value: QUERY, tag: 'q' }],
    rateLimits: { search: { limit: 100_000, windowMs: 3000 } },
  });
  t.after(() => emulator.close());
  const topic = uniqueTopic('chaos-cursor-full');
  t.after(() => deleteTopics([topic, `${topic}.dlq`]));
  emulator.publish(3000);

  const full = await runCli(produceArgs(emulator.url, topic, stateDir), TOKEN, 60_000);
  const said = full.stderr.slice(-2000);
  t.diagnostic(said);
  assert.notEqual(full.code, 0, 'the producer went on without saving its cursor');
  assert.ok(said.includes(stateDir), `the error does not name the cursor directory ${stateDir}`);
  assert.match(said, /ENOSPC|no space/i);

  // Tweets keep coming while no producer runs; the next one must take them and what the failed run had in flight.
  await rm(filler);
  emulator.publish(1500);
  const expected = emulator.published({ matching: true });
  const again = startCli(produceArgs(emulator.url, topic, stateDir), TOKEN);
  t.after(() => stopCli(again, 'SIGKILL'));
  await again.waitForLog((l) => l.msg === 'polling X recent search', 30_000);
  const deadline = Date.now() + 60_000;
  while ((await topicRecordCount(topic)) < expected.length && Date.now() < deadline) await sleep(500);
  const exit = await stopCli(again, 'SIGTERM');
  assert.equal(exit.code, 0, again.stderr().slice(-2000));

  const keys = await consoleKeys(topic);
  const distinct = new Set(keys);
  t.diagnostic(`${expected.length} matching tweets; topic ${keys.length} records, ${distinct.size} distinct`);
  assert.deepEqual(
    expected.filter((id) => !distinct.has(id)),
    [],
    'tweets missing from the topic',
  );
  assert.equal(keys.length, distinct.size, 'duplicate keys in the topic');
  assert.equal(distinct.size, expected.length, 'ids in the topic that did not match the query');
});
