/**
 * Plain JSON Lines blocks: a block the upload has sent on (RecordEncoder.release) is filled again by a later chunk
 * of the format's files instead of new memory. New blocks of 64 KiB and more are mapped fresh by the OS (the sink
 * runs with glibc's mmap threshold at 64 KiB, bin/tweetpipe.js), and their page faults were a tenth of the sink's
 * main thread (docs/benchmarks.md, "Seventh round: sink CPU").
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RecordEncoder } from '../../../../src/sink/formats/format.ts';
import { jsonlFormat } from '../../../../src/sink/formats/jsonl.ts';
import { classify, type SinkRecord } from '../../../../src/sink/sink-record.ts';
import { tweetRecords } from '../fixtures.ts';

/** Tweet `i` of the fixtures, validated as the sink does. */
const record = (i: number): SinkRecord => {
  const c = classify(tweetRecords(i, i + 1)[0]!);
  assert.ok(c.ok);
  return c.record;
};

/** Writes records from `next` on until the encoder has a sealed block to hand out; returns it and the next index. */
async function nextChunk(encoder: RecordEncoder, next: number): Promise<{ chunk: Uint8Array; next: number }> {
  while (!encoder.wantsFlush) {
    encoder.write(record(next++));
  }
  return { chunk: await encoder.flush(), next };
}

/** The chunks the encoder hands out next (up to `count`), until one is a view of `memory`; that one, if any. */
async function chunkIn(
  encoder: RecordEncoder,
  memory: ArrayBufferLike,
  from: number,
  count: number,
): Promise<{ chunk: Uint8Array | undefined; next: number }> {
  let next = from;
  for (let i = 0; i < count; i++) {
    const out = await nextChunk(encoder, next);
    next = out.next;
    if (out.chunk.buffer === memory) return out;
  }
  return { chunk: undefined, next };
}

describe('jsonl: blocks reused once the upload sent them on', () => {
  test('a released block holds a later chunk, of the same file or of another file of the format', async () => {
    // Blocks of 64 KiB, all of one size: each chunk is one whole block, handed out as it is.
    const format = jsonlFormat(64 * 1024);
    const first = format.open();
    const { chunk, next } = await nextChunk(first, 0);
    const memory = chunk.buffer;
    first.release!(chunk);
    // The block after it was taken before the release; the one after that can be the released one.
    const again = await chunkIn(first, memory, next, 3);
    assert.ok(again.chunk, "one of the file's next blocks is the released one");
    const text = Buffer.from(again.chunk).toString();
    assert.ok(text.endsWith('\n') && text.split('\n').length > 2, 'and holds whole lines');

    first.release!(again.chunk);
    const other = await chunkIn(format.open(), memory, again.next, 3);
    assert.ok(other.chunk, 'another file of the format takes it too');
  });
});
