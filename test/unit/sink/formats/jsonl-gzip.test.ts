import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { BufferPool } from '../../../../src/sink/formats/buffer-pool.ts';
import { jsonlGzipFormat } from '../../../../src/sink/formats/jsonl.ts';
import { type GzipChunk, libdeflateGzip } from '../../../../src/sink/formats/libdeflate-gzip.ts';
import { classify, type SinkRecord } from '../../../../src/sink/sink-record.ts';
import { tweetRecords } from '../fixtures.ts';

const libdeflate = ((): GzipChunk | null => {
  try {
    return libdeflateGzip(1);
  } catch {
    return null;
  }
})();
/** Where members are copied to (never given back here). */
const pool = new BufferPool(0);
const needsLibdeflate = { skip: libdeflate ? false : 'libdeflate.so.0 cannot be loaded here' };

const lines = (from: number, to: number): { records: SinkRecord[]; text: Buffer } => {
  const records = tweetRecords(from, to).map((r) => {
    const c = classify(r);
    assert.ok(c.ok);
    return c.record;
  });
  return { records, text: Buffer.from(records.map((r) => `${r.value.toString()}\n`).join('')) };
};

/** Splits a buffer into blocks of the given sizes (the rest in the last one). */
const split = (bytes: Buffer, sizes: number[]): Buffer[] => {
  const blocks: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    blocks.push(bytes.subarray(at, at + size));
    at += size;
  }
  blocks.push(bytes.subarray(at));
  return blocks;
};

/** The first member `format` flushes when written lines until it wants to, with those lines' text. */
async function firstMember(
  format: ReturnType<typeof jsonlGzipFormat>,
): Promise<{ member: Buffer; text: Buffer }> {
  const { records } = lines(0, 3000);
  const enc = format.open();
  let written = 0;
  while (!enc.wantsFlush) enc.write(records[written++]!);
  const member = Buffer.from(await enc.flush());
  const { text } = lines(0, written);
  assert.ok(text.length > 64 * 1024 + 128 * 1024, 'the member spans several blocks');
  return { member, text };
}

const captureLog = () => {
  const entries: Record<string, unknown>[] = [];
  return {
    entries,
    logger: pino({ level: 'info' }, { write: (l: string) => void entries.push(JSON.parse(l)) }),
  };
};

describe('libdeflate gzip', () => {
  test(
    'each chunk, whatever its blocks, is one gzip member of exactly its bytes',
    needsLibdeflate,
    async () => {
      const big = Buffer.concat([lines(0, 2000).text, randomBytes(1024 * 1024), lines(2000, 4000).text]);
      assert.ok(big.length > 3 * 1024 * 1024, 'a multi-MB chunk');
      const shapes: [string, Buffer[]][] = [
        ['no block', []],
        ['one empty block', [Buffer.alloc(0)]],
        ['one byte', [Buffer.from('x')]],
        ['one block', [big]],
        ['blocks of 64 KiB, 128 KiB, 1 MiB, the rest', split(big, [64 * 1024, 128 * 1024, 1024 * 1024])],
        ['blocks with empty ones between', split(big, [0, 1000, 0, 2 * 1024 * 1024])],
      ];
      for (const [shape, blocks] of shapes) {
        const whole = Buffer.concat(blocks);
        const member = await libdeflate!(blocks, whole.length, pool);
        assert.deepEqual([member[0], member[1]], [0x1f, 0x8b], `${shape}: a gzip header`);
        // The trailer's ISIZE: the member ends where gunzip expects one member to.
        assert.equal(member.readUInt32LE(member.length - 4), whole.length % 2 ** 32, `${shape}: one member`);
        assert.ok(gunzipSync(member).equals(whole), `${shape}: gunzips to its bytes`);
      }
    },
  );

  test(
    'more calls at once than workspaces (at most one per core): they wait for one and each gets its own bytes',
    needsLibdeflate,
    async () => {
      const chunks = Array.from({ length: availableParallelism() * 3 + 1 }, (_, n) =>
        split(lines(n * 300, n * 300 + 300 + n).text, [1000, 50_000]),
      );
      const members = await Promise.all(
        chunks.map((blocks) =>
          libdeflate!(
            blocks,
            blocks.reduce((n, b) => n + b.length, 0),
            pool,
          ),
        ),
      );
      members.forEach((member, n) => {
        assert.ok(gunzipSync(member).equals(Buffer.concat(chunks[n]!)), `chunk ${n}`);
      });
    },
  );

  test(
    'a workspace grows in steps: chunks a little larger each time reuse its buffers instead of new ones each',
    needsLibdeflate,
    async () => {
      // Level 2: no other test uses it, so its workspaces are new here; calls one at a time use one workspace.
      const gzip = libdeflateGzip(2);
      const size = 2 * 1024 * 1024;
      const text = lines(0, 4000).text;
      const chunks = Array.from({ length: 9 }, (_, n) => split(text.subarray(0, size + n * 997), [size / 2]));
      await gzip(chunks[0]!, size, pool);
      const before = process.memoryUsage().arrayBuffers;
      const members: Buffer[] = [];
      for (const blocks of chunks.slice(1))
        members.push(
          await gzip(
            blocks,
            blocks.reduce((n, b) => n + b.length, 0),
            pool,
          ),
        );
      // Each member is a new buffer (the pool keeps none, ~0.5 MiB each); the workspace's input and output are not.
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.ok(
        grown < size * 3,
        `8 chunks of ~2 MiB grew array buffers by ${(grown / 2 ** 20).toFixed(1)} MiB`,
      );
      members.forEach((member, n) => {
        assert.ok(gunzipSync(member).equals(Buffer.concat(chunks[n + 1]!)), `chunk ${n + 1}`);
      });
    },
  );

  test(
    'jsonl.gz uses it when it loads, says so once, and a member spanning several blocks is libdeflate of its lines whole',
    needsLibdeflate,
    async () => {
      const { entries, logger } = captureLog();
      // Level 3: the first format at that level in this process, so the one log line is this one's.
      const format = jsonlGzipFormat(1024 * 1024, 3, { logger });
      jsonlGzipFormat(1024 * 1024, 3, { logger });
      assert.deepEqual(
        entries.map((e) => [e.gzipEngine, e.gzipLevel]),
        [['libdeflate', 3]],
      );
      const { member, text } = await firstMember(format);
      assert.ok(
        member.equals(await libdeflateGzip(3)([text], text.length, pool)),
        'libdeflate of the lines whole',
      );
    },
  );
});

describe('jsonl.gz without libdeflate', () => {
  test('falls back to node:zlib, says so once, and a member spanning several blocks is the gzip of its lines whole', async () => {
    const { entries, logger } = captureLog();
    const format = jsonlGzipFormat(1024 * 1024, 1, { libdeflate: '/nonexistent/libdeflate.so.0', logger });
    jsonlGzipFormat(1024 * 1024, 1, { libdeflate: '/nonexistent/libdeflate.so.0', logger });
    assert.deepEqual(
      entries.map((e) => [e.level, e.gzipEngine, e.library]),
      [[40, 'zlib', '/nonexistent/libdeflate.so.0']],
    );
    const { member, text } = await firstMember(format);
    // zlib's output does not depend on how its input is split: the blocks are fed one by one, not concatenated.
    assert.ok(member.equals(gzipSync(text, { level: 1 })), 'zlib of the lines whole');
  });
});
