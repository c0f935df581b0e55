import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReusedBuffers } from '../../../src/kafka/reused-buffers.ts';
import { assertFreedWhenGiven } from '../../helpers/freed-memory.ts';

describe('ReusedBuffers', () => {
  test('a view held past giveBack reads empty, never the bytes of the buffer its memory is handed to next', () => {
    const buffers = new ReusedBuffers(1 << 20);
    const first = buffers.take(100).fill('a');
    const held = first.subarray(10, 20);
    buffers.giveBack(first);
    const second = buffers.take(100).fill('b');
    assert.equal(held.length, 0);
    assert.equal(held.toString(), '');
    assert.equal(first.length, 0);
    assert.equal(second.toString(), 'b'.repeat(100));
  });

  test('memory given back is handed out again to a take it fits; a larger take gets new memory', () => {
    const buffers = new ReusedBuffers(1 << 20);
    buffers.giveBack(buffers.take(1000).fill('a'));
    // Reused memory keeps its old bytes (like Buffer.allocUnsafe); new memory is zeroed.
    assert.equal(buffers.take(500).toString(), 'a'.repeat(500));
    assert.ok(buffers.take(200 * 1024).every((b) => b === 0));
  });

  test('keeps at most maxFreeBytes for reuse, and ignores buffers it did not hand out', () => {
    const buffers = new ReusedBuffers(64 * 1024);
    const a = buffers.take(60 * 1024).fill('a');
    const b = buffers.take(60 * 1024).fill('b');
    buffers.giveBack(a);
    buffers.giveBack(b);
    assert.equal(buffers.take(10).toString(), 'a'.repeat(10));
    assert.ok(
      buffers.take(10).every((x) => x === 0),
      'the second was not kept',
    );
    const foreign = Buffer.from('foreign');
    buffers.giveBack(foreign);
    assert.equal(foreign.toString(), 'foreign');
  });

  test('memory given back beyond maxFreeBytes is freed at once, not at the next major collection', () => {
    const buffers = new ReusedBuffers(0);
    assertFreedWhenGiven(
      (bytes) => buffers.take(bytes),
      (buffer) => buffers.giveBack(buffer),
    );
  });
});
