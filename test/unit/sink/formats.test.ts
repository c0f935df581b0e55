import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { TweetpipeError } from '../../../src/errors.ts';
import type { Format, FormatName } from '../../../src/sink/formats/format.ts';
import { createFormat } from '../../../src/sink/formats/index.ts';
import { TWEET_COLUMNS } from '../../../src/sink/formats/tweet-columns.ts';
import { classify, type SinkRecord } from '../../../src/sink/sink-record.ts';
import { kafkaRecord, tweetDoc, tweetRecords } from './fixtures.ts';

const sinkRecords = (from: number, to: number): SinkRecord[] =>
  tweetRecords(from, to).map((r) => {
    const c = classify(r);
    assert.ok(c.ok);
    return c.record;
  });

/** Encodes like the partition writer does: flush whenever the encoder asks, then finish. */
async function encode(format: Format, records: SinkRecord[]): Promise<{ bytes: Buffer; flushes: number }> {
  const enc = format.open();
  const chunks: Uint8Array[] = [];
  let flushes = 0;
  for (const r of records) {
    enc.write(r);
    if (enc.wantsFlush) {
      chunks.push(await enc.flush());
      flushes++;
    }
  }
  chunks.push(await enc.finish());
  return { bytes: Buffer.concat(chunks), flushes };
}

const expectedLines = (records: SinkRecord[]): string =>
  records.map((r) => `${r.value.toString()}\n`).join('');

const tmp = mkdtempSync(join(tmpdir(), 'tweetpipe-sink-formats-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('jsonl', () => {
  test('writes every value byte for byte, one per line, across flushes', async () => {
    const records = sinkRecords(0, 300);
    const { bytes, flushes } = await encode(createFormat('jsonl', { flushBytes: 16 * 1024 }), records);
    assert.ok(flushes > 3, `expected several flushes, got ${flushes}`);
    assert.equal(bytes.toString(), expectedLines(records));
  });

  test('a flush of several megabytes (lines copied into several blocks) is every line in order', async () => {
    const records = sinkRecords(0, 8000);
    const { bytes, flushes } = await encode(createFormat('jsonl', { flushBytes: 3 * 1024 * 1024 }), records);
    assert.ok(bytes.length > 6 * 1024 * 1024, `only ${bytes.length} bytes`);
    assert.ok(flushes >= 2, `expected several flushes, got ${flushes}`);
    assert.equal(bytes.toString(), expectedLines(records));
  });

  test('holds about one block whatever flushBytes is: each full block is handed out as it is', async () => {
    const records = sinkRecords(0, 8000);
    const enc = createFormat('jsonl', { flushBytes: 8 * 1024 * 1024 }).open();
    const chunks: Uint8Array[] = [];
    let held = 0;
    for (const r of records) {
      enc.write(r);
      if (enc.wantsFlush) chunks.push(await enc.flush());
      held = Math.max(held, enc.bufferedBytes);
    }
    chunks.push(await enc.finish());
    assert.ok(held <= 1024 * 1024 + 4096, `the encoder held ${held} bytes`);
    assert.ok(chunks.length > 2, `expected several chunks, got ${chunks.length}`);
    assert.equal(Buffer.concat(chunks).toString(), expectedLines(records));
  });

  test('a record larger than a block is one line too', async () => {
    const doc = { ...tweetDoc(1), text: 'x'.repeat(1_500_000) };
    const c = classify(kafkaRecord(7, JSON.stringify(doc)));
    assert.ok(c.ok);
    const small = sinkRecords(0, 3);
    const { bytes } = await encode(createFormat('jsonl', { flushBytes: 8 * 1024 * 1024 }), [
      ...small,
      c.record,
      ...small,
    ]);
    assert.equal(bytes.toString(), expectedLines([...small, c.record, ...small]));
  });

  test('a value with raw newlines (pretty-printed JSON) still becomes exactly one line', async () => {
    const doc = tweetDoc(1);
    const c = classify(kafkaRecord(7, JSON.stringify(doc, null, 2)));
    assert.ok(c.ok);
    const { bytes } = await encode(createFormat('jsonl', { flushBytes: 1024 }), [c.record]);
    const text = bytes.toString();
    assert.equal(text.indexOf('\n'), text.length - 1);
    assert.deepEqual(JSON.parse(text), doc);
  });

  test('a pretty-printed value keeps every token as written: integers above 2^53, 1.0, deep nesting', async () => {
    const deep = `${'[\n'.repeat(10_000)}${']\n'.repeat(10_000)}`;
    const pretty = `{\n  "id": "1",\n  "created_at": "2026-11-25T06:00:00Z",\n  "n": 12345678901234567890,\n  "f": 1.0,\n  "x": ${deep}}`;
    const c = classify(kafkaRecord(7, pretty));
    assert.ok(c.ok);
    const { bytes } = await encode(createFormat('jsonl', { flushBytes: 1024 }), [c.record]);
    assert.equal(
      bytes.toString(),
      `{"id":"1","created_at":"2026-11-25T06:00:00Z","n":12345678901234567890,"f":1.0,"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}\n`,
    );
  });
});

