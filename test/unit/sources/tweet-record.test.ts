import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromJsonLine, toTweetRecords } from '../../../src/sources/tweet-record.ts';
import { RECORD_SCHEMA_VERSION } from '../../../src/types.ts';

const ctx = { source: 'x-stream', ingestedAtMs: Date.UTC(2026, 10, 25, 6, 0, 0) };
const value = (buf: Buffer) => JSON.parse(buf.toString('utf8'));

const tweet = (id: string, extra: Record<string, unknown> = {}) => ({
  text: `tweet ${id}`,
  author_id: '11',
  id,
  created_at: '2026-11-25T05:59:58.000Z',
  ...extra,
});

describe('toTweetRecords: stream lines', () => {
  test('embeds author, media, place and referenced tweets from includes, with the rules and ingest metadata', () => {
    const line = {
      data: tweet('1850000000000000001', {
        attachments: { media_keys: ['3_1', '3_missing'] },
        geo: { place_id: 'p1' },
        referenced_tweets: [
          { type: 'quoted', id: '1849999999999999999' },
          { type: 'replied_to', id: '1' },
        ],
      }),
      includes: {
        users: [
          { id: '11', username: 'alice' },
          { id: '12', username: 'bob' },
        ],
        media: [{ media_key: '3_1', type: 'photo' }],
        places: [{ id: 'p1', full_name: 'Lisbon, Portugal' }],
        tweets: [{ id: '1849999999999999999', text: 'quoted', author_id: '12' }],
      },
      matching_rules: [{ id: '99', tag: 'music' }],
    };
    const { records, deadLetters, errors } = toTweetRecords(line, ctx);
    assert.equal(deadLetters.length, 0);
    assert.equal(errors.length, 0);
    assert.equal(records.length, 1);
    const [r] = records;
    assert.equal(r!.id, '1850000000000000001');
    assert.equal(r!.createdAtMs, Date.parse('2026-11-25T05:59:58.000Z'));
    const v = value(r!.value);
    assert.deepEqual(Object.keys(v).slice(0, 2), ['id', 'created_at'], 'id and created_at lead the document');
    assert.deepEqual(v.author, { id: '11', username: 'alice' });
    assert.deepEqual(v.media, [{ media_key: '3_1', type: 'photo' }], 'missing media keys are skipped');
    assert.deepEqual(v.place, { id: 'p1', full_name: 'Lisbon, Portugal' });
    assert.deepEqual(v.referenced_posts[0], {
      type: 'quoted',
      id: '1849999999999999999',
      post: {
        id: '1849999999999999999',
        text: 'quoted',
        author_id: '12',
        author: { id: '12', username: 'bob' },
      },
    });
    assert.deepEqual(v.referenced_posts[1], { type: 'replied_to', id: '1' }, 'not included: left as it was');
    assert.deepEqual(
      v.referenced_tweets,
      [
        { type: 'quoted', id: '1849999999999999999' },
        { type: 'replied_to', id: '1' },
      ],
      'X’s own list stays as sent',
    );
    assert.deepEqual(v.matching_rules, [{ id: '99', tag: 'music' }]);
    assert.deepEqual(v._ingest, {
      source: 'x-stream',
      ingested_at: '2026-11-25T06:00:00.000Z',
      schema_version: RECORD_SCHEMA_VERSION,
    });
    assert.equal(RECORD_SCHEMA_VERSION, 2);
  });

  test('accepts includes.posts (API 2.167 naming) like includes.tweets', () => {
    const line = {
      data: tweet('5', { referenced_tweets: [{ type: 'retweeted', id: '4' }] }),
      includes: { posts: [{ id: '4', text: 'original' }] },
    };
    const v = value(toTweetRecords(line, ctx).records[0]!.value);
    assert.equal(v.referenced_posts[0].post.text, 'original');
  });

  test('missing includes are tolerated: nothing is embedded', () => {
    const { records } = toTweetRecords({ data: tweet('5', { geo: { place_id: 'p' } }) }, ctx);
    const v = value(records[0]!.value);
    assert.equal(v.author, undefined);
    assert.equal(v.place, undefined);
    assert.deepEqual(v.matching_rules, []);
  });

  test('the tweet keeps every field X sent', () => {
    const data = tweet('5', {
      lang: 'pt',
      public_metrics: { like_count: 3 },
      entities: { hashtags: [{ tag: 'x' }] },
    });
    const v = value(toTweetRecords({ data }, ctx).records[0]!.value);
    for (const [k, val] of Object.entries(data)) assert.deepEqual(v[k], val, k);
  });
});

