/**
 * Writes the record of a synthetic tweet (SyntheticTweets.nextTweet's payload, as a one-tweet stream line)
 * straight into a batch's byte buffer: the bytes toTweetRecords would make of the same payload, without building
 * the mapped document, JSON.stringify-ing it and encoding the string to UTF-8. What repeats across tweets is
 * encoded once per writer: an author pool user (with its 2.167 names), a place, a referenced post, the matching
 * rules and `_ingest`. The tweet's own fields are written by their shape, in the key order SyntheticTweets gives
 * them (only the media, one tweet in ten, go through a generic walk of the value).
 * test/unit/sources/synthetic-record-writer.test.ts compares it with the general mapping byte for byte over many
 * seeds; it knows only the shapes SyntheticTweets makes (it validates nothing, never dead-letters), so payloads from
 * anywhere else go through tweet-record.ts.
 */
import type { TweetRecord } from '../types.ts';
import { ingestFields } from './ingest-fields.ts';
import type {
  EntityRange,
  MatchingRule,
  TweetPayload,
  V2Entities,
  V2Place,
  V2Tweet,
  V2User,
} from './synthetic-payloads.ts';
import { addCurrentNames, USER_RENAMES } from './x-field-names.ts';

type Json = Record<string, unknown>;

/** Characters JSON.stringify escapes: quote, backslash, controls, lone surrogates (paired ones match as one). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/u;

/** The JSON between a record's values, encoded once: `"key":` after the comma or brace that precedes it. */
const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const ID_FIRST = ascii('{"id":');
const ID = ascii(',"id":');
const CREATED_AT = ascii(',"created_at":');
const TEXT = ascii(',"text":');
const AUTHOR_ID = ascii(',"author_id":');
const LANG = ascii(',"lang":');
const CONVERSATION_ID = ascii(',"conversation_id":');
const EDIT_HISTORY_TWEET_IDS = ascii(',"edit_history_tweet_ids":');
const EDIT_CONTROLS = ascii(',"edit_controls":{"is_edit_eligible":');
const EDITABLE_UNTIL = ascii(',"editable_until":');
const EDITS_REMAINING = ascii(',"edits_remaining":');
const POSSIBLY_SENSITIVE = ascii('},"possibly_sensitive":');
const REPLY_SETTINGS = ascii(',"reply_settings":');
const RETWEET_COUNT = ascii(',"public_metrics":{"retweet_count":');
const REPLY_COUNT = ascii(',"reply_count":');
const LIKE_COUNT = ascii(',"like_count":');
const QUOTE_COUNT = ascii(',"quote_count":');
const BOOKMARK_COUNT = ascii(',"bookmark_count":');
const IMPRESSION_COUNT = ascii(',"impression_count":');
const REPOST_COUNT = ascii(',"repost_count":');
const IN_REPLY_TO_USER_ID = ascii(',"in_reply_to_user_id":');
const REFERENCED_TWEETS = ascii(',"referenced_tweets":');
const REFERENCED_POSTS = ascii(',"referenced_posts":');
const TYPE_FIRST = ascii('{"type":');
const COMMA_TYPE = ascii(',{"type":');
const POST = ascii(',"post":');
const ATTACHMENTS = ascii(',"attachments":{"media_keys":');
const GEO_PLACE_ID = ascii(',"geo":{"place_id":');
const COORDINATES_TYPE = ascii(',"coordinates":{"type":');
const COORDINATES = ascii(',"coordinates":[');
const CLOSE_POINT = ascii(']}');
const ENTITIES = ascii(',"entities":');
const entityKeys = (comma: string) => ({
  hashtags: ascii(`${comma}"hashtags":`),
  cashtags: ascii(`${comma}"cashtags":`),
  mentions: ascii(`${comma}"mentions":`),
  urls: ascii(`${comma}"urls":`),
});
const ENTITY_KEYS_FIRST = entityKeys('');
const ENTITY_KEYS = entityKeys(',');
const START_FIRST = ascii('{"start":');
const COMMA_START = ascii(',{"start":');
const END = ascii(',"end":');
const TAG = ascii(',"tag":');
const USERNAME = ascii(',"username":');
const URL_KEY = ascii(',"url":');
const EXPANDED_URL = ascii(',"expanded_url":');
const DISPLAY_URL = ascii(',"display_url":');
const MEDIA_KEY = ascii(',"media_key":');
const EDIT_HISTORY_POST_IDS = ascii(',"edit_history_post_ids":');
const AUTHOR = ascii(',"author":');
const MEDIA = ascii(',"media":[');
const COMMA = ascii(',');
const PLACE = ascii(',"place":');
const MATCHING_RULES = ascii(',"matching_rules":');
const INGEST = ascii(',"_ingest":');
const TRUE = ascii('true');
const FALSE = ascii('false');

