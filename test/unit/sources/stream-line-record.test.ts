import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamLineRecord } from '../../../src/sources/stream-line-record.ts';
import { SyntheticTweets } from '../../../src/sources/synthetic-payloads.ts';
import { fromJsonLine, type MappingContext, toTweetRecords } from '../../../src/sources/tweet-record.ts';
import { renderIncludes, renderPost } from '../../../src/x-emulator/era-rendering.ts';

const ctx: MappingContext = { source: 'replay', ingestedAtMs: Date.UTC(2026, 10, 25, 6, 0, 0) };
const RULES = [{ id: '1', tag: 'music' }];

/** What the general mapping makes of the line: the record's document as JSON.stringify writes it. */
function general(line: string, context = ctx): { id: string; createdAtMs: number; text: string } {
  const { records } = toTweetRecords(JSON.parse(line), context);
  assert.equal(records.length, 1);
  const r = records[0]!;
  return { id: r.id, createdAtMs: r.createdAtMs, text: r.value.toString('utf8') };
}

/** The record from the line's bytes, which must exist and mean what the general mapping's does, in its order. */
function assertSameAsGeneral(line: string, context = ctx): void {
  const fast = streamLineRecord(Buffer.from(line), context);
  assert.ok(fast, `the byte path should take ${line.slice(0, 120)}`);
  const want = general(line, context);
  assert.equal(fast.id, want.id);
  assert.equal(fast.createdAtMs, want.createdAtMs);
  // Parsed and written again, the document is the general one byte for byte: same values, same member order.
  assert.equal(JSON.stringify(JSON.parse(fast.value.toString('utf8'))), want.text);
}

const syntheticLines = (count: number, era: '2.159' | '2.167'): string[] => {
  const tweets = new SyntheticTweets({ seed: 7, startTimeMs: Date.UTC(2026, 10, 25, 5, 0, 0) });
  return Array.from({ length: count }, () => {
    const { data, includes } = tweets.nextTweet();
    return JSON.stringify({
      data: renderPost(data as unknown as Record<string, unknown>, era),
      includes: renderIncludes(includes as unknown as Record<string, Record<string, unknown>[]>, era),
      matching_rules: RULES,
    });
  });
};

