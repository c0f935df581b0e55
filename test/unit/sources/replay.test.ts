import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ReplaySource } from '../../../src/sources/replay.ts';
import { EndOfInput, type SourceBatch } from '../../../src/sources/source.ts';

const T0 = Date.UTC(2026, 10, 25, 6, 0, 0);
const tweet = (id: string, offsetMs: number) => ({
  id,
  text: `t${id}`,
  created_at: new Date(T0 + offsetMs).toISOString(),
});
const streamLine = (id: string, offsetMs: number) =>
  JSON.stringify({ data: tweet(id, offsetMs), matching_rules: [{ id: '1', tag: 'm' }] });
const searchPage = (...tweets: [string, number][]) =>
  JSON.stringify({ data: tweets.map(([id, off]) => tweet(id, off)), meta: { result_count: tweets.length } });

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tweetpipe-replay-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(source: ReplaySource) {
  const batches: SourceBatch[] = [];
  const signal = AbortSignal.timeout(5_000);
  for (;;) {
    try {
      batches.push(await source.read(signal));
    } catch (err) {
      if (err instanceof EndOfInput) return batches;
      throw err;
    }
  }
}

function fakeTime() {
  const clock = { now: T0 + 3_600_000, sleeps: [] as number[] };
  return {
    clock,
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.now += ms;
    },
  };
}

describe('ReplaySource', () => {
  test('reads stream lines and search pages from several files (one gzipped), then ends with EndOfInput', async () => {
    const a = join(dir, 'a.ndjson');
    const b = join(dir, 'b.ndjson.gz');
    await writeFile(
      a,
      `${streamLine('1', 0)}\r\n\n${searchPage(['3', 2000], ['2', 1000])}\nnot json at all\n${streamLine('1', 0)}\n`,
    );
    await writeFile(b, gzipSync(`${streamLine('4', 3000)}\n`));
    const source = new ReplaySource({ files: [a, b], pace: 'max' });
    await source.connect(AbortSignal.timeout(1_000));
    const batches = await readAll(source);
    const ids = batches.flatMap((x) => x.tweets.map((t) => t.id));
    assert.deepEqual(ids, ['1', '3', '2', '1', '4'], 'pace max keeps file order, repeats included');
    const dead = batches.flatMap((x) => x.deadLetters);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.raw.toString(), 'not json at all');
    assert.equal(source.counters.tweets, 5);
    assert.equal(source.state().state, 'stopped');
    const v = JSON.parse(batches[0]!.tweets[0]!.value.toString());
    assert.equal(v._ingest.source, 'replay');
    await assert.rejects(source.read(AbortSignal.timeout(1_000)), EndOfInput);
  });

  test('pace max never sleeps and fills batches up to batchMaxTweets', async () => {
    const f = join(dir, 'many.ndjson');
    await writeFile(
      f,
      Array.from({ length: 25 }, (_, i) => streamLine(String(i + 1), i * 60_000)).join('\n'),
    );
    const time = fakeTime();
    const source = new ReplaySource({ files: [f], pace: 'max', batchMaxTweets: 10, ...time });
    await source.connect(AbortSignal.timeout(1_000));
    const batches = await readAll(source);
    assert.deepEqual(
      batches.map((x) => x.tweets.length),
      [10, 10, 5],
    );
    assert.deepEqual(time.clock.sleeps, []);
  });

  test('pace original reproduces the created_at gaps, in time order even inside a newest-first search page', async () => {
    const f = join(dir, 'paced.ndjson');
    await writeFile(
      f,
      `${streamLine('1', 0)}\n${searchPage(['3', 5000], ['2', 2000])}\n${streamLine('4', 4000)}\n`,
    );
    const time = fakeTime();
    const source = new ReplaySource({ files: [f], pace: 'original', ...time });
    await source.connect(AbortSignal.timeout(1_000));
    const batches = await readAll(source);
    const ids = batches.flatMap((x) => x.tweets.map((t) => t.id));
    assert.deepEqual(ids, ['1', '2', '3', '4']);
    assert.deepEqual(time.clock.sleeps, [2000, 3000], 'tweet 4 is late (4 s < 5 s) and goes out at once');
    assert.deepEqual(
      batches.map((x) => x.tweets.map((t) => t.id)),
      [['1'], ['2'], ['3', '4']],
      'a batch is handed out before waiting for the next due tweet',
    );
  });

  test('connect() fails with USAGE naming a missing file', async () => {
    const source = new ReplaySource({ files: [join(dir, 'nope.ndjson')], pace: 'max' });
    await assert.rejects(source.connect(AbortSignal.timeout(1_000)), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'USAGE');
      assert.match(err.message, /nope\.ndjson/);
      return true;
    });
  });
});