/** A batch of records as one byte buffer (transferable to another thread) plus each record's id, time and length. */
export interface PackedBatch {
  ids: string[];
  createdAtMs: number[];
  lengths: number[];
  bytes: Uint8Array;
}

/** Bytes a synthetic record takes on average (2.1 kB at seed 1), so a batch's buffer rarely grows. */
const RECORD_BYTES_GUESS = 2600;

export class SyntheticRecordWriter {
  #buf: Buffer = Buffer.alloc(0);
  #at = 0;
  readonly #users = new WeakMap<V2User, Buffer>();
  readonly #places = new WeakMap<V2Place, Buffer>();
  /**
   * A referenced tweet as an embedded post, without its closing brace and author (looked up per payload). Weak,
   * like the others: an entry goes when the generator forgets its tweet.
   */
  readonly #posts = new WeakMap<V2Tweet, Buffer>();
  readonly #rules: Buffer;
  #ingest: { source: string; ms: number; bytes: Buffer } | undefined;
  #ids: string[] = [];
  #createdAtMs: number[] = [];
  #lengths: number[] = [];
  /** The latest created_at parsed: the generator gives the tweets of one second the same string (a parse ~0.2 us). */
  #createdAt = '';
  #createdAtMsOfLatest = Number.NaN;

  constructor(matchingRules: readonly MatchingRule[]) {
    this.#rules = Buffer.from(JSON.stringify(matchingRules));
  }

  /**
   * Starts a batch of about `n` records written at `ingestedAtMs` by `source`, into `spare` (the memory of a batch
   * its reader is done with) when it is large enough, else into a new buffer.
   */
  begin(n: number, source: string, ingestedAtMs: number, spare?: ArrayBuffer): void {
    const size = Math.max(1, n) * RECORD_BYTES_GUESS;
    this.#buf = spare && spare.byteLength >= size ? Buffer.from(spare) : Buffer.allocUnsafeSlow(size);
    this.#at = 0;
    this.#ids = [];
    this.#createdAtMs = [];
    this.#lengths = [];
    if (this.#ingest?.source !== source || this.#ingest.ms !== ingestedAtMs)
      this.#ingest = {
        source,
        ms: ingestedAtMs,
        bytes: Buffer.from(JSON.stringify(ingestFields(source, ingestedAtMs))),
      };
  }

  /** Appends the record of one payload, as toTweetRecords({ ...payload, matching_rules }) would make it. */
  write({ data, includes }: TweetPayload): void {
    const start = this.#at;
    this.#bytes(ID_FIRST);
    this.#plain(data.id);
    this.#bytes(CREATED_AT);
    this.#plain(data.created_at);
    this.#bytes(TEXT);
    this.#string(data.text);
    this.#tweetFields(data, includes.users, includes.tweets);
    const author = findUser(includes.users, data.author_id);
    if (author) {
      this.#bytes(AUTHOR);
      this.#bytes(this.#userBytes(author));
    }
    const keys = data.attachments?.media_keys;
    if (keys && includes.media) {
      let first = true;
      for (const k of keys) {
        const media = includes.media.find((m) => m.media_key === k);
        if (!media) continue;
        this.#bytes(first ? MEDIA : COMMA);
        first = false;
        this.#value(media);
      }
      if (!first) this.#byte(0x5d);
    }
    const placeId = data.geo?.place_id;
    const place = placeId === undefined ? undefined : includes.places?.find((p) => p.id === placeId);
    if (place) {
      this.#bytes(PLACE);
      this.#bytes(this.#placeBytes(place));
    }
    this.#bytes(MATCHING_RULES);
    this.#bytes(this.#rules);
    this.#bytes(INGEST);
    this.#bytes(this.#ingest!.bytes);
    this.#byte(0x7d);
    this.#ids.push(data.id);
    if (data.created_at !== this.#createdAt) {
      this.#createdAt = data.created_at;
      this.#createdAtMsOfLatest = Date.parse(data.created_at);
    }
    this.#createdAtMs.push(this.#createdAtMsOfLatest);
    this.#lengths.push(this.#at - start);
  }

