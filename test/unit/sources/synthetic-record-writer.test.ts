import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SYNTHETIC_RULES } from '../../../src/sources/synthetic-batch.ts';
import { SyntheticTweets, type TweetPayload } from '../../../src/sources/synthetic-payloads.ts';
import { SyntheticRecordWriter, unpackBatch } from '../../../src/sources/synthetic-record-writer.ts';
import { toTweetRecords } from '../../../src/sources/tweet-record.ts';
import type { TweetRecord } from '../../../src/types.ts';

const SOURCE = 'synthetic';
const INGESTED_AT_MS = Date.UTC(2026, 11, 7, 3, 0, 0, 123);
const START_MS = Date.UTC(2026, 11, 7, 2, 0, 0);

/** The general path: the payload as a one-tweet stream line through tweet-record.ts. */
function mapped(payload: TweetPayload): TweetRecord {
  const { records, deadLetters } = toTweetRecords(
    { data: payload.data, includes: payload.includes, matching_rules: SYNTHETIC_RULES },
    { source: SOURCE, ingestedAtMs: INGESTED_AT_MS },
  );
  assert.equal(deadLetters.length, 0);
  assert.equal(records.length, 1);
  return records[0]!;
}

function written(payloads: TweetPayload[]): TweetRecord[] {
  const writer = new SyntheticRecordWriter(SYNTHETIC_RULES);
  // A small first guess, so the buffer also grows mid-record.
  writer.begin(1, SOURCE, INGESTED_AT_MS);
  for (const p of payloads) writer.write(p);
  return unpackBatch(writer.end());
}

/** Equal records, or a failure naming the tweet and the first byte that differs, with both sides around it. */
function assertSameRecords(payloads: TweetPayload[], context: string): void {
  const actual = written(payloads);
  assert.equal(actual.length, payloads.length);
  payloads.forEach((p, i) => {
    const want = mapped(p);
    const got = actual[i]!;
    assert.equal(got.id, want.id, `${context}, tweet ${i}: id`);
    assert.equal(got.createdAtMs, want.createdAtMs, `${context}, tweet ${i}: createdAtMs`);
    if (got.value.equals(want.value)) return;
    let at = 0;
    while (got.value[at] === want.value[at]) at++;
    const around = (b: Buffer) => b.subarray(Math.max(0, at - 60), at + 60).toString('utf8');
    assert.fail(
      `${context}, tweet ${i} (${p.data.id}): first difference at byte ${at}\n` +
        `written: ${around(got.value)}\nmapped:  ${around(want.value)}`,
    );
  });
}

/** A worker's payloads: segment `index` of `size` tweets on the virtual clock, as synthetic-worker.ts makes them. */
function segment(seed: number, index: number, size: number): TweetPayload[] {
  const tweets = new SyntheticTweets({ seed, startTimeMs: START_MS });
  tweets.startSegment(index, size, index % 2);
  return Array.from({ length: size }, () => tweets.nextTweet(undefined, INGESTED_AT_MS));
}