describe('toTweetRecords: search pages', () => {
  test('maps every tweet of data[], sharing the page includes', () => {
    const page = {
      data: [tweet('30'), tweet('20', { author_id: '12' })],
      includes: { users: [{ id: '11' }, { id: '12', username: 'bob' }] },
      meta: { newest_id: '30', oldest_id: '20', result_count: 2 },
    };
    const { records } = toTweetRecords(page, { ...ctx, matchingRules: [{ id: '7', tag: 'music' }] });
    assert.deepEqual(
      records.map((r) => r.id),
      ['30', '20'],
    );
    const v = value(records[1]!.value);
    assert.equal(v.author.username, 'bob');
    assert.deepEqual(
      v.matching_rules,
      [{ id: '7', tag: 'music' }],
      'rules given by the caller for a per-rule search',
    );
  });

  test('an empty page (meta only) is neither a record nor a dead letter', () => {
    const out = toTweetRecords({ meta: { result_count: 0 } }, ctx);
    assert.deepEqual([out.records.length, out.deadLetters.length], [0, 0]);
  });

  test('partial errors: good tweets become records, bad ones dead letters, errors are reported', () => {
    const problem = {
      title: 'Not Found Error',
      detail: 'Could not find tweet with id: [9].',
      type: 'https://api.x.com/2/problems/resource-not-found',
    };
    const page = {
      data: [tweet('30'), { id: 'abc', created_at: '2026-11-25T00:00:00Z' }, tweet('10')],
      errors: [problem],
      meta: {},
    };
    const out = toTweetRecords(page, ctx);
    assert.deepEqual(
      out.records.map((r) => r.id),
      ['30', '10'],
    );
    assert.equal(out.deadLetters.length, 1);
    assert.match(out.deadLetters[0]!.reason, /id is not a decimal string/);
    assert.equal(
      JSON.parse(out.deadLetters[0]!.raw.toString()).id,
      'abc',
      'the dead letter holds the bad tweet',
    );
    assert.deepEqual(out.errors, [problem]);
  });
});

describe('toTweetRecords: dead letters', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not an object', [1, 2], /not a JSON object/],
    ['a string', 'hello', /not a JSON object/],
    ['no data', { includes: {} }, /no data/],
    ['data without id', { data: { text: 'x', created_at: '2026-11-25T00:00:00Z' } }, /without a string id/],
    ['numeric id', { data: { id: 1850000, created_at: '2026-11-25T00:00:00Z' } }, /without a string id/],
    ['id not decimal', { data: { id: '18a5', created_at: '2026-11-25T00:00:00Z' } }, /not a decimal string/],
    [
      'id too long',
      { data: { id: '12345678901234567890', created_at: '2026-11-25T00:00:00Z' } },
      /not a decimal/,
    ],
    ['created_at missing', { data: { id: '5' } }, /created_at missing/],
    ['created_at unparsable', { data: { id: '5', created_at: 'yesterday' } }, /created_at unparsable/],
    ['data neither object nor array', { data: 5 }, /neither a tweet object nor an array/],
    [
      'errors without data',
      { errors: [{ title: 'Invalid Request', detail: 'bad' }] },
      /errors without data: Invalid Request: bad/,
    ],
  ];
  for (const [name, payload, reason] of cases) {
    test(name, () => {
      const out = toTweetRecords(payload, ctx);
      assert.equal(out.records.length, 0);
      assert.equal(out.deadLetters.length, 1);
      assert.match(out.deadLetters[0]!.reason, reason);
    });
  }

  test('a dead letter keeps the original bytes when given', () => {
    const raw = Buffer.from('{"data":{"id":"x1"}}');
    const out = fromJsonLine(raw, ctx);
    assert.equal(out.deadLetters[0]!.raw, raw);
  });

  test('a line that is not JSON is a dead letter with the parser message', () => {
    const raw = Buffer.from('{"data": {"id": "1",');
    const out = fromJsonLine(raw, ctx);
    assert.equal(out.deadLetters[0]!.raw, raw);
    assert.match(out.deadLetters[0]!.reason, /^not JSON: /);
  });

  test('operational stream messages are reported, not dead-lettered', () => {
    const disconnect = {
      errors: [
        {
          title: 'operational-disconnect',
          disconnect_type: 'UpstreamOperationalDisconnect',
          detail: 'This stream has been disconnected upstream for operational reasons.',
          type: 'https://api.twitter.com/2/problems/operational-disconnect',
        },
      ],
    };
    const out = toTweetRecords(disconnect, ctx);
    assert.equal(out.deadLetters.length, 0);
    assert.equal(out.errors.length, 1);
    const tooMany = {
      errors: [{ title: 'ConnectionException', connection_issue: 'TooManyConnections', detail: 'limit' }],
    };
    assert.equal(toTweetRecords(tooMany, ctx).deadLetters.length, 0);
  });
});
