import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { delayFor, ReconnectBackoff, type Schedule, sleep } from '../../../src/retry/backoff.ts';
import {
  HIVE_REGISTER,
  SINK_RESET,
  UNTIL_IT_WORKS,
  WEBHDFS_CALL,
  X_RECONNECT,
} from '../../../src/retry/schedules.ts';

describe("X's reconnect schedules", () => {
  test('network errors back off linearly by 250 ms up to 16 s', () => {
    const delays = [1, 2, 3, 4, 63, 64, 65, 1000].map((n) => delayFor(X_RECONNECT.network, n));
    assert.deepEqual(delays, [250, 500, 750, 1000, 15_750, 16_000, 16_000, 16_000]);
  });

  test('HTTP errors back off exponentially from 5 s up to 320 s', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 500].map((n) => delayFor(X_RECONNECT.http, n));
    assert.deepEqual(delays, [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 320_000, 320_000]);
  });

  test('429 backs off exponentially from 60 s, capped at 15 min', () => {
    const delays = [1, 2, 3, 4, 5, 6, 100].map((n) => delayFor(X_RECONNECT['rate-limit'], n));
    assert.deepEqual(delays, [60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000]);
  });

  test('ReconnectBackoff counts each kind separately and resets all of them', () => {
    const b = new ReconnectBackoff(X_RECONNECT);
    assert.equal(b.next('network'), 250);
    assert.equal(b.next('network'), 500);
    assert.equal(b.next('rate-limit'), 60_000, 'a 429 after network errors starts its own schedule');
    assert.equal(b.next('http'), 5_000);
    assert.equal(b.next('http'), 10_000);
    assert.equal(b.attempts('network'), 2);
    b.reset();
    assert.equal(b.next('network'), 250);
    assert.equal(b.next('http'), 5_000);
    assert.equal(b.next('rate-limit'), 60_000);
  });

  test('the schedules are data: tests shrink them to milliseconds', () => {
    const b = new ReconnectBackoff({
      network: { growth: 'linear', firstMs: 1, maxMs: 3, jitter: 'none' },
      http: { growth: 'exponential', firstMs: 2, maxMs: 5, jitter: 'none' },
    } satisfies Record<string, Schedule>);
    assert.deepEqual(
      [b.next('network'), b.next('network'), b.next('network'), b.next('network')],
      [1, 2, 3, 3],
    );
    assert.deepEqual([b.next('http'), b.next('http'), b.next('http')], [2, 4, 5]);
  });
});

describe('jitter', () => {
  test('WebHDFS: equal jitter, between half and all of the doubling step, capped', () => {
    const policy: Schedule = { ...WEBHDFS_CALL, firstMs: 200, maxMs: 10_000 };
    assert.deepEqual(
      [1, 2, 3, 4].map((r) => delayFor(policy, r, () => 0)),
      [100, 200, 400, 800],
    );
    assert.deepEqual(
      [1, 2, 3, 4].map((r) => delayFor(policy, r, () => 0.999999)),
      [200, 400, 800, 1600],
    );
    assert.equal(
      delayFor(policy, 20, () => 0.999999),
      10_000,
    );
    assert.equal(
      delayFor(policy, 20, () => 0),
      5000,
    );
  });

  test('retry-until-it-works: the step times [0.8, 1.2), from 200 ms up to 10 s', () => {
    assert.deepEqual(
      [1, 2, 3].map((r) => delayFor(UNTIL_IT_WORKS, r, () => 0)),
      [160, 320, 640],
    );
    assert.equal(
      delayFor(UNTIL_IT_WORKS, 1, () => 0.5),
      200,
    );
    assert.equal(
      delayFor(UNTIL_IT_WORKS, 30, () => 0.5),
      10_000,
    );
  });

  test('sink resets: 500 ms doubling up to 5 s, no jitter', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 100].map((r) => delayFor(SINK_RESET, r, () => 0)),
      [500, 1000, 2000, 4000, 5000, 5000, 5000],
    );
  });
});

describe('Hive partition registration', () => {
  test('500 ms doubling up to 30 s, no jitter', () => {
    assert.deepEqual(
      [1, 2, 3, 6, 7, 100].map((r) => delayFor(HIVE_REGISTER, r, () => 0)),
      [500, 1000, 2000, 16_000, 30_000, 30_000],
    );
  });
});

describe('sleep', () => {
  test('resolves after the delay', async () => {
    await sleep(1);
  });

  test('rejects with an AbortError when the signal aborts', async () => {
    const ac = new AbortController();
    const pending = sleep(60_000, ac.signal);
    ac.abort();
    await assert.rejects(pending, { name: 'AbortError' });
  });

  test('rejects at once when the signal is already aborted', async () => {
    await assert.rejects(sleep(60_000, AbortSignal.abort()), { name: 'AbortError' });
  });
});