describe('SyntheticRecordWriter', () => {
  test('writes the general mapping’s bytes for every tweet of many seeds and segments (virtual clock)', () => {
    const kinds = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const payloads = segment(seed * 7919 + 1, seed % 5, 250);
      for (const p of payloads) {
        kinds.add(p.data.referenced_tweets?.[0]?.type ?? 'original');
        if (p.includes.media) kinds.add(`media ${p.includes.media[0]!.type}`);
        if (p.data.geo) kinds.add(p.data.geo.coordinates ? 'geo point' : 'geo place');
        if (p.data.entities) for (const k of Object.keys(p.data.entities)) kinds.add(`entities ${k}`);
        if (/[\u0100-\uffff]/.test(p.data.text)) kinds.add('non-latin1 text');
        if (/[\ud800-\udfff]/.test(p.data.text)) kinds.add('astral text');
      }
      assertSameRecords(payloads, `seed ${seed * 7919 + 1}`);
    }
    // The comparison covered every shape the generator makes.
    for (const kind of [
      'original',
      'retweeted',
      'replied_to',
      'quoted',
      'media photo',
      'media video',
      'media animated_gif',
      'geo point',
      'geo place',
      'entities hashtags',
      'entities cashtags',
      'entities mentions',
      'entities urls',
      'non-latin1 text',
      'astral text',
    ])
      assert.ok(kinds.has(kind), `no ${kind} tweet was compared`);
  });

  test('writes the same bytes for tweets pinned to one millisecond (rate mode: created_at given)', () => {
    for (let seed = 100; seed < 110; seed++) {
      const tweets = new SyntheticTweets({ seed });
      const payloads = Array.from({ length: 200 }, () => tweets.nextTweet(INGESTED_AT_MS));
      assertSameRecords(payloads, `seed ${seed}, pinned`);
    }
  });

  test('escapes what JSON.stringify escapes: quotes, backslashes, controls, lone surrogates', () => {
    // One kind of escape per string, so each must be caught on its own.
    const odd = [
      'say "hi"',
      'back\\slash',
      'tab\there',
      'bell \u0007',
      'nl\n',
      'lone \ud800 high',
      'lone \udc00 low',
    ];
    const payloads = segment(3, 0, 70).map((p, i) => {
      const author = { ...p.includes.users![0]!, name: odd[(i + 1) % odd.length]! };
      return {
        data: { ...p.data, text: `${p.data.text} ${odd[i % odd.length]} 😂` },
        includes: { ...p.includes, users: [author, ...p.includes.users!.slice(1)] },
      };
    });
    assertSameRecords(payloads, 'escapes');
  });

  test('ids, times and enum values with characters the generator never puts there are still escaped and encoded', () => {
    // Those fields are copied byte by byte while they are printable ASCII; anything else must take the full path.
    const odd = ['1"2', '3\\4', 'x\ty', 'é', '😂', 'lone \ud800', ''];
    const payloads = segment(5, 0, 70).map((p, i) => {
      const o = odd[i % odd.length]!;
      const data = {
        ...p.data,
        lang: o,
        reply_settings: o as 'everyone',
        edit_history_tweet_ids: [p.data.id, o],
        edit_controls: {
          ...p.data.edit_controls,
          editable_until: `${p.data.edit_controls.editable_until}${o}`,
        },
        conversation_id: `${o}${p.data.conversation_id}`,
      };
      return { data, includes: p.includes };
    });
    assertSameRecords(payloads, 'odd plain fields');
  });

  test('leaves out what includes lack: author, referenced post, media, place', () => {
    // Includes that hold other objects than the tweet names (not just none).
    const other = <T extends object>(list: T[] | undefined, key: keyof T) =>
      (list ?? []).map((item) => ({ ...item, [key]: `other-${String(item[key])}` }));
    const payloads = segment(5, 1, 400).map((p) => ({
      data: p.data,
      includes: {
        ...p.includes,
        users: p.includes.users!.slice(1),
        tweets: other(p.includes.tweets, 'id'),
        media: other(p.includes.media, 'media_key'),
        places: other(p.includes.places, 'id'),
      },
    }));
    for (const field of ['referenced_tweets', 'attachments', 'geo'] as const)
      assert.ok(
        payloads.some((p) => p.data[field] !== undefined),
        `no tweet with ${field}`,
      );
    assertSameRecords(payloads, 'missing includes');
  });

  test('one batch after another on one writer: each its own buffer and _ingest', () => {
    const tweets = new SyntheticTweets({ seed: 9, startTimeMs: START_MS });
    const writer = new SyntheticRecordWriter(SYNTHETIC_RULES);
    const batches = [INGESTED_AT_MS, INGESTED_AT_MS + 1000].map((at) => {
      const payloads = Array.from({ length: 50 }, () => tweets.nextTweet());
      writer.begin(payloads.length, SOURCE, at);
      for (const p of payloads) writer.write(p);
      return { at, payloads, records: unpackBatch(writer.end()) };
    });
    assert.notEqual(batches[0]!.records[0]!.value.buffer, batches[1]!.records[0]!.value.buffer);
    for (const { at, payloads, records } of batches)
      payloads.forEach((p, i) => {
        const { records: want } = toTweetRecords(
          { data: p.data, includes: p.includes, matching_rules: SYNTHETIC_RULES },
          { source: SOURCE, ingestedAtMs: at },
        );
        assert.deepEqual(records[i]!.value, want[0]!.value);
      });
  });
});