  /** The batch written since begin(); its buffer is the caller's (it may transfer it). */
  end(): PackedBatch {
    const batch: PackedBatch = {
      ids: this.#ids,
      createdAtMs: this.#createdAtMs,
      lengths: this.#lengths,
      bytes: new Uint8Array(this.#buf.buffer, 0, this.#at),
    };
    this.#buf = Buffer.alloc(0);
    this.#at = 0;
    return batch;
  }

  /**
   * A tweet's fields from `author_id` on, by the shape SyntheticTweets gives them (its key order: baseTweet's fields,
   * then those a kind of tweet adds), with the 2.167 names at the end: `repost_count` in `public_metrics`,
   * `referenced_posts` (each entry's post embedded when `referenced` holds it: the record's own tweet; a post
   * embedded in it gets none) and `edit_history_post_ids`. Written by shape rather than by walking the object,
   * which cost about a third of a generator thread; `note_tweet`, which the generator never makes, is not written.
   */
  #tweetFields(t: V2Tweet, users: V2User[] | undefined, referenced: V2Tweet[] | undefined): void {
    this.#bytes(AUTHOR_ID);
    this.#plain(t.author_id);
    this.#bytes(LANG);
    this.#plain(t.lang);
    this.#bytes(CONVERSATION_ID);
    this.#plain(t.conversation_id);
    this.#bytes(EDIT_HISTORY_TWEET_IDS);
    this.#strings(t.edit_history_tweet_ids);
    const edit = t.edit_controls;
    this.#bytes(EDIT_CONTROLS);
    this.#boolean(edit.is_edit_eligible);
    this.#bytes(EDITABLE_UNTIL);
    this.#plain(edit.editable_until);
    this.#bytes(EDITS_REMAINING);
    this.#number(edit.edits_remaining);
    this.#bytes(POSSIBLY_SENSITIVE);
    this.#boolean(t.possibly_sensitive);
    this.#bytes(REPLY_SETTINGS);
    this.#plain(t.reply_settings);
    const m = t.public_metrics;
    this.#bytes(RETWEET_COUNT);
    this.#number(m.retweet_count);
    this.#bytes(REPLY_COUNT);
    this.#number(m.reply_count);
    this.#bytes(LIKE_COUNT);
    this.#number(m.like_count);
    this.#bytes(QUOTE_COUNT);
    this.#number(m.quote_count);
    this.#bytes(BOOKMARK_COUNT);
    this.#number(m.bookmark_count);
    this.#bytes(IMPRESSION_COUNT);
    this.#number(m.impression_count);
    this.#bytes(REPOST_COUNT);
    this.#number(m.retweet_count);
    this.#byte(0x7d);
    if (t.in_reply_to_user_id !== undefined) {
      this.#bytes(IN_REPLY_TO_USER_ID);
      this.#plain(t.in_reply_to_user_id);
    }
    const refs = t.referenced_tweets;
    if (refs) {
      this.#bytes(REFERENCED_TWEETS);
      this.#references(refs, undefined, undefined);
    }
    if (t.attachments) this.#attachments(t.attachments);
    if (t.geo) this.#geo(t.geo);
    if (t.entities) {
      this.#bytes(ENTITIES);
      this.#entities(t.entities);
    }
    if (refs) {
      this.#bytes(REFERENCED_POSTS);
      this.#references(refs, users, referenced);
    }
    this.#bytes(EDIT_HISTORY_POST_IDS);
    this.#strings(t.edit_history_tweet_ids);
  }

