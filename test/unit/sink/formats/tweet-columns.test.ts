/**
 * The Parquet columns read back with hyparquet for records that exercise every rule of docs/parquet-schema.md:
 * both API eras' field names, nulls and wrong types, escapes, repeated keys (the last wins, as with JSON.parse),
 * several row groups (column arrays reused) and a row group larger than the builder's first capacity.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { zstdDecompressSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { createFormat } from '../../../../src/sink/formats/index.ts';
import { classify } from '../../../../src/sink/sink-record.ts';
import type { KafkaRecord } from '../../../../src/types.ts';
import { kafkaRecord, tweetRecords } from '../fixtures.ts';

const RECORD_MS = Date.UTC(2026, 10, 25, 7, 0, 0);

async function parquetFile(records: KafkaRecord[], rowGroupRows: number): Promise<ArrayBuffer> {
  const enc = createFormat('parquet', { flushBytes: 1024, parquet: { rowGroupRows } }).open();
  const chunks: Uint8Array[] = [];
  for (const r of records) {
    const c = classify(r);
    assert.ok(c.ok, c.ok ? '' : c.reason);
    enc.write(c.record);
    if (enc.wantsFlush) chunks.push(await enc.flush());
  }
  chunks.push(await enc.finish());
  const bytes = Buffer.concat(chunks);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
}

async function parquetRows(records: KafkaRecord[], rowGroupRows: number): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({
    file: await parquetFile(records, rowGroupRows),
    compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) },
    utf8: true,
  });
}

/** A row with every column null or empty, the record's own Kafka fields and timestamp set. */
const emptyRow = (id: string, offset: number, createdMs = RECORD_MS): Record<string, unknown> => ({
  id,
  created_at: new Date(createdMs),
  text: null,
  lang: null,
  author_id: null,
  author_username: null,
  author_name: null,
  author_verified: null,
  author_followers_count: null,
  conversation_id: null,
  in_reply_to_user_id: null,
  referenced_type: null,
  referenced_id: null,
  retweet_count: null,
  reply_count: null,
  like_count: null,
  quote_count: null,
  impression_count: null,
  hashtags: [],
  mentions: [],
  urls: [],
  rule_tags: [],
  source: 'synthetic',
  ingested_at: null,
  kafka_partition: 0,
  kafka_offset: BigInt(offset),
});