describe('jsonl.gz', () => {
  test('the concatenated gzip members gunzip to exactly the input lines', async () => {
    const records = sinkRecords(0, 500);
    for (const gzipLevel of [1, 6]) {
      const { bytes, flushes } = await encode(
        createFormat('jsonl.gz', { flushBytes: 32 * 1024, gzipLevel }),
        records,
      );
      assert.ok(flushes > 3);
      assert.equal(bytes[0], 0x1f);
      assert.equal(bytes[1], 0x8b);
      assert.equal(gunzipSync(bytes).toString(), expectedLines(records));
    }
  });
});

describe('parquet', () => {
  const read = async (bytes: Buffer) => {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    const rows = await parquetReadObjects({
      file,
      compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) },
      utf8: true,
    });
    return { rows, metadata: parquetMetadata(file) };
  };

  for (const codec of ['ZSTD', 'SNAPPY'] as const) {
    test(`${codec}: rows read back with hyparquet have the documented values and types`, async () => {
      const records = sinkRecords(0, 120);
      const format = createFormat('parquet', { flushBytes: 1024, parquet: { codec, rowGroupRows: 50 } });
      const { bytes, flushes } = await encode(format, records);
      assert.equal(flushes, 2);
      const { rows, metadata } = await read(bytes);
      assert.equal(metadata.row_groups.length, 3);
      assert.ok(metadata.row_groups[0]?.columns.every((c) => c.meta_data?.codec === codec));
      assert.equal(rows.length, records.length);
      for (const [i, row] of rows.entries()) {
        const doc = tweetDoc(i, (records[i] as SinkRecord).timestampMs);
        const author = doc.author as Record<string, unknown> & {
          public_metrics: { followers_count: number };
        };
        const metrics = doc.public_metrics as Record<string, number | undefined>;
        const ref = (doc.referenced_tweets as { type: string; id: string }[] | undefined)?.[0];
        assert.deepEqual(row, {
          id: doc.id,
          created_at: new Date(doc.created_at as string),
          text: doc.text,
          lang: doc.lang,
          author_id: doc.author_id,
          author_username: author.username,
          author_name: author.name,
          author_verified: author.verified,
          author_followers_count: BigInt(author.public_metrics.followers_count),
          conversation_id: doc.conversation_id,
          in_reply_to_user_id: doc.in_reply_to_user_id ?? null,
          referenced_type: ref?.type ?? null,
          referenced_id: ref?.id ?? null,
          retweet_count: BigInt(metrics.retweet_count ?? -1),
          reply_count: BigInt(metrics.reply_count ?? -1),
          like_count: BigInt(metrics.like_count ?? -1),
          quote_count: BigInt(metrics.quote_count ?? -1),
          impression_count: metrics.impression_count === undefined ? null : BigInt(metrics.impression_count),
          hashtags: [`tag${i % 5}`],
          mentions: [`user${i % 11}`],
          urls: [`https://example.com/${i}`],
          rule_tags: ['music'],
          source: 'x-stream',
          ingested_at: new Date((doc._ingest as { ingested_at: string }).ingested_at),
          kafka_partition: 0,
          kafka_offset: BigInt(i),
        });
      }
    });
  }

  test('a long post takes its text and entities from note_tweet; absent fields are null or empty lists', async () => {
    const doc = {
      id: '5',
      created_at: '2026-11-25T06:00:00.000Z',
      text: 'truncated…',
      note_tweet: { text: 'the whole long text #full', entities: { hashtags: [{ tag: 'full' }] } },
    };
    const c = classify(kafkaRecord(9, JSON.stringify(doc)));
    assert.ok(c.ok);
    const { bytes } = await encode(createFormat('parquet', { flushBytes: 1024 }), [c.record]);
    const [row] = (await read(bytes)).rows;
    assert.equal(row?.text, 'the whole long text #full');
    assert.deepEqual(row?.hashtags, ['full']);
    assert.deepEqual(row?.mentions, []);
    assert.equal(row?.lang, null);
    assert.equal(row?.like_count, null);
    assert.equal(row?.author_verified, null);
    assert.equal(row?.source, 'synthetic', 'without _ingest the producer header names the source');
    assert.equal(row?.ingested_at, null);
  });

  test('columns of values that rarely repeat are PLAIN even where they do repeat; the others may take a dictionary', async () => {
    // The fixtures repeat each author every 97 tweets: left to choose, the writer would dictionary-encode author_id.
    const { bytes } = await encode(createFormat('parquet', { flushBytes: 1024 }), sinkRecords(0, 500));
    const { metadata } = await read(bytes);
    const encodings = new Map(
      metadata.row_groups[0]!.columns.map((c) => [c.meta_data!.path_in_schema[0]!, c.meta_data!.encodings]),
    );
    const plain = TWEET_COLUMNS.filter((c) => c.dictionary === false).map((c) => c.name);
    assert.deepEqual(plain, [
      'id',
      'text',
      'author_id',
      'author_username',
      'conversation_id',
      'referenced_id',
      'urls',
      'kafka_offset',
    ]);
    for (const name of plain) assert.deepEqual(encodings.get(name), ['PLAIN'], name);
    for (const name of ['lang', 'author_name', 'source'])
      assert.ok(encodings.get(name)?.includes('RLE_DICTIONARY'), name);
  });

  test('a time outside what a Date can hold is null (created_at: the record timestamp), not a failed file', async () => {
    const timestamp = Date.UTC(2026, 10, 25, 6);
    const values = [1e300, -1e19, 8.64e15 + 1];
    const records = values.map((ms, i) => {
      const doc = { id: String(i + 1), created_at: ms, _ingest: { ingested_at: ms } };
      const c = classify(kafkaRecord(i, JSON.stringify(doc), { timestamp }));
      assert.ok(c.ok);
      return c.record;
    });
    const { bytes } = await encode(createFormat('parquet', { flushBytes: 1024 }), records);
    for (const row of (await read(bytes)).rows) {
      assert.deepEqual(row.created_at, new Date(timestamp));
      assert.equal(row.ingested_at, null);
    }
  });
});

