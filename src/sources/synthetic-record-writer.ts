/**
 * Writes the record of a synthetic tweet (SyntheticTweets.nextTweet's payload, as a one-tweet stream line)
 * straight into a batch's byte buffer: the bytes toTweetRecords would make of the same payload, without building
 * the mapped document, JSON.stringify-ing it and encoding the string to UTF-8. What repeats across tweets is
 * encoded once per writer: an author pool user (with its 2.167 names), a place, a referenced post, the matching
 * rules and `_ingest`. test/unit/sources/synthetic-record-writer.test.ts compares it with the
 * general mapping byte for byte over many seeds; it knows only the shapes SyntheticTweets makes (it validates
 * nothing, never dead-letters), so payloads from anywhere else go through tweet-record.ts.
 */
import type { TweetRecord } from '../types.ts';
import { ingestFields } from './ingest-fields.ts';
import type { MatchingRule, TweetPayload, V2Place, V2Tweet, V2User } from './synthetic-payloads.ts';
import { addCurrentNames, POST_RENAMES, USER_RENAMES } from './x-field-names.ts';

type Json = Record<string, unknown>;

/** Characters JSON.stringify escapes: quote, backslash, controls, lone surrogates (paired ones match as one). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/u;

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

  constructor(matchingRules: readonly MatchingRule[]) {
    this.#rules = Buffer.from(JSON.stringify(matchingRules));
  }

  /** Starts a batch of about `n` records written at `ingestedAtMs` by `source`. */
  begin(n: number, source: string, ingestedAtMs: number): void {
    this.#buf = Buffer.allocUnsafeSlow(Math.max(1, n) * RECORD_BYTES_GUESS);
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
    this.#byte(0x7b);
    this.#key('id', true);
    this.#string(data.id);
    this.#key('created_at', false);
    this.#string(data.created_at);
    const tweet = data as unknown as Json;
    for (const key in tweet) {
      if (key === 'id' || key === 'created_at') continue;
      this.#field(tweet, key, false, includes.users, includes.tweets);
    }
    this.#addedNames(tweet, includes.users, includes.tweets);
    const author = findUser(includes.users, data.author_id);
    if (author) {
      this.#key('author', false);
      this.#bytes(this.#userBytes(author));
    }
    const keys = data.attachments?.media_keys;
    if (keys && includes.media) {
      let first = true;
      for (const k of keys) {
        const media = includes.media.find((m) => m.media_key === k);
        if (!media) continue;
        if (first) {
          this.#key('media', false);
          this.#byte(0x5b);
        } else this.#byte(0x2c);
        first = false;
        this.#value(media);
      }
      if (!first) this.#byte(0x5d);
    }
    const placeId = data.geo?.place_id;
    const place = placeId === undefined ? undefined : includes.places?.find((p) => p.id === placeId);
    if (place) {
      this.#key('place', false);
      this.#bytes(this.#placeBytes(place));
    }
    this.#key('matching_rules', false);
    this.#bytes(this.#rules);
    this.#key('_ingest', false);
    this.#bytes(this.#ingest!.bytes);
    this.#byte(0x7d);
    this.#ids.push(data.id);
    this.#createdAtMs.push(Date.parse(data.created_at));
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
   * One field of a tweet in the record's shape: `public_metrics` with its 2.167 names, `referenced_posts` with each
   * entry's post embedded when `referenced` holds it (the record's own tweet; a post embedded in it gets none).
   * Returns whether nothing was written (the field is undefined), so the caller knows if the next one is first.
   */
  #field(
    tweet: Json,
    key: string,
    first: boolean,
    users: V2User[] | undefined,
    referenced: V2Tweet[] | undefined,
  ): boolean {
    const value = tweet[key];
    if (value === undefined) return true;
    this.#key(key, first);
    if (key === 'public_metrics') this.#metrics(value as Json);
    else if (key === 'referenced_posts' && referenced) this.#referencedPosts(value, users, referenced);
    else this.#value(value);
    return false;
  }

  /** The 2.167 names a 2.159 tweet gains at its end (addCurrentNames), in POST_RENAMES' order. */
  #addedNames(tweet: Json, users: V2User[] | undefined, referenced: V2Tweet[] | undefined): void {
    for (const { was, now } of POST_RENAMES.fields) {
      if (tweet[now] !== undefined || tweet[was] === undefined) continue;
      this.#key(now, false);
      if (now === 'referenced_posts' && referenced) this.#referencedPosts(tweet[was], users, referenced);
      else this.#value(tweet[was]);
    }
  }

  #metrics(metrics: Json): void {
    this.#value(metrics, true);
    for (const { was, now } of POST_RENAMES.publicMetrics) {
      if (metrics[now] !== undefined || metrics[was] === undefined) continue;
      this.#key(now, false);
      this.#value(metrics[was]);
    }
    this.#byte(0x7d);
  }

  #referencedPosts(list: unknown, users: V2User[] | undefined, referenced: V2Tweet[]): void {
    if (!Array.isArray(list)) {
      this.#value(list);
      return;
    }
    this.#byte(0x5b);
    for (let i = 0; i < list.length; i++) {
      if (i > 0) this.#byte(0x2c);
      const ref = list[i] as Json;
      const post = referenced.find((t) => t.id === ref.id);
      if (!post) {
        this.#value(ref);
        continue;
      }
      this.#value(ref, true);
      this.#key('post', false);
      this.#bytes(this.#postBytes(post));
      const author = findUser(users, post.author_id);
      if (author) {
        this.#key('author', false);
        this.#bytes(this.#userBytes(author));
      }
      this.#byte(0x7d);
      this.#byte(0x7d);
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
      const tweet = post as unknown as Json;
      this.#byte(0x7b);
      let first = true;
      for (const key in tweet) first = this.#field(tweet, key, first, undefined, undefined) && first;
      this.#addedNames(tweet, undefined, undefined);
      bytes = Buffer.from(this.#buf.subarray(start, this.#at));
      this.#at = start;
      this.#posts.set(post, bytes);
    }
    return bytes;
  }

  /**
   * Any JSON value as JSON.stringify writes it (plain data: objects, arrays, strings, finite numbers, booleans,
   * null). `open` leaves an object's closing brace to the caller, which appends fields.
   */
  #value(value: unknown, open = false): void {
    if (typeof value === 'string') this.#string(value);
    else if (typeof value === 'number') this.#number(value);
    else if (typeof value === 'boolean') this.#ascii(value ? 'true' : 'false');
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
    } else this.#object(value as Json, open);
  }

  #object(object: Json, open: boolean): void {
    this.#byte(0x7b);
    let first = true;
    for (const key in object) {
      const v = object[key];
      if (v === undefined || typeof v === 'function') continue;
      this.#key(key, first);
      first = false;
      this.#value(v);
    }
    if (!open) this.#byte(0x7d);
  }

  /** `"key":`, after a comma unless it is the object's first. */
  #key(key: string, first: boolean): void {
    if (!first) this.#byte(0x2c);
    this.#string(key);
    this.#byte(0x3a);
  }

  /**
   * A JSON string. ASCII without escapes (ids, dates, URLs, most names) is copied here; anything else goes to
   * the UTF-8 encoder, or through JSON.stringify when it needs escapes.
   */
  #string(s: string): void {
    const n = s.length;
    this.#reserve(n * 3 + 2);
    const buf = this.#buf;
    let at = this.#at;
    buf[at++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) {
        this.#encoded(s);
        return;
      }
      buf[at++] = c;
    }
    buf[at++] = 0x22;
    this.#at = at;
  }

  #encoded(s: string): void {
    const json = NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : undefined;
    const buf = this.#buf;
    if (json !== undefined) {
      this.#reserve(json.length * 3);
      this.#at += this.#buf.write(json, this.#at);
      return;
    }
    buf[this.#at++] = 0x22;
    this.#at += buf.write(s, this.#at);
    buf[this.#at++] = 0x22;
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
