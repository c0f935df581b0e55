/**
 * The same posts as X API 2.159 and 2.167 serve them (field names from each spec's components.schemas Tweet /
 * Post, User and Expansions) become records of one shape and the same Parquet columns.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TweetColumnBuilder } from '../../../../src/sink/formats/tweet-columns.ts';
import type { SinkRecord } from '../../../../src/sink/sink-record.ts';
import { toTweetRecords } from '../../../../src/sources/tweet-record.ts';
import { RECORD_SCHEMA_VERSION } from '../../../../src/types.ts';

const ctx = { source: 'x-stream', ingestedAtMs: Date.UTC(2026, 10, 25, 6, 0, 0) };
const LONG_TEXT = `${'a long post about #music '.repeat(20)}end`;
const QUOTED_ID = '1849999999999999999';

/** A long quote post with metrics and edit history, its author, and the quoted post with its author. */
function streamLine(era: '2.159' | '2.167'): Record<string, unknown> {
  const old = era === '2.159';
  return {
    data: {
      id: '1850000000000000001',
      created_at: '2026-11-25T05:59:58.000Z',
      text: `${LONG_TEXT.slice(0, 270)}…`,
      author_id: '11',
      lang: 'en',
      [old ? 'edit_history_tweet_ids' : 'edit_history_post_ids']: ['1850000000000000001'],
      [old ? 'referenced_tweets' : 'referenced_posts']: [{ type: 'quoted', id: QUOTED_ID }],
      [old ? 'note_tweet' : 'note_post']: {
        text: LONG_TEXT,
        entities: { hashtags: [{ start: 14, end: 20, tag: 'music' }] },
      },
      public_metrics: {
        [old ? 'retweet_count' : 'repost_count']: 7,
        reply_count: 2,
        like_count: 30,
        quote_count: 1,
        bookmark_count: 0,
        impression_count: 900,
      },
      ...(old ? {} : { paid_partnership: false }),
    },
    includes: {
      users: [
        {
          id: '11',
          username: 'alice',
          name: 'Alice',
          [old ? 'pinned_tweet_id' : 'pinned_post_id']: '1',
          public_metrics: { followers_count: 5, [old ? 'tweet_count' : 'post_count']: 40 },
        },
        { id: '12', username: 'bob', name: 'Bob' },
      ],
      [old ? 'tweets' : 'posts']: [
        {
          id: QUOTED_ID,
          text: 'the quoted post',
          author_id: '12',
          public_metrics: { [old ? 'retweet_count' : 'repost_count']: 3 },
        },
      ],
    },
    matching_rules: [{ id: '99', tag: 'music' }],
  };
}

function recordOf(era: '2.159' | '2.167'): Record<string, unknown> {
  const { records, deadLetters } = toTweetRecords(streamLine(era), ctx);
  assert.equal(deadLetters.length, 0);
  assert.equal(records.length, 1);
  return JSON.parse(records[0]!.value.toString('utf8'));
}

function columns(doc: Record<string, unknown>): Record<string, unknown> {
  const record: SinkRecord = {
    topic: 't',
    partition: 0,
    offset: 5n,
    timestampMs: Date.parse('2026-11-25T05:59:58.000Z'),
    value: Buffer.from(JSON.stringify(doc)),
    doc,
    headers: new Map(),
  };
  const builder = new TweetColumnBuilder();
  builder.add(record);
  // String columns hold UTF-8 bytes: read them as the strings a Parquet reader gives back.
  const text = (v: unknown): unknown =>
    v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : Array.isArray(v) ? v.map(text) : v;
  return Object.fromEntries(builder.columnData().map((c) => [c.name, text(c.data[0])]));
}