describe('readers', () => {
  test('DuckDB reads the gzip members whole and the Parquet schema with native types', async () => {
    const records = sinkRecords(0, 200);
    const gz = await encode(createFormat('jsonl.gz', { flushBytes: 8 * 1024 }), records);
    const pq = await encode(
      createFormat('parquet', { flushBytes: 1024, parquet: { rowGroupRows: 64 } }),
      records,
    );
    writeFileSync(join(tmp, 'a.jsonl.gz'), gz.bytes);
    writeFileSync(join(tmp, 'a.parquet'), pq.bytes);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const count = await conn.runAndReadAll(
        `select count(*)::INT as n, count(distinct id)::INT as ids from read_json_auto('${join(tmp, 'a.jsonl.gz')}')`,
      );
      assert.deepEqual(count.getRowObjects(), [{ n: 200, ids: 200 }]);
      const types = await conn.runAndReadAll(`describe select * from '${join(tmp, 'a.parquet')}'`);
      const byName = Object.fromEntries(types.getRowObjects().map((r) => [r.column_name, r.column_type]));
      assert.equal(byName.created_at, 'TIMESTAMP WITH TIME ZONE');
      assert.equal(byName.ingested_at, 'TIMESTAMP WITH TIME ZONE');
      assert.equal(byName.hashtags, 'VARCHAR[]');
      assert.equal(byName.kafka_offset, 'BIGINT');
      assert.equal(byName.kafka_partition, 'INTEGER');
      assert.equal(byName.author_verified, 'BOOLEAN');
      const q = await conn.runAndReadAll(
        `select count(*)::INT as n, sum(len(hashtags))::INT as tags, max(kafka_offset)::INT as last,
                min(created_at) = TIMESTAMPTZ '2026-11-25 06:00:00+00' as t0
         from '${join(tmp, 'a.parquet')}'`,
      );
      assert.deepEqual(q.getRowObjects(), [{ n: 200, tags: 200, last: 199, t0: true }]);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });
});

test('createFormat refuses bad options with a config error', () => {
  for (const opts of [
    { flushBytes: 0 },
    { flushBytes: 1024, gzipLevel: 10 },
    { flushBytes: 1024, parquet: { rowGroupRows: 0 } },
  ])
    assert.throws(
      () => createFormat('jsonl.gz', opts),
      (e: unknown) => e instanceof TweetpipeError && e.code === 'CONFIG_INVALID',
    );
});

test('createFormat names the extension of each format', () => {
  const names: FormatName[] = ['jsonl', 'jsonl.gz', 'parquet'];
  assert.deepEqual(
    names.map((n) => createFormat(n, { flushBytes: 1024 }).extension),
    ['jsonl', 'jsonl.gz', 'parquet'],
  );
});
