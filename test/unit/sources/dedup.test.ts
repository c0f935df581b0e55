import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DedupWindow } from '../../../src/sources/dedup.ts';

describe('DedupWindow', () => {
  test('reports the second sighting of an id as a duplicate', () => {
    const w = new DedupWindow(10);
    assert.equal(w.add('1'), true);
    assert.equal(w.add('2'), true);
    assert.equal(w.add('1'), false);
    assert.equal(w.size, 2);
  });

  test('forgets the oldest id once full, and never grows past its capacity', () => {
    const w = new DedupWindow(3);
    for (const id of ['1', '2', '3', '4']) w.add(id);
    assert.equal(w.size, 3);
    assert.equal(w.has('1'), false, 'the oldest id was evicted');
    assert.equal(w.has('4'), true);
    assert.equal(w.add('1'), true, 'an evicted id counts as new again');
    assert.equal(w.has('2'), false, 'adding 1 evicted the next oldest');
    for (let i = 0; i < 10_000; i++) w.add(String(1000 + i));
    assert.equal(w.size, 3);
  });

  test('a duplicate does not refresh or move the ring', () => {
    const w = new DedupWindow(2);
    w.add('1');
    w.add('2');
    w.add('1');
    w.add('3');
    assert.deepEqual([w.has('1'), w.has('2'), w.has('3')], [false, true, true]);
  });

  test('capacity 0 disables deduplication', () => {
    const w = new DedupWindow(0);
    assert.equal(w.add('1'), true);
    assert.equal(w.add('1'), true);
    assert.equal(w.size, 0);
  });

  test('rejects a negative or fractional capacity', () => {
    assert.throws(() => new DedupWindow(-1), RangeError);
    assert.throws(() => new DedupWindow(1.5), RangeError);
  });
});