/** The record without X's 2.159-only names and 2.167-only additions: what a consumer reads. */
function normalized(doc: Record<string, unknown>): Record<string, unknown> {
  const { referenced_tweets, note_tweet, edit_history_tweet_ids, paid_partnership, ...rest } = doc;
  const strip = (o: unknown, ...keys: string[]) =>
    Object.fromEntries(Object.entries(o as object).filter(([k]) => !keys.includes(k)));
  const author = rest.author as Record<string, unknown>;
  const referenced = rest.referenced_posts as { post: Record<string, unknown> }[];
  const post = referenced[0]!.post;
  return {
    ...rest,
    public_metrics: strip(rest.public_metrics, 'retweet_count'),
    author: {
      ...strip(author, 'pinned_tweet_id'),
      public_metrics: strip(author.public_metrics, 'tweet_count'),
    },
    referenced_posts: [
      { ...referenced[0], post: { ...post, public_metrics: strip(post.public_metrics, 'retweet_count') } },
    ],
  };
}

/** Every value in `sent` is in `kept` at the same place (objects and arrays compared member by member). */
function assertHolds(kept: unknown, sent: unknown, where: string): void {
  if (typeof sent !== 'object' || sent === null) return void assert.deepEqual(kept, sent, where);
  assert.equal(typeof kept, 'object', where);
  for (const [k, v] of Object.entries(sent))
    assertHolds((kept as Record<string, unknown>)[k], v, `${where}.${k}`);
}

describe('one record shape whatever the API era', () => {
  test('2.159 and 2.167 payloads give the same record under the 2.167 names', () => {
    const [old, current] = [recordOf('2.159'), recordOf('2.167')];
    assert.deepEqual(normalized(old), normalized(current));
    assert.equal(RECORD_SCHEMA_VERSION, 2);
    for (const doc of [old, current]) {
      assert.equal((doc.note_post as { text: string }).text, LONG_TEXT);
      assert.deepEqual(doc.edit_history_post_ids, ['1850000000000000001']);
      assert.equal((doc.public_metrics as { repost_count: number }).repost_count, 7);
      assert.equal((doc.author as { pinned_post_id: string }).pinned_post_id, '1');
      assert.equal((doc.author as { public_metrics: Record<string, number> }).public_metrics.post_count, 40);
      assert.deepEqual(doc.referenced_posts, [
        {
          type: 'quoted',
          id: QUOTED_ID,
          post: {
            id: QUOTED_ID,
            text: 'the quoted post',
            author_id: '12',
            public_metrics: { ...(doc === old ? { retweet_count: 3 } : {}), repost_count: 3 },
            author: { id: '12', username: 'bob', name: 'Bob' },
          },
        },
      ]);
    }
  });

  test('the record keeps the payload X sent: tweetpipe only adds fields', () => {
    for (const era of ['2.159', '2.167'] as const)
      assertHolds(recordOf(era), streamLine(era).data, `${era} data`);
    const old = recordOf('2.159');
    assert.deepEqual(old.referenced_tweets, [{ type: 'quoted', id: QUOTED_ID }], 'X’s list is left bare');
  });

  test('the Parquet columns are the same and filled from either era', () => {
    const [old, current] = [columns(recordOf('2.159')), columns(recordOf('2.167'))];
    assert.deepEqual(old, current);
    assert.equal(current.text, LONG_TEXT, 'the long text, not the truncated one');
    assert.deepEqual(current.hashtags, ['music'], 'entities of the long text');
    assert.equal(current.referenced_type, 'quoted');
    assert.equal(current.referenced_id, QUOTED_ID);
    assert.equal(current.retweet_count, 7n);
    assert.equal(current.author_username, 'alice');
  });

  test('the columns also read records of schema version 1 and bare 2.167 posts', () => {
    const data = streamLine('2.167').data as Record<string, unknown>;
    const bare = columns({ ...data, _ingest: { source: 'replay' } });
    assert.equal(bare.text, LONG_TEXT);
    assert.equal(bare.referenced_id, QUOTED_ID);
    assert.equal(bare.retweet_count, 7n);
    const v1 = columns({
      id: '1',
      created_at: '2026-11-25T05:59:58.000Z',
      text: 'short',
      referenced_tweets: [{ type: 'replied_to', id: '9', tweet: { id: '9' } }],
      public_metrics: { retweet_count: 4 },
    });
    assert.equal(v1.referenced_type, 'replied_to');
    assert.equal(v1.retweet_count, 4n);
  });
});
