import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { compressionsAlgorithms } from '@platformatic/kafka';
import { ReusedBuffers } from '../../../src/kafka/reused-buffers.ts';
import { installZstdCodec, zstdContentSize, zstdDecompressReused } from '../../../src/kafka/zstd-codec.ts';

describe('zstd codec', () => {
  test('reads the content size of frames of every field width', () => {
    for (const size of [0, 1, 200, 255, 256, 300, 65_791, 65_792, 1_000_000]) {
      const frame = zstdCompressSync(Buffer.alloc(size, 'a'));
      assert.equal(zstdContentSize(frame), size, `a frame of ${size} bytes`);
    }
  });

  test('says nothing about frames without a size, or bytes that are no zstd frame', () => {
    // Magic, a descriptor with no content size and no single segment, a window descriptor, then blocks.
    const unsized = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x48, 0x01, 0x00, 0x00]);
    assert.equal(zstdContentSize(unsized), undefined);
    assert.equal(zstdContentSize(Buffer.from('{"id":"1"} not zstd')), undefined);
    assert.equal(zstdContentSize(Buffer.from([0x28, 0xb5])), undefined);
  });

  test("the client's zstd codec round-trips after the install, Buffer or DynamicBuffer-like input", () => {
    const codec = compressionsAlgorithms.zstd as unknown as {
      compressSync(d: unknown): Buffer;
      decompressSync(d: unknown): Buffer;
    };
    const data = Buffer.from(JSON.stringify({ id: '1', text: 'music '.repeat(5000) }));
    const sizes: number[] = [];
    for (const level of [1, 19]) {
      installZstdCodec(level);
      const frame = codec.compressSync(data);
      sizes.push(frame.length);
      assert.equal(zstdContentSize(frame), data.length);
      assert.ok(zstdDecompressSync(frame).equals(data), 'a standard zstd frame');
      assert.ok(codec.decompressSync(frame).equals(data));
      assert.ok(codec.decompressSync({ buffer: frame }).equals(data));
      assert.ok(codec.compressSync({ buffer: data }).equals(frame));
    }
    assert.notEqual(sizes[0], sizes[1], 'the level is applied');
    installZstdCodec(1);
  });

  test('a batch decompresses into one buffer of its size: zlib allocates no second chunk', () => {
    installZstdCodec(1);
    const codec = compressionsAlgorithms.zstd as unknown as { decompressSync(d: unknown): Buffer };
    const data = Buffer.from(JSON.stringify({ id: '1', text: 'music '.repeat(50_000) }));
    const frame = zstdCompressSync(data);
    // node:zlib takes its output chunks from Buffer.allocUnsafe, looked up at each call.
    const allocUnsafe = Buffer.allocUnsafe;
    const large: number[] = [];
    Buffer.allocUnsafe = (size: number) => {
      if (size >= data.length) large.push(size);
      return allocUnsafe(size);
    };
    try {
      assert.ok(codec.decompressSync(frame).equals(data));
    } finally {
      Buffer.allocUnsafe = allocUnsafe;
    }
    assert.deepEqual(large, [data.length + 1], 'one output chunk, with room for the whole content');
  });

  test('decompresses into reused buffers; says undefined (and gives the buffer back) where it cannot', () => {
    const reused = new ReusedBuffers(1 << 20);
    let lent = 0;
    const take = reused.take.bind(reused);
    const giveBack = reused.giveBack.bind(reused);
    reused.take = (size) => {
      lent++;
      return take(size);
    };
    reused.giveBack = (buffer) => {
      lent--;
      giveBack(buffer);
    };
    const data = Buffer.from(JSON.stringify({ id: '1', text: 'music '.repeat(5000) }));
    const frame = zstdCompressSync(data);
    const out = zstdDecompressReused(frame, reused);
    assert.ok(out?.equals(data));
    reused.giveBack(out!);
    assert.equal(out!.length, 0, 'the buffer came from the reused ones');
    // Two frames (no Kafka client writes them in one batch): the first one's size is too small for both.
    assert.equal(zstdDecompressReused(Buffer.concat([frame, frame]), reused), undefined);
    // A frame that does not say its size, and a damaged one.
    const unsized = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x48, 0x01, 0x00, 0x00]);
    assert.equal(zstdDecompressReused(unsized, reused), undefined);
    const damaged = Buffer.from(frame);
    damaged.fill(0xff, 12, 40);
    assert.equal(zstdDecompressReused(damaged, reused), undefined);
    assert.equal(lent, 0, 'the buffers taken for the refused inputs were given back');
  });
});
