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

describe('DedupWindow, ids of every form', () => {
  test('ids that are no canonical decimal number are kept apart, and evicted in turn with the numbers', () => {
    const w = new DedupWindow(4);
    for (const id of ['0123', '123', 'abc', '']) assert.equal(w.add(id), true, `first sighting of '${id}'`);
    for (const id of ['0123', '123', 'abc', '']) assert.equal(w.add(id), false, `second sighting of '${id}'`);
    assert.equal(w.size, 4);
    assert.equal(w.add('9'.repeat(25)), true);
    assert.equal(w.has('0123'), false, 'the oldest, a leading-zero id, was evicted');
    assert.equal(w.has('123'), true);
    assert.equal(w.add('7'), true);
    assert.equal(w.has('123'), false, 'then the oldest number');
    assert.deepEqual(
      ['abc', '', '9'.repeat(25), '7'].map((id) => w.has(id)),
      [true, true, true, true],
    );
    assert.equal(w.size, 4);
  });

  test('ids that differ only in their high or low digits, up to 24 digits, are different ids', () => {
    const w = new DedupWindow(100);
    const ids = [
      '9223372036854775807',
      '9223372036854775806',
      '9223372026854775807',
      '1223372036854775807',
      '123456789012345678901234',
      '123456789012345678901235',
      '223456789012345678901234',
      '1000000000',
      '100000000',
      '1',
    ];
    for (const id of ids) assert.equal(w.add(id), true, id);
    for (const id of ids) assert.equal(w.has(id), true, id);
    assert.equal(w.size, ids.length);
  });

  test('agrees with a Set and a ring of strings over 200,000 random adds with repeats and evictions', () => {
    // A small id space (so repeats and probe chains are common) and a window a fraction of it, crossing the
    // table's growth and the ring's wrap many times.
    let state = 42;
    const random = () => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state / 2 ** 32;
    };
    const capacity = 3000;
    const w = new DedupWindow(capacity);
    const seen = new Set<string>();
    const ring: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const r = random();
      const id =
        r < 0.02
          ? `x${Math.floor(random() * 500)}`
          : String(1_800_000_000_000_000_000n + BigInt(Math.floor(random() * 20_000)) * 4_194_304n);
      const fresh = !seen.has(id);
      if (fresh) {
        if (ring.length === capacity) seen.delete(ring.shift()!);
        ring.push(id);
        seen.add(id);
      }
      assert.equal(w.add(id), fresh, `add #${i} (${id})`);
      if (i % 1000 === 0) {
        assert.equal(w.size, seen.size);
        for (let k = 0; k < 50; k++) {
          const probe = String(
            1_800_000_000_000_000_000n + BigInt(Math.floor(random() * 20_000)) * 4_194_304n,
          );
          assert.equal(w.has(probe), seen.has(probe), `has(${probe}) after add #${i}`);
        }
      }
    }
  });
});
