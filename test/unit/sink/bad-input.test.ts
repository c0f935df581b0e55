/**
 * The bad input corpus (test/helpers/sink-bad-input-corpus.ts) through the SinkTask on the in-memory storage, in every
 * format: each case is written where and as the corpus says, or dead-lettered with its reason, and the sink
 * commits the lot and goes on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import type { FormatName } from '../../../src/sink/formats/format.ts';
import type { PoisonRecord } from '../../../src/sink/sink-record.ts';
import { SinkTask } from '../../../src/sink/sink-task.ts';
import { badInputCorpus, expectedDirs, PARTITION_FIELDS } from '../../helpers/sink-bad-input-corpus.ts';
import { filesUnder, kafkaRecord } from './fixtures.ts';

const TOPIC = 'bad_input';
const ROOT = '/out';

/** What a reader finds in one file, as readerView() puts it. */
async function contents(format: FormatName, data: Buffer): Promise<string[]> {
  if (format === 'jsonl') return data.toString('utf8').split('\n').slice(0, -1);
  if (format === 'jsonl.gz') return gunzipSync(data).toString('utf8').split('\n').slice(0, -1);
  const file = data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer;
  const rows = await parquetReadObjects({
    file,
    columns: ['id', 'created_at'],
    compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) },
    utf8: true,
  });
  return rows.map((r) => `${r.id} ${(r.created_at as Date).getTime()}`);
}

describe('the bad input corpus through the sink', () => {
  for (const format of ['jsonl', 'jsonl.gz', 'parquet'] as const) {
    test(`${format}: every case written as the corpus says or dead-lettered with its reason; the sink goes on`, async () => {
      const corpus = badInputCorpus();
      const storage = new MemoryStorage();
      const letters: PoisonRecord[] = [];
      const sink = new SinkTask({
        topic: TOPIC,
        storage,
        dir: ROOT,
        format,
        granularity: 'hour',
        timeZone: 'UTC',
        partitionFields: PARTITION_FIELDS,
        maxRecords: 10_000,
        maxBytes: 1 << 30,
        maxAgeMs: 60_000,
        flushBytes: 64 * 1024,
        writerId: 'test',
        deadLetter: async (poison) => {
          letters.push(...poison);
        },
      });
      await sink.open([0]);
      // In two polls, so that the records after the first dead letters come in a batch of their own.
      const records = corpus.map((c, i) =>
        kafkaRecord(i, c.value, { topic: TOPIC, timestamp: c.timestampMs }),
      );
      await sink.put(records.slice(0, 5));
      await sink.put(records.slice(5));
      await sink.close([0], { abort: false });
      assert.deepEqual(await sink.preCommit(), new Map([[0, BigInt(corpus.length)]]));

      const wantLetters = corpus.flatMap((c, i) => ('deadLetter' in c.expect ? [[i, c] as const] : []));
      assert.deepEqual(
        letters.map((l) => Number(l.record.offset)),
        wantLetters.map(([i]) => i),
      );
      for (const [k, [, c]] of wantLetters.entries())
        assert.match(letters[k]!.reason, (c.expect as { deadLetter: RegExp }).deadLetter, c.name);

      const want = expectedDirs(corpus, format);
      const got = new Map<string, string[]>();
      for (const f of filesUnder(storage, `${ROOT}/${TOPIC}`)) {
        const rel = f.path.slice(`${ROOT}/${TOPIC}/`.length);
        const dir = rel.slice(0, rel.lastIndexOf('/'));
        assert.match(rel.slice(dir.length + 1), new RegExp(`^${TOPIC}\\+0\\+\\d+\\+\\d+\\.${format}$`));
        got.set(dir, [...(got.get(dir) ?? []), ...(await contents(format, f.data))]);
      }
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
      for (const [dir, lines] of want) {
        const found = got.get(dir) ?? [];
        // Compared by count and content first: a 2 MB line in a diff is unreadable.
        assert.equal(found.length, lines.length, `records in ${dir}`);
        for (const [i, line] of found.entries())
          assert.ok(line === lines[i], `record ${i} of ${dir}: ${line.slice(0, 200)}`);
      }
      assert.deepEqual(filesUnder(storage, `${ROOT}/_tmp`), []);
    });
  }
});