  /** `[{"type":..,"id":..}, ...]`, each entry with its post (and the post's author) when `referenced` holds it. */
  #references(
    refs: NonNullable<V2Tweet['referenced_tweets']>,
    users: V2User[] | undefined,
    referenced: V2Tweet[] | undefined,
  ): void {
    this.#byte(0x5b);
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      this.#bytes(i === 0 ? TYPE_FIRST : COMMA_TYPE);
      this.#plain(ref.type);
      this.#bytes(ID);
      this.#plain(ref.id);
      const post = referenced?.find((p) => p.id === ref.id);
      if (post) {
        this.#bytes(POST);
        this.#bytes(this.#postBytes(post));
        const author = findUser(users, post.author_id);
        if (author) {
          this.#bytes(AUTHOR);
          this.#bytes(this.#userBytes(author));
        }
        this.#byte(0x7d);
      }
      this.#byte(0x7d);
    }
    this.#byte(0x5d);
  }

  /** `attachments` as the generator makes it: the media keys only (it makes no polls). */
  #attachments(attachments: NonNullable<V2Tweet['attachments']>): void {
    this.#bytes(ATTACHMENTS);
    this.#strings(attachments.media_keys ?? []);
    this.#byte(0x7d);
  }

  #geo(geo: NonNullable<V2Tweet['geo']>): void {
    this.#bytes(GEO_PLACE_ID);
    this.#string(geo.place_id);
    const point = geo.coordinates;
    if (point) {
      this.#bytes(COORDINATES_TYPE);
      this.#string(point.type);
      this.#bytes(COORDINATES);
      this.#number(point.coordinates[0]);
      this.#byte(0x2c);
      this.#number(point.coordinates[1]);
      this.#bytes(CLOSE_POINT);
    }
    this.#byte(0x7d);
  }

  #entities(entities: V2Entities): void {
    let key = ENTITY_KEYS_FIRST;
    this.#byte(0x7b);
    if (entities.hashtags) {
      this.#bytes(key.hashtags);
      this.#tags(entities.hashtags);
      key = ENTITY_KEYS;
    }
    if (entities.cashtags) {
      this.#bytes(key.cashtags);
      this.#tags(entities.cashtags);
      key = ENTITY_KEYS;
    }
    if (entities.mentions) {
      this.#bytes(key.mentions);
      this.#byte(0x5b);
      for (let i = 0; i < entities.mentions.length; i++) {
        const e = entities.mentions[i]!;
        this.#range(e, i);
        this.#bytes(USERNAME);
        this.#string(e.username);
        this.#bytes(ID);
        this.#plain(e.id);
        this.#byte(0x7d);
      }
      this.#byte(0x5d);
      key = ENTITY_KEYS;
    }
    if (entities.urls) {
      this.#bytes(key.urls);
      this.#byte(0x5b);
      for (let i = 0; i < entities.urls.length; i++) {
        const e = entities.urls[i]!;
        this.#range(e, i);
        this.#bytes(URL_KEY);
        this.#string(e.url);
        this.#bytes(EXPANDED_URL);
        this.#string(e.expanded_url);
        this.#bytes(DISPLAY_URL);
        this.#string(e.display_url);
        if (e.media_key !== undefined) {
          this.#bytes(MEDIA_KEY);
          this.#string(e.media_key);
        }
        this.#byte(0x7d);
      }
      this.#byte(0x5d);
    }
    this.#byte(0x7d);
  }

  #tags(tags: readonly (EntityRange & { tag: string })[]): void {
    this.#byte(0x5b);
    for (let i = 0; i < tags.length; i++) {
      const e = tags[i]!;
      this.#range(e, i);
      this.#bytes(TAG);
      this.#string(e.tag);
      this.#byte(0x7d);
    }
    this.#byte(0x5d);
  }

  /** An entity's opening: `{"start":..,"end":..`, after a comma unless it is the list's first. */
  #range(e: EntityRange, i: number): void {
    this.#bytes(i === 0 ? START_FIRST : COMMA_START);
    this.#number(e.start);
    this.#bytes(END);
    this.#number(e.end);
  }

  /** A JSON array of strings. */
  #strings(list: readonly string[]): void {
    this.#byte(0x5b);
    for (let i = 0; i < list.length; i++) {
      if (i > 0) this.#byte(0x2c);
      this.#plain(list[i]!);
    }
    this.#byte(0x5d);
  }

  #userBytes(user: V2User): Buffer {
    let bytes = this.#users.get(user);
    if (!bytes) {
      const copy: Json = { ...user };
      addCurrentNames(copy, USER_RENAMES);
      bytes = Buffer.from(JSON.stringify(copy));
      this.#users.set(user, bytes);
    }
    return bytes;
  }

  #placeBytes(place: V2Place): Buffer {
    let bytes = this.#places.get(place);
    if (!bytes) {
      bytes = Buffer.from(JSON.stringify(place));
      this.#places.set(place, bytes);
    }
    return bytes;
  }

  /** Written once into the batch buffer, then kept as a copy of those bytes. */
  #postBytes(post: V2Tweet): Buffer {
    let bytes = this.#posts.get(post);
    if (!bytes) {
      const start = this.#at;
      this.#bytes(ID_FIRST);
      this.#plain(post.id);
      this.#bytes(TEXT);
      this.#string(post.text);
      this.#bytes(CREATED_AT);
      this.#plain(post.created_at);
      this.#tweetFields(post, undefined, undefined);
      bytes = Buffer.from(this.#buf.subarray(start, this.#at));
      this.#at = start;
      this.#posts.set(post, bytes);
    }
    return bytes;
  }

  /**
   * Any JSON value as JSON.stringify writes it (plain data: objects, arrays, strings, finite numbers, booleans,
   * null): the media objects, whose shapes vary by type and which one tweet in ten carries.
   */
  #value(value: unknown): void {
    if (typeof value === 'string') this.#string(value);
    else if (typeof value === 'number') this.#number(value);
    else if (typeof value === 'boolean') this.#boolean(value);
    else if (value === null) this.#ascii('null');
    else if (Array.isArray(value)) {
      this.#byte(0x5b);
      for (let i = 0; i < value.length; i++) {
        if (i > 0) this.#byte(0x2c);
        const item = value[i];
        if (item === undefined || typeof item === 'function') this.#ascii('null');
        else this.#value(item);
      }
      this.#byte(0x5d);
    } else this.#object(value as Json);
  }

  #object(object: Json): void {
    this.#byte(0x7b);
    let first = true;
    for (const key in object) {
      const v = object[key];
      if (v === undefined || typeof v === 'function') continue;
      this.#key(key, first);
      first = false;
      this.#value(v);
    }
    this.#byte(0x7d);
  }

  /** `"key":`, after a comma unless it is the object's first. */
  #key(key: string, first: boolean): void {
    if (!first) this.#byte(0x2c);
    this.#string(key);
    this.#byte(0x3a);
  }

  /**
   * A JSON string: written by the UTF-8 encoder when nothing in it needs an escape (nearly always), else as
   * JSON.stringify writes it. Copying ASCII strings character by character in JS instead cost the writer ~30% more
   * (docs/benchmarks.md, "Seventh round: synthetic produce").
   */
  #string(s: string): void {
    if (NEEDS_ESCAPE.test(s)) {
      const json = JSON.stringify(s);
      this.#reserve(json.length * 3);
      this.#at += this.#buf.write(json, this.#at);
      return;
    }
    this.#reserve(s.length * 3 + 2);
    const buf = this.#buf;
    buf[this.#at++] = 0x22;
    this.#at += buf.write(s, this.#at);
    buf[this.#at++] = 0x22;
  }

  /**
   * A string the generator makes of printable ASCII (ids, times, enum values), copied in JS: no escape scan and no
   * call into the encoder. Anything else goes to #string.
   */
  #plain(s: string): void {
    const n = s.length;
    this.#reserve(n + 2);
    const buf = this.#buf;
    const at = this.#at + 1;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        this.#string(s);
        return;
      }
      buf[at + i] = c;
    }
    buf[at - 1] = 0x22;
    buf[at + n] = 0x22;
    this.#at = at + n + 1;
  }

  /** Small non-negative integers (offsets, counts) digit by digit; other numbers as JSON.stringify writes them. */
  #number(n: number): void {
    if (!(n >= 0 && n < 1e15 && Number.isInteger(n))) {
      this.#ascii(Number.isFinite(n) ? String(n) : 'null');
      return;
    }
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    this.#reserve(digits);
    const buf = this.#buf;
    let rest = n;
    for (let i = this.#at + digits - 1; i >= this.#at; i--) {
      buf[i] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    }
    this.#at += digits;
  }

  #boolean(b: boolean): void {
    this.#bytes(b ? TRUE : FALSE);
  }

  /** A string of ASCII characters (numbers, literals). */
  #ascii(s: string): void {
    this.#reserve(s.length);
    const buf = this.#buf;
    for (let i = 0; i < s.length; i++) buf[this.#at++] = s.charCodeAt(i);
  }

  #bytes(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    const buf = this.#buf;
    if (bytes.length > 32) buf.set(bytes, this.#at);
    else for (let i = 0; i < bytes.length; i++) buf[this.#at + i] = bytes[i]!;
    this.#at += bytes.length;
  }

  #byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#at++] = b;
  }

  #reserve(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(grown, 0, 0, this.#at);
    this.#buf = grown;
  }
}

/** The payload's user with this id (the general mapping's users Map: one entry per id). */
function findUser(users: V2User[] | undefined, id: string | undefined): V2User | undefined {
  if (id === undefined || !users) return undefined;
  for (const u of users) if (u.id === id) return u;
  return undefined;
}

/** The records of a packed batch, their values views of its one buffer. */
export function unpackBatch(packed: PackedBatch): TweetRecord[] {
  const buf = Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset, packed.bytes.byteLength);
  const out: TweetRecord[] = new Array(packed.ids.length);
  let at = 0;
  for (let i = 0; i < packed.ids.length; i++) {
    const len = packed.lengths[i]!;
    out[i] = { id: packed.ids[i]!, createdAtMs: packed.createdAtMs[i]!, value: buf.subarray(at, at + len) };
    at += len;
  }
  return out;
}
