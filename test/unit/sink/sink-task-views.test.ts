/**
 * The consumer decompresses record batches into buffers it reuses once put() is done with their records
 * (src/kafka/fetched-records.ts): the sink must keep no view of a record's bytes past put(). Here the records are
 * views of one buffer per put, as the consumer hands them out, and the buffer is given back (every view of it then
 * reads as empty) as soon as put() resolved; what reaches HDFS must still be every record's bytes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import { ReusedBuffers } from '../../../src/kafka/reused-buffers.ts';
import type { FormatName } from '../../../src/sink/formats/format.ts';
import { SinkTask } from '../../../src/sink/sink-task.ts';
import type { KafkaRecord } from '../../../src/types.ts';
import { filesUnder, tweetRecords } from './fixtures.ts';

const TOPIC = 'views';

/** The records as views of one buffer of `reused`, as the consumer hands out a decompressed batch. */
function asViews(records: KafkaRecord[], reused: ReusedBuffers): { records: KafkaRecord[]; buffer: Buffer } {
  const header = Buffer.from('synthetic');
  const size = records.reduce((n, r) => n + r.value!.length + header.length, 0);
  const buffer = reused.take(size);
  let at = 0;
  const view = (bytes: Buffer) => {
    bytes.copy(buffer, at);
    at += bytes.length;
    return buffer.subarray(at - bytes.length, at);
  };
  return {
    buffer,
    records: records.map((r) => ({
      ...r,
      value: view(r.value!),
      headers: new Map([['source', view(header)]]),
    })),
  };
}

/** Each row's id and text, as a reader of the committed files finds them. */
async function rows(format: FormatName, data: Buffer): Promise<string[]> {
  if (format !== 'parquet') {
    const text = (format === 'jsonl.gz' ? gunzipSync(data) : data).toString('utf8');
    return text
      .split('\n')
      .slice(0, -1)
      .map((line) => {
        const doc = JSON.parse(line) as { id: string; text: string };
        return `${doc.id} ${doc.text}`;
      });
  }
  const file = data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer;
  const read = await parquetReadObjects({
    file,
    columns: ['id', 'text'],
    compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) },
    utf8: true,
  });
  return read.map((r) => `${r.id} ${r.text}`);
}

describe('SinkTask keeps no view of a record past put()', () => {
  const cases: { format: FormatName; partitionFields: string[] }[] = [
    { format: 'jsonl', partitionFields: [] },
    { format: 'jsonl.gz', partitionFields: [] },
    { format: 'parquet', partitionFields: [] },
    { format: 'jsonl', partitionFields: ['lang'] },
  ];
  for (const { format, partitionFields } of cases) {
    test(`${format}${partitionFields.length ? ' by lang' : ''}: records whose buffer is reused after put are written whole`, async () => {
      const storage = new MemoryStorage();
      const sink = new SinkTask({
        topic: TOPIC,
        storage,
        dir: '/out',
        format,
        granularity: 'hour',
        timeZone: 'UTC',
        partitionFields,
        maxRecords: 25,
        maxBytes: 1 << 30,
        maxAgeMs: 60_000,
        flushBytes: 4096,
        writerId: 'views',
        deadLetter: async () => {},
      });
      await sink.open([0]);
      const original = tweetRecords(0, 60, { topic: TOPIC });
      const reused = new ReusedBuffers(1 << 20);
      for (let from = 0; from < original.length; from += 10) {
        const { records, buffer } = asViews(original.slice(from, from + 10), reused);
        await sink.put(records);
        reused.giveBack(buffer);
        assert.equal(records[0]!.value!.length, 0, 'the views read as empty from here on');
      }
      await sink.close([0], { abort: false });
      const written: string[] = [];
      for (const f of filesUnder(storage, `/out/${TOPIC}`)) written.push(...(await rows(format, f.data)));
      const expected = original.map((r) => {
        const doc = JSON.parse(r.value!.toString()) as { id: string; text: string };
        return `${doc.id} ${doc.text}`;
      });
      assert.deepEqual(written.sort(), expected.sort());
    });
  }
});