/** [value text, expected row] pairs; the value is sent as written, so escapes and repeated keys reach the sink. */
const CASES: [string, Record<string, unknown>][] = [
  [
    JSON.stringify({
      id: '100',
      created_at: '2026-11-25T06:00:00.000Z',
      text: 'short…',
      note_post: {
        text: 'the 2.167 long text',
        entities: { hashtags: [{ tag: 'n1' }, 3, null, { tag: 'n2' }], urls: [{ url: 'https://t.co/x' }] },
      },
      entities: { hashtags: [{ tag: 'ignored' }] },
      author: {
        id: 'a1',
        username: 'u1',
        name: 'Ünï',
        verified: true,
        public_metrics: { followers_count: 7 },
      },
      public_metrics: {
        repost_count: 4,
        reply_count: 0,
        like_count: 9,
        quote_count: 1,
        impression_count: 88,
      },
      referenced_posts: [
        { type: 'quoted', id: '99' },
        { type: 'replied_to', id: '98' },
      ],
      matching_rules: [{ tag: 'r1' }, { id: 'no-tag' }],
      _ingest: { source: 'x-stream', ingested_at: '2026-11-25T06:00:01.500Z' },
    }),
    {
      ...emptyRow('100', 0, Date.parse('2026-11-25T06:00:00.000Z')),
      text: 'the 2.167 long text',
      author_id: 'a1',
      author_username: 'u1',
      author_name: 'Ünï',
      author_verified: true,
      author_followers_count: 7n,
      referenced_type: 'quoted',
      referenced_id: '99',
      retweet_count: 4n,
      reply_count: 0n,
      like_count: 9n,
      quote_count: 1n,
      impression_count: 88n,
      hashtags: ['n1', 'n2'],
      urls: ['https://t.co/x'],
      rule_tags: ['r1'],
      source: 'x-stream',
      ingested_at: new Date('2026-11-25T06:00:01.500Z'),
    },
  ],
  [
    JSON.stringify({
      id: '101',
      note_tweet: { text: 'the 2.159 long text', entities: { mentions: [{ username: 'm1' }] } },
      referenced_tweets: [{ type: 'retweeted', id: '97' }],
      public_metrics: { retweet_count: 5 },
      author_id: 'top-level-author',
      author: { id: 'nested-author' },
    }),
    {
      ...emptyRow('101', 1),
      text: 'the 2.159 long text',
      author_id: 'top-level-author',
      referenced_type: 'retweeted',
      referenced_id: '97',
      retweet_count: 5n,
      mentions: ['m1'],
    },
  ],
  [
    JSON.stringify({
      id: '102',
      text: null,
      lang: null,
      author: null,
      public_metrics: null,
      entities: null,
      referenced_posts: null,
      matching_rules: null,
      _ingest: null,
    }),
    emptyRow('102', 2),
  ],
  [
    JSON.stringify({
      id: '103',
      created_at: 1e300,
      lang: 5,
      author: [{ username: 'in-an-array' }],
      author_id: 7,
      public_metrics: { repost_count: null, retweet_count: 3, like_count: 2.5, reply_count: 2 ** 60 },
      note_post: null,
      note_tweet: { text: 'not read: note_post is present' },
      text: 'top-level text',
      entities: { urls: [{ expanded_url: 'https://example.com/long', url: 'https://t.co/s' }, { url: 5 }] },
      referenced_posts: [],
      _ingest: { source: 1, ingested_at: 1_764_050_400_123 },
    }),
    {
      ...emptyRow('103', 3),
      text: 'top-level text',
      urls: ['https://example.com/long'],
      ingested_at: new Date(1_764_050_400_123),
    },
  ],
  [
    '{"id":"104","\\u0074ext":"escaped key, \\"quotes\\", a\\nnewline, \\u00e9 and \\ud83c\\udfb8",' +
      '"author":{"username":"first","name":"kept?"},"author":{"username":"last wins"},' +
      '"lang":"en","lang":"fr","conversation_id":"c\\/1","in_reply_to_user_id":"77",' +
      '"public_metrics":{"like_count":1},"public_metrics":{"quote_count":2},' +
      '"created_at":"2026-11-25T06:30:00Z","created_at":"not a time"}',
    {
      ...emptyRow('104', 4),
      text: 'escaped key, "quotes", a\nnewline, é and 🎸',
      lang: 'fr',
      author_username: 'last wins',
      conversation_id: 'c/1',
      in_reply_to_user_id: '77',
      quote_count: 2n,
    },
  ],
];

describe('Parquet columns', () => {
  test('rows read back equal the documented values for varied records, across row groups', async () => {
    const records = CASES.map(([value], i) => kafkaRecord(i, value, { timestamp: RECORD_MS }));
    assert.deepEqual(
      await parquetRows(records, 2),
      CASES.map(([, row]) => row),
    );
  });

  test('a row group larger than the column arrays first hold keeps every row in order', async () => {
    const records = tweetRecords(0, 2500, { partition: 2 });
    const rows = await parquetRows(records, 5000);
    assert.equal(rows.length, 2500);
    for (const [i, row] of rows.entries()) {
      assert.equal(row.kafka_offset, BigInt(i));
      assert.equal(row.kafka_partition, 2);
      assert.equal((row.created_at as Date).getTime(), records[i]?.timestamp);
      assert.equal(row.id, JSON.parse(String(records[i]?.value)).id);
    }
  });

  test('each row group keeps the statistics of its own rows after later row groups reuse the column buffers', async () => {
    // Values of equal length, so a later row group's bytes land exactly where an earlier one's lay.
    const rowGroups = [
      ['a1', 'aa'],
      ['a2', 'ab'],
      ['z1', 'zy'],
      ['z2', 'zz'],
    ].map(([id, lang], i) => kafkaRecord(i, JSON.stringify({ id, lang }), { timestamp: RECORD_MS }));
    const meta = parquetMetadata(await parquetFile(rowGroups, 2));
    const stats = (group: number, column: string) =>
      meta.row_groups[group]!.columns.find((c) => c.meta_data?.path_in_schema[0] === column)!.meta_data!
        .statistics;
    assert.equal(meta.row_groups.length, 2);
    for (const [group, [min, max]] of [
      ['a1', 'a2'],
      ['z1', 'z2'],
    ].entries()) {
      assert.equal(stats(group, 'id')?.min_value, min, `id min of row group ${group}`);
      assert.equal(stats(group, 'id')?.max_value, max, `id max of row group ${group}`);
    }
    assert.equal(stats(0, 'lang')?.max_value, 'ab');
  });
});
