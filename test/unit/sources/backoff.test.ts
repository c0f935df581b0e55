import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, ReconnectBackoff, sleep, X_RECONNECT_POLICY } from '../../../src/sources/backoff.ts';

describe('X reconnect policy', () => {
  test('network errors back off linearly by 250 ms up to 16 s', () => {
    const delays = [1, 2, 3, 4, 63, 64, 65, 1000].map((n) => backoffDelay('network', n));
    assert.deepEqual(delays, [250, 500, 750, 1000, 15_750, 16_000, 16_000, 16_000]);
  });

  test('HTTP errors back off exponentially from 5 s up to 320 s', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 500].map((n) => backoffDelay('http', n));
    assert.deepEqual(delays, [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 320_000, 320_000]);
  });

  test('429 backs off exponentially from 60 s, capped at 15 min', () => {
    const delays = [1, 2, 3, 4, 5, 6, 100].map((n) => backoffDelay('rate-limit', n));
    assert.deepEqual(delays, [60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000]);
  });

  test('ReconnectBackoff counts each kind separately and resets all of them', () => {
    const b = new ReconnectBackoff();
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

  test('the policy is injectable (tests shrink it to milliseconds)', () => {
    const tiny = {
      network: { stepMs: 1, maxMs: 3 },
      http: { initialMs: 2, maxMs: 5 },
      rateLimit: { initialMs: 4, maxMs: 8 },
    };
    const b = new ReconnectBackoff(tiny);
    assert.deepEqual(
      [b.next('network'), b.next('network'), b.next('network'), b.next('network')],
      [1, 2, 3, 3],
    );
    assert.deepEqual([b.next('http'), b.next('http'), b.next('http')], [2, 4, 5]);
    assert.deepEqual([b.next('rate-limit'), b.next('rate-limit'), b.next('rate-limit')], [4, 8, 8]);
    assert.equal(X_RECONNECT_POLICY.network.stepMs, 250, 'the default policy is not modified');
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
