/** LiveState with an injected clock: windows, top-k, sampling, rates and history, latency, recent lists. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { registerSecret } from '../../../src/log.ts';
import { histogramQuantile } from '../../../src/observe/histogram-quantile.ts';
import { LiveState } from '../../../src/observe/live-state.ts';
import { Metrics } from '../../../src/observe/metrics.ts';
import type { SourceState } from '../../../src/sources/source.ts';

function setup(opts: { windowS?: number; maxParsePerSecond?: number; historyLength?: number } = {}) {
  const clock = { ms: 1_800_000_000_000 };
  const metrics = new Metrics({ processMetrics: false });
  let source: SourceState = { state: 'connected', reconnects: 0 };
  const live = new LiveState({ metrics, sourceState: () => source, now: () => clock.ms, ...opts });
  return {
    clock,
    metrics,
    live,
    setSource: (s: SourceState) => {
      source = s;
    },
  };
}

const tweet = (lang: string, ...tags: string[]) =>
  Buffer.from(
    JSON.stringify({ id: '1', lang, entities: { hashtags: tags.map((tag) => ({ start: 0, end: 1, tag })) } }),
  );
const times = (n: number, value: Buffer) => Array.from({ length: n }, () => value);
const counts = (ranked: { name: string; count: number }[]) =>
  Object.fromEntries(ranked.map((r) => [r.name, r.count]));

describe('LiveState hashtags and languages', () => {
  test('count over a sliding window of windowS seconds', async () => {
    const { clock, live } = setup({ windowS: 300 });
    live.onTweets(times(3, tweet('en', 'old')));
    clock.ms += 200_000;
    live.onTweets(times(2, tweet('ja', 'new', 'アニメ')));
    clock.ms += 99_000; // 299 s after the first batch: both inside
    let top = (await live.snapshot()).top;
    assert.deepEqual(counts(top.hashtags), { old: 3, new: 2, アニメ: 2 });
    assert.deepEqual(counts(top.languages), { en: 3, ja: 2 });
    assert.equal(top.tweets, 5);
    clock.ms += 1_000; // 300 s: the first second has left the window
    top = (await live.snapshot()).top;
    assert.deepEqual(counts(top.hashtags), { new: 2, アニメ: 2 });
    assert.deepEqual(counts(top.languages), { ja: 2 });
    assert.equal(top.tweets, 2);
    clock.ms += 200_000;
    top = (await live.snapshot()).top;
    assert.deepEqual(top.hashtags, []);
    assert.equal(top.tweets, 0);
  });

  test('top 10, largest first, ties by name; a tag repeated in one tweet counts once', async () => {
    const { live } = setup();
    const values: Buffer[] = [];
    for (let i = 0; i < 12; i++) values.push(...times(i + 1, tweet(`l${i}`, `t${i}`)));
    values.push(tweet('xx', 'tie-b', 'tie-b'), tweet('xx', 'tie-a'));
    values.push(Buffer.from('not json'), Buffer.from('[1,2]'));
    live.onTweets(values);
    const { top } = await live.snapshot();
    assert.deepEqual(
      top.hashtags.map((h) => h.name),
      ['t11', 't10', 't9', 't8', 't7', 't6', 't5', 't4', 't3', 't2'],
    );
    assert.equal(top.hashtags[0]!.count, 12);
    assert.equal(top.languages.length, 10);
    assert.deepEqual(top.languages.slice(-2), [
      { name: 'l3', count: 4 },
      { name: 'l2', count: 3 },
    ]);
    const small = setup();
    small.live.onTweets([tweet('en', 'tie-b', 'tie-b'), tweet('en', 'tie-a')]);
    assert.deepEqual((await small.live.snapshot()).top.hashtags, [
      { name: 'tie-a', count: 1 },
      { name: 'tie-b', count: 1 },
    ]);
  });

  test('above maxParsePerSecond a random sample is parsed and scaled, without aliasing a cycle', async () => {
    // The first second (where the rate is not known yet and parsing stops at the budget) leaves the window.
    const { clock, live } = setup({ maxParsePerSecond: 100, windowS: 5 });
    // Languages cycle with period 10: a sample of every 10th value would see only one of them.
    const cycle = ['en', 'es', 'en', 'ja', 'en', 'pt', 'en', 'fr', 'en', 'de'];
    for (let second = 0; second < 6; second++) {
      for (let batch = 0; batch < 20; batch++)
        live.onTweets(Array.from({ length: 50 }, (_, i) => tweet(cycle[i % 10]!, 'every')));
      clock.ms += 1000;
    }
    clock.ms -= 1000;
    const { top } = await live.snapshot();
    assert.equal(top.tweets, 5000);
    assert.ok(top.sampled <= 500, `parsed ${top.sampled} of 5000`);
    assert.ok(top.sampled >= 300, `parsed ${top.sampled} of 5000`);
    const lang = counts(top.languages);
    assert.ok(Math.abs(counts(top.hashtags).every! - 5000) <= 1000, JSON.stringify(top.hashtags));
    assert.ok(Math.abs(lang.en! - 2500) <= 700, JSON.stringify(lang));
    for (const l of ['es', 'ja', 'pt', 'fr', 'de']) assert.ok((lang[l] ?? 0) > 100, JSON.stringify(lang));
  });

  test('below maxParsePerSecond every value is counted exactly', async () => {
    const { live } = setup({ maxParsePerSecond: 100 });
    live.onTweets(times(100, tweet('en', 'x')));
    const { top } = await live.snapshot();
    assert.equal(top.sampled, 100);
    assert.deepEqual(top.hashtags, [{ name: 'x', count: 100 }]);
  });
});

describe('LiveState rates and history', () => {
  test('rates come from counter deltas between ticks; history keeps the newest points', async () => {
    const { clock, metrics, live } = setup({ historyLength: 3 });
    const first = await live.tick();
    assert.deepEqual(first.rates, { received: 0, produced: 0, consumed: 0, written: 0 });
    metrics.received.inc({ source: 's' }, 600);
    metrics.produced.inc({ topic: 't' }, 500);
    metrics.written.inc({ topic: 't', format: 'jsonl' }, 200);
    clock.ms += 1000;
    const second = await live.tick();
    assert.deepEqual(second.rates, { received: 600, produced: 500, consumed: 0, written: 200 });
    assert.equal(second.totals.produced, 500);
    metrics.produced.inc({ topic: 't' }, 1000);
    clock.ms += 2000;
    assert.equal((await live.tick()).rates.produced, 500);
    // snapshot() between ticks reports the last tick's rates and fresh totals, and takes no point.
    metrics.produced.inc({ topic: 't' }, 7);
    const between = await live.snapshot();
    assert.equal(between.rates.produced, 500);
    assert.equal(between.totals.produced, 1507);
    assert.equal(live.history().length, 3);
    clock.ms += 1000;
    await live.tick();
    const history = live.history();
    assert.equal(history.length, 3);
    assert.deepEqual(
      history.map((p) => p.produced),
      [500, 500, 7],
    );
    assert.ok(history[0]!.time < history[1]!.time && history[1]!.time < history[2]!.time);
    assert.deepEqual((await live.snapshot()).point, history[2]);
  });

  test('lag per partition, sorted, and its total', async () => {
    const { metrics, live } = setup();
    metrics.lag.set({ topic: 't', partition: '10' }, 5);
    metrics.lag.set({ topic: 't', partition: '2' }, 7);
    const { lag, point } = await live.tick();
    assert.deepEqual(lag, {
      total: 12,
      partitions: [
        { topic: 't', partition: 2, lag: 7 },
        { topic: 't', partition: 10, lag: 5 },
      ],
    });
    assert.equal(point?.lag, 12);
  });

  test('latency quantiles cover the last latencyWindowS seconds', async () => {
    const { clock, metrics, live } = setup();
    for (let i = 0; i < 100; i++) metrics.endToEndLatency.observe(i < 90 ? 1.5 : 50);
    let { latency } = await live.tick();
    assert.equal(latency.count, 100);
    assert.ok(latency.p50! > 1 && latency.p50! <= 2, String(latency.p50));
    assert.ok(latency.p95! > 30 && latency.p95! <= 60, String(latency.p95));
    assert.equal(latency.mean, (90 * 1.5 + 10 * 50) / 100);
    clock.ms += 30_000;
    metrics.endToEndLatency.observe(8);
    latency = (await live.tick()).latency;
    assert.equal(latency.count, 1, 'only what was observed since the first tick');
    assert.ok(latency.p50! > 5 && latency.p50! <= 10);
    clock.ms += 61_000;
    latency = (await live.tick()).latency;
    assert.deepEqual(latency, { windowS: 60, count: 0, p50: null, p95: null, mean: null });
  });

  test('histogramQuantile interpolates like Prometheus and caps at the highest finite bound', () => {
    const buckets = [
      { le: 1, count: 0 },
      { le: 2, count: 50 },
      { le: 4, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ];
    assert.equal(histogramQuantile(buckets, 0.5), 2);
    assert.equal(histogramQuantile(buckets, 0.25), 1.5);
    assert.equal(histogramQuantile(buckets, 0.75), 3);
    const tail = [
      { le: 1, count: 1 },
      { le: Number.POSITIVE_INFINITY, count: 10 },
    ];
    assert.equal(histogramQuantile(tail, 0.95), 1);
    assert.equal(histogramQuantile([{ le: Number.POSITIVE_INFINITY, count: 0 }], 0.5), null);
  });
});

describe('LiveState recent files, dead letters and source', () => {
  test('keeps the 20 newest commits and the 10 newest dead-letter reasons, with a full count', async () => {
    const { clock, live } = setup();
    for (let i = 0; i < 25; i++) {
      live.onCommit({ path: `/d/f${i}`, bytes: i * 10, records: i });
      live.onDeadLetter('source', `bad ${i}`);
      clock.ms += 1000;
    }
    const { files, deadLetters } = await live.snapshot();
    assert.equal(files.recent.length, 20);
    assert.deepEqual(files.recent[0], { path: '/d/f24', bytes: 240, records: 24, at: clock.ms - 1000 });
    assert.equal(files.recent[19]!.path, '/d/f5');
    assert.equal(deadLetters.count, 25);
    assert.deepEqual(
      deadLetters.recent.map((d) => d.reason),
      Array.from({ length: 10 }, (_, i) => `bad ${24 - i}`),
    );
  });

  test('reasons are masked and shortened; the source state passes through, masked', async () => {
    const { live, setSource } = setup();
    registerSecret('live-state-test-secret');
    live.onDeadLetter('source', `token live-state-test-secret leaked ${'x'.repeat(1000)}`);
    setSource({ state: 'backing-off', until: 123, reason: 'HTTP 401 live-state-test-secret', reconnects: 4 });
    const { deadLetters, source } = await live.snapshot();
    const reason = deadLetters.recent[0]!.reason;
    assert.ok(!reason.includes('live-state-test-secret') && reason.includes('[REDACTED]'));
    assert.ok(reason.length <= 300);
    assert.deepEqual(source, {
      state: 'backing-off',
      until: 123,
      reason: 'HTTP 401 [REDACTED]',
      reconnects: 4,
    });
  });
});
