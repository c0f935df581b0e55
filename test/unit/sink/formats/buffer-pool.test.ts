import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BufferPool } from '../../../../src/sink/formats/buffer-pool.ts';
import { assertFreedWhenGiven } from '../../../helpers/freed-memory.ts';

describe('BufferPool', () => {
  test('a buffer is its size class (a power of two) and comes back for a later request of that class', () => {
    const pool = new BufferPool(1024 * 1024);
    const first = pool.take(100_000);
    assert.equal(first.length, 131_072);
    pool.give(first.subarray(0, 10));
    const again = pool.take(70_000);
    assert.equal(again.buffer, first.buffer, 'the same memory, through any view of it');
    assert.notEqual(pool.take(70_000).buffer, first.buffer, 'lent once at a time');
    assert.equal(pool.take(200_000).length, 262_144, 'another class: new memory');
  });

  test('takes back only what it lent and has not got back: a foreign or twice given buffer is never lent again', () => {
    const pool = new BufferPool(1024 * 1024);
    const foreign = Buffer.allocUnsafeSlow(65_536);
    pool.give(foreign);
    assert.notEqual(pool.take(65_536).buffer, foreign.buffer, 'a buffer it did not lend');
    const lent = pool.take(65_536);
    pool.give(lent);
    pool.give(lent);
    const a = pool.take(65_536);
    const b = pool.take(65_536);
    assert.equal(a.buffer, lent.buffer);
    assert.notEqual(b.buffer, lent.buffer, 'given twice, kept once: never lent to two holders');
  });

  test('keeps free buffers up to its byte cap and drops the ones beyond', () => {
    const pool = new BufferPool(65_536);
    const a = pool.take(65_536);
    const b = pool.take(65_536);
    pool.give(a);
    pool.give(b);
    assert.equal(pool.take(65_536).buffer, a.buffer, 'the first fitted under the cap');
    assert.notEqual(pool.take(65_536).buffer, b.buffer, 'the second did not: dropped');
  });

  test('a buffer dropped beyond the cap is freed at once, not at the next major collection', () => {
    const pool = new BufferPool(0);
    const lent = assertFreedWhenGiven(
      (bytes) => pool.take(bytes),
      (buffer) => pool.give(buffer),
    );
    assert.equal(lent[0]!.length, 0, 'a view of the freed memory reads empty');
  });
});