describe('streamLineRecord: the record of a stream line from its bytes', () => {
  test('equals the general mapping on 2,000 synthetic tweets of each API era (authors, media, places, quotes, replies, retweets)', () => {
    const lines = [...syntheticLines(2000, '2.159'), ...syntheticLines(2000, '2.167')];
    for (const line of lines) assertSameAsGeneral(line);
    // The sample covers every embedding.
    const joined = lines.join('\n');
    for (const needle of [
      '"referenced_tweets"',
      '"referenced_posts"',
      '"attachments"',
      '"place_id"',
      '"posts"',
    ])
      assert.ok(joined.includes(needle), needle);
  });

  test('keeps the payload spelling (whitespace, escapes, number forms) and means the same', () => {
    const line = ` { "data" : { "text" : "caf\\u00e9 \\"q\\" a\\/b" , "id":"1850000000000000001",
      "created_at":"2026-11-25T05:59:58.000Z", "author_id" : "11", "public_metrics": {"retweet_count": 1.50e1},
      "geo": {"place_id": "p\\u0031"}, "attachments": {"media_keys": ["3_1", "3_9"]},
      "referenced_tweets": [{"type":"quoted","id":"9"}, {"type":"replied_to","id":"404"}, 7] },
      "includes": {"users": [{"id":"11","pinned_tweet_id":"5","public_metrics":{"tweet_count":3}}],
        "media": [{"media_key":"3_1","type":"photo"}], "places": [{"id":"p1","name":"Lisboa"}],
        "tweets": [{"id":"9","author_id":"11","edit_history_tweet_ids":["9"]}], "polls": [] } } `.replace(
      /\n/g,
      ' ',
    );
    assertSameAsGeneral(line);
    assertSameAsGeneral(line, { ...ctx, matchingRules: RULES });
  });

  test('copies adjacent members as they are and drops the whitespace around commas between others, byte for byte', () => {
    // Members after "lang" are set apart by a space (before one name, after one value): they are copied one by one.
    const line =
      '{"data":{"id":"1","created_at":"2026-11-25T06:00:00.000Z","text":"a, \\"b\\"","lang":"en", "possibly_sensitive":false ,' +
      '"public_metrics":{"like_count":2},"source":"x","edit_history_tweet_ids":["1"]},"matching_rules":[{"id":"1","tag":"m"}]}';
    const record = streamLineRecord(Buffer.from(line), ctx);
    assert.equal(
      record?.value.toString('utf8'),
      '{"id":"1","created_at":"2026-11-25T06:00:00.000Z","text":"a, \\"b\\"","lang":"en","possibly_sensitive":false,' +
        '"public_metrics":{"like_count":2},"source":"x","edit_history_tweet_ids":["1"],"edit_history_post_ids":["1"],' +
        '"matching_rules":[{"id":"1","tag":"m"}],"_ingest":{"source":"replay","ingested_at":"2026-11-25T06:00:00.000Z","schema_version":2}}',
    );
  });

  test('returns undefined for every shape it leaves to the general mapping, which fromJsonLine then maps', () => {
    const ok = {
      data: {
        id: '1850000000000000001',
        created_at: '2026-11-25T05:59:58.000Z',
        author_id: '11',
        text: 'hi',
      },
      includes: { users: [{ id: '11', username: 'alice' }] },
    };
    const left: [string, string | Buffer][] = [
      ['a search page', JSON.stringify({ data: [ok.data], meta: { result_count: 1 } })],
      ['a search page with meta first', JSON.stringify({ meta: { result_count: 1 }, data: [ok.data] })],
      ['a line over 1 MiB', JSON.stringify({ ...ok, data: { ...ok.data, text: 'x'.repeat(1024 * 1024) } })],
      ['X errors beside the data', JSON.stringify({ ...ok, errors: [{ title: 'x' }] })],
      ['a tweet without created_at', JSON.stringify({ data: { id: '1' } })],
      ['an id that is not decimal', JSON.stringify({ data: { ...ok.data, id: 'x1' } })],
      ['an unparsable created_at', JSON.stringify({ data: { ...ok.data, created_at: 'soon' } })],
      ['a tweet that has an author already', JSON.stringify({ ...ok, data: { ...ok.data, author: {} } })],
      ['an author_id that is a number', JSON.stringify({ ...ok, data: { ...ok.data, author_id: 11 } })],
      [
        'a name repeated in the tweet',
        '{"data":{"id":"1","id":"2","created_at":"2026-11-25T05:59:58.000Z"}}',
      ],
      ['a name JavaScript orders first', '{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z","7":1}}'],
      ['an escaped name', '{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z","\\u0061":1}}'],
      ['a trailing comma', '{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z",}}'],
      ['a raw tab in a string', '{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z","t":"a\tb"}}'],
      ['a bad escape', '{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z","t":"\\x"}}'],
      ['a number with a leading zero', '{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z","n":01}}'],
      ['text after the object', '{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z"}} x'],
      ['a truncated line', '{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z","t":"ab'],
      [
        'invalid UTF-8',
        Buffer.concat([
          Buffer.from('{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z","t":"'),
          Buffer.from([0xff, 0x22, 0x7d, 0x7d]),
        ]),
      ],
    ];
    for (const [what, line] of left) {
      const bytes = Buffer.isBuffer(line) ? line : Buffer.from(line);
      assert.equal(streamLineRecord(bytes, ctx), undefined, what);
      const mapped = fromJsonLine(bytes, ctx);
      assert.equal(mapped.records.length + mapped.deadLetters.length > 0, true, what);
    }
    // The general mapping cannot write this one either (JSON.stringify runs out of stack): only the scanner is checked.
    const deep = `{"data":{"id":"1","created_at":"2026-11-25T05:59:58.000Z","d":${'['.repeat(200_000)}${']'.repeat(200_000)}}}`;
    assert.equal(streamLineRecord(Buffer.from(deep), ctx), undefined, 'nesting deeper than the stack');
    const own = { ...ctx, ownRuleIds: new Set(['1']) };
    assert.equal(
      streamLineRecord(Buffer.from(JSON.stringify({ ...ok, matching_rules: RULES })), own),
      undefined,
    );
  });
});
