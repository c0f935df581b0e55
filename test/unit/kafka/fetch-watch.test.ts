import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FetchWatch } from '../../../src/kafka/fetch-watch.ts';

const FETCHING = { assigned: true, paused: false };

test('silence shorter than the bound is no stall; at the bound it is, measured from the last sign of life', () => {
  const watch = new FetchWatch(60_000, 1000);
  assert.equal(watch.stalledFor(60_999, FETCHING), undefined);
  assert.equal(watch.stalledFor(61_000, FETCHING), 60_000);
  watch.alive(70_000);
  assert.equal(watch.stalledFor(129_999, FETCHING), undefined);
  assert.equal(watch.stalledFor(135_000, FETCHING), 65_000);
});

test('no assignment or a pause is never a stall, and the silence counts only from when fetching was due again', () => {
  const watch = new FetchWatch(60_000, 0);
  assert.equal(watch.stalledFor(100_000, { assigned: false, paused: false }), undefined);
  assert.equal(watch.stalledFor(150_000, FETCHING), undefined, 'counted the time without an assignment');
  assert.equal(watch.stalledFor(200_000, { assigned: true, paused: true }), undefined);
  assert.equal(watch.stalledFor(259_999, FETCHING), undefined, 'counted the paused time');
  assert.equal(watch.stalledFor(260_000, FETCHING), 60_000);
});
