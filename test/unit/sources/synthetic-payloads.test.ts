import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EndOfInput } from '../../../src/sources/source.ts';
import { SyntheticSource } from '../../../src/sources/synthetic.ts';
import {
  codePointLength,
  SNOWFLAKE_EPOCH_MS,
  SyntheticTweets,
  snowflakeFromTime,
  type TweetPayload,
  timeFromSnowflake,
  type V2Tweet,
} from '../../../src/sources/synthetic-payloads.ts';
import { compareIds } from '../../../src/types.ts';

// Property names of the 2.159 spec's components.schemas (Tweet, User, Photo/Video, Place, Expansions).
const TWEET_KEYS = new Set(
  (
    'attachments author_id community_id context_annotations conversation_id created_at display_text_range ' +
    'edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id lang non_public_metrics note_tweet ' +
    'organic_metrics possibly_sensitive promoted_metrics public_metrics referenced_tweets reply_settings scopes ' +
    'source suggested_source_links suggested_source_links_with_counts text username withheld'
  ).split(' '),
);
const USER_KEYS = new Set(
  (
    'affiliation connection_status created_at description entities id location most_recent_tweet_id name ' +
    'pinned_tweet_id profile_banner_url profile_image_url protected public_metrics receives_your_dm ' +
    'subscription_type url username verified verified_type withheld'
  ).split(' '),
);
const MEDIA_KEYS = new Set(
  (
    'height media_key type width alt_text url duration_ms non_public_metrics organic_metrics preview_image_url ' +
    'promoted_metrics public_metrics variants'
  ).split(' '),
);
const PLACE_KEYS = new Set(
  'contained_within country country_code full_name geo id name place_type'.split(' '),
);
const EXPANSION_KEYS = new Set('media places polls topics tweets users'.split(' '));
const TWEET_METRICS = ['retweet_count', 'reply_count', 'like_count', 'impression_count', 'bookmark_count'];
const USER_METRICS = ['followers_count', 'following_count', 'tweet_count', 'listed_count'];

const generate = (seed: number, n: number, atMs?: number): TweetPayload[] => {
  const g = new SyntheticTweets({ seed });
  return Array.from({ length: n }, () => g.nextTweet(atMs));
};

/** The substring between code point offsets, the way X's entity indices address text. */
const slice = (text: string, start: number, end: number) => [...text].slice(start, end).join('');

function assertEntitiesMatchText(t: V2Tweet): void {
  const e = t.entities;
  if (!e) return;
  for (const h of e.hashtags ?? []) assert.equal(slice(t.text, h.start, h.end), `#${h.tag}`, t.text);
  for (const c of e.cashtags ?? []) assert.equal(slice(t.text, c.start, c.end), `$${c.tag}`, t.text);
  for (const m of e.mentions ?? []) assert.equal(slice(t.text, m.start, m.end), `@${m.username}`, t.text);
  for (const u of e.urls ?? []) assert.equal(slice(t.text, u.start, u.end), u.url, t.text);
  for (const list of [e.hashtags, e.cashtags, e.mentions, e.urls]) {
    if (list) assert.ok(list.length > 0, 'entity arrays are omitted when empty (spec minItems 1)');
  }
}

function assertSpecKeys(p: TweetPayload): void {
  for (const k of Object.keys(p.data)) assert.ok(TWEET_KEYS.has(k), `Tweet has no property ${k}`);
  for (const k of TWEET_METRICS) assert.equal(typeof p.data.public_metrics[k as 'like_count'], 'number');
  for (const k of Object.keys(p.includes))
    assert.ok(EXPANSION_KEYS.has(k), `Expansions has no property ${k}`);
  for (const u of p.includes.users ?? []) {
    for (const k of Object.keys(u)) assert.ok(USER_KEYS.has(k), `User has no property ${k}`);
    assert.match(u.username, /^[A-Za-z0-9_]{1,15}$/);
    assert.match(u.id, /^[0-9]{1,19}$/);
    for (const k of USER_METRICS) assert.equal(typeof u.public_metrics[k as 'tweet_count'], 'number');
  }
  for (const m of p.includes.media ?? []) {
    for (const k of Object.keys(m)) assert.ok(MEDIA_KEYS.has(k), `Media has no property ${k}`);
    assert.match(m.media_key, /^([0-9]+)_([0-9]+)$/);
  }
  for (const place of p.includes.places ?? []) {
    for (const k of Object.keys(place)) assert.ok(PLACE_KEYS.has(k), `Place has no property ${k}`);
    assert.equal(place.geo.bbox.length, 4);
  }
}

