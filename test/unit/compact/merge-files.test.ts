/**
 * How a compaction writes a merged JSON Lines file: the inputs' bytes concatenated in offset order (for jsonl.gz,
 * their gzip members, never compressed again), streamed to the temp file one input at a time (no piece larger
 * than one input, so memory never holds the group), with the record count of the lines; an input whose last line
 * lacks its '\n' still gives separate lines. Parquet merges hand out each row group as soon as it is full.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parquetMetadata } from 'hyparquet';
import { compact } from '../../../src/compact/compact.ts';
import { ParquetRowWriter, rowCodec } from '../../../src/compact/file-rows.ts';
import { mergeFiles } from '../../../src/compact/merge-files.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import { silentLogger } from '../../../src/log.ts';
import { parseCommittedFileName } from '../../../src/sink/filenames.ts';
import type { FormatName } from '../../../src/sink/formats/format.ts';
import { parquetFormat } from '../../../src/sink/formats/parquet.ts';
import { classify } from '../../../src/sink/sink-record.ts';
import { filesUnder, tweetRecords } from '../sink/fixtures.ts';
import { items, overriding, ROOT, TOPIC, writer } from '../sink/partition-writer-fixtures.ts';

const committed = (s: MemoryStorage) =>
  new Map(filesUnder(s, `${ROOT}/${TOPIC}`).map((f) => [f.path, f.data]));
const lineCount = (text: string) => text.split('\n').length - 1;

for (const format of ['jsonl', 'jsonl.gz'] as FormatName[]) {
  describe(`compact merges ${format} files by concatenation`, () => {
    it('writes each merged file as its inputs byte for byte, one input per piece, counting their lines', async () => {
      const memory = new MemoryStorage();
      const w = writer({ storage: memory, format, writerId: 'w1', rotation: { maxRecords: 10 } });
      await w.recover();
      await w.write(items(tweetRecords(0, 150, { msPerRecord: 60_000 })));
      await w.close(false);
      await sleep(3);
      const before = committed(memory);
      // The sizes of the pieces each temp file is uploaded in.
      const tempPieces: number[] = [];
      const storage = overriding(memory, {
        create: async (path, body, opts) => {
          if (!path.includes('/_tmp/+rewrite/')) return memory.create(path, body, opts);
          const pieces = body instanceof Uint8Array ? [body] : ((await body.toArray()) as Buffer[]);
          tempPieces.push(...pieces.map((p) => p.length));
          return memory.create(path, Buffer.concat(pieces), opts);
        },
      });

      const report = await compact({
        storage,
        root: ROOT,
        olderThanMs: 1,
        targetBytes: 256 * 1024 * 1024,
        logger: silentLogger,
      });

      const after = committed(memory);
      const merged = [...after].filter(([path]) => !before.has(path));
      assert.ok(merged.length > 0 && report.filesBefore > merged.length, JSON.stringify(report));
      let mergedLines = 0;
      for (const [path, data] of merged) {
        const out = parseCommittedFileName(path.split('/').at(-1)!)!;
        const dir = path.slice(0, path.lastIndexOf('/'));
        const inputs = [...before]
          .filter(([p]) => !after.has(p) && p.startsWith(`${dir}/`))
          .map(([p, bytes]) => ({ file: parseCommittedFileName(p.split('/').at(-1)!)!, bytes }))
          .filter(({ file }) => file.firstOffset >= out.firstOffset && file.lastOffset <= out.lastOffset)
          .sort((a, b) => (a.file.firstOffset < b.file.firstOffset ? -1 : 1));
        assert.ok(inputs.length > 1, path);
        assert.ok(
          data.equals(Buffer.concat(inputs.map((i) => i.bytes))),
          `${path} is its inputs concatenated`,
        );
        mergedLines += lineCount((format === 'jsonl.gz' ? gunzipSync(data) : data).toString('utf8'));
      }
      assert.equal(report.records, mergedLines);
      const largestInput = Math.max(...[...before.values()].map((b) => b.length));
      assert.ok(
        tempPieces.length >= report.filesBefore && Math.max(...tempPieces) <= largestInput,
        `one piece per input, none larger than the largest input (${largestInput} B): ${tempPieces.join(', ')}`,
      );
    });
  });
}

describe('mergeFiles', () => {
  const inputs = ['{"id":"1"}\n{"id":"2"}', '{"id":"3"}\n'];
  for (const gzipped of [false, true]) {
    it(`ends an input's unterminated last line before the next input (${gzipped ? 'jsonl.gz' : 'jsonl'})`, async () => {
      const storage = new MemoryStorage();
      const paths = ['/d/a', '/d/b'];
      for (const [i, text] of inputs.entries())
        await storage.create(paths[i]!, gzipped ? gzipSync(text) : Buffer.from(text));
      const merged = await mergeFiles(storage, paths, gzipped ? 'jsonl.gz' : 'jsonl', '/d/_tmp/out');
      const bytes = await storage.read('/d/_tmp/out');
      assert.equal(
        (gzipped ? gunzipSync(bytes) : bytes).toString('utf8'),
        '{"id":"1"}\n{"id":"2"}\n{"id":"3"}\n',
      );
      assert.deepEqual(merged, { records: 3, bytes: bytes.length });
    });
  }
});

describe('ParquetRowWriter', () => {
  it('hands out each row group as soon as it is full, so a merge holds at most one', async () => {
    const encoder = parquetFormat().open();
    for (const r of tweetRecords(0, 1)) {
      const c = classify(r);
      assert.ok(c.ok);
      encoder.write(c.record);
    }
    const [row] = (await rowCodec('parquet').read(Buffer.from(await encoder.finish()), 'sample')).pick(
      () => true,
    ) as Record<string, unknown>[];
    const rows = Array.from({ length: 100_001 }, (_, i) => ({
      ...row,
      id: String(i),
      kafka_offset: BigInt(i),
    }));

    const writer = new ParquetRowWriter();
    const head = writer.add(rows.slice(0, 60_000));
    assert.ok(head.length <= 4, 'no row group before 100,000 rows (the magic only)');
    const full = writer.add(rows.slice(60_000));
    assert.ok(full.length > 1000, 'the full row group is handed out by the add that filled it');
    const bytes = Buffer.concat([head, full, writer.finish()]);

    assert.deepEqual(
      parquetMetadata(bytes).row_groups.map((g) => Number(g.num_rows)),
      [100_000, 1],
    );
    const ids = (await rowCodec('parquet').read(bytes, 'merged')).ids;
    assert.deepEqual(
      ids,
      rows.map((r) => r.id),
    );
  });
});