describe('snowflake ids', () => {
  test('encode the time like X: a real tweet id decodes to its created_at', () => {
    // Tweet 1346889436626259968 was created at 2021-01-06T18:40:40.000Z (the spec's Tweet example).
    const ms = timeFromSnowflake('1346889436626259968');
    assert.equal(new Date(ms - (ms % 1000)).toISOString(), '2021-01-06T18:40:40.000Z');
    assert.equal(snowflakeFromTime(SNOWFLAKE_EPOCH_MS, 0), '0');
    assert.equal(snowflakeFromTime(SNOWFLAKE_EPOCH_MS + 1, 5), String((1 << 22) + 5));
    assert.equal(timeFromSnowflake(snowflakeFromTime(1_795_000_000_123, 4095, 1023)), 1_795_000_000_123);
  });

  test('stay exact beyond 2^53 and grow with time', () => {
    const a = snowflakeFromTime(Date.UTC(2026, 10, 25), 0);
    const b = snowflakeFromTime(Date.UTC(2026, 10, 25), 1);
    assert.ok(BigInt(a) > 2n ** 53n);
    assert.equal(compareIds(a, b), -1);
  });
});

describe('SyntheticTweets', () => {
  test('the same seed gives byte-identical output, another seed does not', () => {
    const one = JSON.stringify(generate(7, 2000));
    assert.equal(JSON.stringify(generate(7, 2000)), one);
    assert.notEqual(JSON.stringify(generate(8, 2000)), one);
  });

  test('ids increase strictly, also when thousands of tweets share one millisecond', () => {
    for (const payloads of [generate(1, 5000), generate(2, 5000, Date.UTC(2026, 10, 25, 6, 12, 3))]) {
      for (let i = 1; i < payloads.length; i++) {
        assert.equal(
          compareIds(payloads[i - 1]!.data.id, payloads[i]!.data.id),
          -1,
          `id ${i} does not increase`,
        );
      }
    }
  });

  describe('segments (several generator threads, one stream)', () => {
    const SIZE = 500;
    /** Segments `indexes` of seed 5, made by one instance as generator thread `thread`. */
    const segments = (indexes: number[], thread: number, atMs?: number) => {
      const g = new SyntheticTweets({ seed: 5 });
      return new Map(
        indexes.map((k) => {
          g.startSegment(k, SIZE, thread);
          return [k, Array.from({ length: SIZE }, () => g.nextTweet(atMs))] as const;
        }),
      );
    };

    test('a segment is the same whichever thread makes it and whatever that thread made before', () => {
      const alone = segments([3], 1).get(3)!;
      const afterOthers = segments([0, 1, 3], 1).get(3)!;
      assert.equal(JSON.stringify(afterOthers), JSON.stringify(alone));
      assert.notEqual(JSON.stringify(segments([2], 1).get(2)), JSON.stringify(alone));
    });

    test('segments keep to their own slice of time, so ids grow from one segment to the next', () => {
      const even = segments([0, 2, 4], 0);
      const odd = segments([1, 3, 5], 1);
      const stream = [0, 1, 2, 3, 4, 5].flatMap((k) => (k % 2 === 0 ? even : odd).get(k)!);
      for (let i = 1; i < stream.length; i++)
        assert.equal(compareIds(stream[i - 1]!.data.id, stream[i]!.data.id), -1, `id ${i} does not increase`);
      const gaps =
        (Date.parse(stream.at(-1)!.data.created_at) - Date.parse(stream[0]!.data.created_at)) / 3000;
      // The mean gap stays the generator's 20 ms (created_at has second precision, hence the slack).
      assert.ok(gaps > 19 && gaps < 21, `mean gap ${gaps} ms`);
    });

    test('threads pinned to the same millisecond still make distinct ids', () => {
      const at = Date.UTC(2026, 10, 25, 6, 12, 3);
      const ids = [...segments([0, 2], 0, at).values(), ...segments([1, 3], 1, at).values()].flatMap((seg) =>
        seg.map((p) => p.data.id),
      );
      assert.equal(new Set(ids).size, 4 * SIZE);
    });

    test('replies, quotes and retweets refer only to tweets of their own segment', () => {
      // Segment 6 comes first, so a pool left over from it would show.
      const seg = segments([6, 7], 0).get(7)!;
      const ids = new Set(seg.map((p) => p.data.id));
      for (const p of seg)
        for (const ref of p.data.referenced_tweets ?? [])
          assert.ok(ids.has(ref.id), `${ref.id} outside segment`);
    });
  });

  test('created_at is ISO-8601 at second precision and agrees with the id', () => {
    for (const { data } of generate(3, 3000)) {
      assert.match(data.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
      const fromId = timeFromSnowflake(data.id);
      assert.equal(data.created_at, new Date(fromId - (fromId % 1000)).toISOString());
      assert.deepEqual(data.edit_history_tweet_ids, [data.id]);
    }
  });

  test('entity offsets are code points into the text, across scripts and emoji', () => {
    const payloads = generate(4, 20_000);
    for (const p of payloads) {
      assertEntitiesMatchText(p.data);
      for (const t of p.includes.tweets ?? []) assertEntitiesMatchText(t);
    }
    const astral = payloads.filter((p) => codePointLength(p.data.text) !== p.data.text.length);
    assert.ok(astral.length > 100, 'many texts contain characters outside the BMP');
    const withEntityAfterEmoji = astral.filter((p) => {
      const first = p.data.text.search(/\p{Extended_Pictographic}/u);
      return [...(p.data.entities?.hashtags ?? []), ...(p.data.entities?.urls ?? [])].some(
        (e) => e.start > first,
      );
    });
    assert.ok(
      withEntityAfterEmoji.length > 0,
      'some entities come after an emoji, where UTF-16 offsets would be wrong',
    );
  });

  test('references resolve within includes and have X shapes', () => {
    for (const p of generate(5, 10_000)) {
      const { data, includes } = p;
      assertSpecKeys(p);
      const users = new Set((includes.users ?? []).map((u) => u.id));
      assert.ok(users.has(data.author_id), 'author in includes.users');
      if (data.in_reply_to_user_id)
        assert.ok(users.has(data.in_reply_to_user_id), 'replied-to user in includes');
      for (const m of data.entities?.mentions ?? [])
        assert.ok(users.has(m.id), `mentioned @${m.username} in includes`);
      for (const ref of data.referenced_tweets ?? []) {
        const referenced = includes.tweets?.find((t) => t.id === ref.id);
        assert.ok(referenced, `${ref.type} tweet ${ref.id} in includes.tweets`);
        assert.equal(compareIds(referenced.id, data.id), -1, 'a referenced tweet is older');
        assert.ok(users.has(referenced.author_id), 'referenced author in includes.users');
        if (ref.type === 'retweeted') {
          assert.ok(data.text.startsWith('RT @'), data.text);
          assert.ok(data.text.endsWith(referenced.text), 'a retweet carries the original text');
        }
        if (ref.type === 'replied_to') assert.equal(data.conversation_id, referenced.conversation_id);
      }
      for (const key of data.attachments?.media_keys ?? []) {
        assert.ok(
          includes.media?.some((m) => m.media_key === key),
          `media ${key} in includes.media`,
        );
      }
      if (data.geo)
        assert.ok(
          includes.places?.some((pl) => pl.id === data.geo?.place_id),
          'place in includes.places',
        );
    }
  });

  test('the mix is realistic: languages, kinds, media, geo, and a good share for the default music rule', () => {
    const payloads = generate(6, 10_000);
    const langs = new Set(payloads.map((p) => p.data.lang));
    for (const lang of ['en', 'es', 'pt', 'ja', 'ar', 'hi', 'fr', 'de', 'ko'])
      assert.ok(langs.has(lang), lang);
    const kinds = new Map<string, number>();
    for (const p of payloads) {
      const kind = p.data.referenced_tweets?.[0]?.type ?? 'original';
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    for (const kind of ['original', 'retweeted', 'quoted', 'replied_to'])
      assert.ok((kinds.get(kind) ?? 0) > 500, kind);
    assert.ok(payloads.filter((p) => p.data.attachments).length > 200, 'media attached');
    assert.ok(payloads.filter((p) => p.data.geo).length > 50, 'geo tagged');
    const music = payloads.filter(
      (p) => p.data.lang === 'en' && !p.data.text.startsWith('RT ') && /\bmusic\b/i.test(p.data.text),
    );
    assert.ok(music.length / payloads.length > 0.1, `music share ${music.length / payloads.length}`);
  });

  test('search pages are newest first with merged, duplicate-free includes', () => {
    const page = new SyntheticTweets({ seed: 9 }).nextSearchPage(100);
    const data = page.data ?? [];
    assert.equal(data.length, 100);
    assert.equal(page.meta.result_count, 100);
    assert.equal(page.meta.newest_id, data[0]?.id);
    assert.equal(page.meta.oldest_id, data[99]?.id);
    for (let i = 1; i < data.length; i++) assert.equal(compareIds(data[i - 1]!.id, data[i]!.id), 1);
    const userIds = (page.includes?.users ?? []).map((u) => u.id);
    assert.equal(new Set(userIds).size, userIds.length);
  });

  test('stream lines carry the matching rules', () => {
    const line = new SyntheticTweets({ seed: 10 }).nextStreamLine([{ id: '1', tag: 'music' }]);
    assert.deepEqual(line.matching_rules, [{ id: '1', tag: 'music' }]);
    assert.ok(line.data.id && line.data.text);
  });

  test('generation rate including JSON serialisation (reported, not asserted)', (t) => {
    const g = new SyntheticTweets({ seed: 11 });
    for (let i = 0; i < 5000; i++) JSON.stringify(g.nextTweet());
    const n = 50_000;
    let bytes = 0;
    const started = performance.now();
    for (let i = 0; i < n; i++) bytes += JSON.stringify(g.nextTweet()).length;
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(
      `${Math.round(n / seconds)} tweets/s with JSON.stringify, ${Math.round(bytes / n)} bytes/tweet`,
    );
    assert.ok(bytes > 0);
  });
});

describe('SyntheticSource at full speed', () => {
  test('a run longer than the hour it starts back stays at or before now (no record would be rejected)', async () => {
    // 185,000 tweets at 20 ms of virtual time each start one hour back and would end past now; the segments of
    // the second generator thread once did, and every one of their tweets went to the DLQ as too far ahead.
    const source = new SyntheticSource({ seed: 1, maxTweets: 185_000 });
    await source.connect();
    const signal = new AbortController().signal;
    const ids = new Set<string>();
    let latest = 0;
    let deadLetters = 0;
    try {
      for (;;) {
        const batch = await source.read(signal);
        deadLetters += batch.deadLetters.length;
        for (const t of batch.tweets) {
          ids.add(t.id);
          latest = Math.max(latest, t.createdAtMs);
        }
      }
    } catch (err) {
      if (!(err instanceof EndOfInput)) throw err;
    } finally {
      await source.close();
    }
    assert.equal(deadLetters, 0);
    assert.equal(ids.size, 185_000);
    assert.ok(latest <= Date.now(), `a tweet dated ${new Date(latest).toISOString()}, after now`);
  });

  test('acked batches give their memory back to the generator threads; the batches written over it are the same', async () => {
    /**
     * What of each record does not depend on when the run starts (its time, ids, links to posts and `_ingest` do),
     * each checked to be whole JSON of its own id; and how many batches' memory went back on ack.
     */
    const run = async (ack: boolean) => {
      const source = new SyntheticSource({ seed: 7, maxTweets: 8_000, batchSize: 500 });
      await source.connect();
      const signal = new AbortController().signal;
      const records: string[] = [];
      let givenBack = 0;
      try {
        for (;;) {
          const batch = await source.read(signal);
          for (const t of batch.tweets) {
            const record = JSON.parse(t.value.toString());
            assert.equal(record.id, t.id);
            records.push(JSON.stringify([record.text, record.author_id, record.lang, record.public_metrics]));
          }
          if (!ack) continue;
          await batch.ack();
          if (batch.tweets.every((t) => t.value.length === 0)) givenBack++;
        }
      } catch (err) {
        if (!(err instanceof EndOfInput)) throw err;
      } finally {
        await source.close();
      }
      return { records, givenBack };
    };
    const kept = await run(false);
    const reused = await run(true);
    assert.equal(reused.givenBack, 16, 'every acked batch detached: its buffer went back to its thread');
    assert.equal(reused.records.length, 8_000);
    assert.ok(
      reused.records.every((r, i) => r === kept.records[i]),
      'the same records as without reuse',
    );
  });
});
