/**
 * The record of a one-tweet stream line (`{data, includes, matching_rules}`: what the filtered stream sends and
 * replay reads), made from the line's own bytes: the tweet's members and what it references from `includes` are
 * copied as byte spans, in the order and with the additions of the general mapping (tweet-record.ts: id and
 * created_at first, the 2.167 names beside 2.159 ones, author, media, place, referenced posts, matching_rules,
 * _ingest), without JSON.parse and JSON.stringify of the payload. Measured on the bench's 2.1 KB tweets: 26 us per
 * line the general way (parse 9, stringify 10, UTF-8 encoding 2.5, objects 5), a few us this way.
 *
 * The document is the general mapping's up to formatting: JSON.parse gives equal values in the same order, but
 * the copied parts keep the payload's own spelling (whitespace, escapes, number forms) where JSON.stringify would
 * normalise it. Any other shape (a search page, X's error objects, a record the general mapping would turn into a
 * dead letter, invalid UTF-8 or JSON, names it would have to reorder) returns undefined: the caller maps the line
 * the general way.
 */
import { isUtf8 } from 'node:buffer';
import { RECORD_SCHEMA_VERSION, type TweetRecord } from '../types.ts';
import { JsonSpans, type Member, type Name, NOT_PLAIN, name } from './json-spans.ts';
import { POST_RENAMES, USER_RENAMES } from './x-field-names.ts';

const TWEET_ID = /^[0-9]{1,19}$/;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

const ID = name('id');
const CREATED_AT = name('created_at');
const AUTHOR_ID = name('author_id');
const PUBLIC_METRICS = name('public_metrics');
const POST = name('post');
const AUTHOR = name('author');
const MEDIA_KEY = name('media_key');
const ATTACHMENTS = name('attachments');
const MEDIA_KEYS = name('media_keys');
const GEO = name('geo');
const PLACE_ID = name('place_id');
/** The includes lists. */
const USERS = name('users');
const MEDIA = name('media');
const PLACES = name('places');
const POSTS = name('posts');
const TWEETS = name('tweets');
/** Names the mapping adds to a tweet: a payload carrying one already is left to the general way. */
const ADDED = ['author', 'media', 'place', 'matching_rules', '_ingest'].map(name);
const TOP_LEVEL = ['data', 'includes', 'matching_rules'].map(name);

/**
 * JSON text this mapping writes around copied values, encoded once: writing them from strings cost ~0.8 us a line
 * (docs/benchmarks.md, "Eleventh round").
 */
const syntax = (text: string): Buffer => Buffer.from(text);
const MATCHING_RULES_NAME = syntax(',"matching_rules":');
const INGEST_NAME = syntax(',"_ingest":');
const PUBLIC_METRICS_NAME = syntax('"public_metrics":');
const REFERENCED_POSTS_NAME = syntax('"referenced_posts":');
const AUTHOR_OPEN = syntax(',"author":{');
const MEDIA_OPEN = syntax(',"media":[');
const PLACE_NAME = syntax(',"place":');
const POST_OPEN = syntax('"post":{');
const COMMA_POST_OPEN = syntax(',"post":{');
const CLOSE_TWO = syntax('}}');

/** A rename as bytes to look for, and the 2.167 name to write: `"now":`, and `,"now":` after another member. */
interface Rename {
  was: Name;
  now: Name;
  nowName: Buffer;
  commaNowName: Buffer;
}
const renamesOf = (list: readonly { was: string; now: string }[]): Rename[] =>
  list.map(({ was, now }) => ({
    was: name(was),
    now: name(now),
    nowName: syntax(`${JSON.stringify(now)}:`),
    commaNowName: syntax(`,${JSON.stringify(now)}:`),
  }));
const POST_FIELDS = renamesOf(POST_RENAMES.fields);
/** referenced_posts, the 2.167 name of referenced_tweets: its value gains the posts it names. */
const REFERENCED_POSTS = POST_FIELDS.find((r) => r.nowName.equals(REFERENCED_POSTS_NAME))!.now;
const POST_METRICS = renamesOf(POST_RENAMES.publicMetrics);
const USER_FIELDS = renamesOf(USER_RENAMES.fields);
const USER_METRICS = renamesOf(USER_RENAMES.publicMetrics);

/** What the mapping needs to know beside the line (tweet-record.ts's MappingContext, which calls this). */
export interface LineContext {
  source: string;
  ingestedAtMs: number;
  matchingRules?: readonly { id: string; tag?: string }[];
  /** Set: the line is left to the general mapping, which drops and counts tweets of foreign rules. */
  ownRuleIds?: ReadonlySet<string>;
}

/** The record of `line` when it is a one-tweet stream line of the usual shape, else undefined. */
export function streamLineRecord(line: Buffer, ctx: LineContext): TweetRecord | undefined {
  if (ctx.ownRuleIds || line.length > MAX_LINE_BYTES || startsAsSearchPage(line) || !isUtf8(line))
    return undefined;
  try {
    return new LineRecord(line, ctx).record();
  } catch (err) {
    // A shape left to JSON.parse (invalid JSON, names it would reorder, nesting deeper than json-spans.ts vouches for).
    if (err === NOT_PLAIN) return undefined;
    throw err;
  }
}

/**
 * Longer lines go the general way: the scanner's table of value ends grows to the longest line it has seen (four
 * bytes per byte), and a tweet with its includes is a few KB.
 */
const MAX_LINE_BYTES = 1024 * 1024;
const SEARCH_PAGE_START = Buffer.from('{"data":[');

/** A search page as X writes it (`{"data":[`): no use checking its whole text first to learn that. */
function startsAsSearchPage(line: Buffer): boolean {
  if (line.length < SEARCH_PAGE_START.length) return false;
  for (let k = 0; k < SEARCH_PAGE_START.length; k++) if (line[k] !== SEARCH_PAGE_START[k]) return false;
  return true;
}

// Typed so that TypeScript knows nothing runs after a call.
const fallBack: () => never = () => {
  throw NOT_PLAIN;
};

/** Below this many bytes a copy loop beats Buffer.copy's native call. */
const SHORT_COPY = 64;

/**
 * A new slab's size: room for ~28 of the bench's 2.1 KB records, and under the CLI's 64 KiB mmap threshold
 * (bin/tweetpipe.js), so slabs come from malloc's arenas; 1 MiB slabs were mapped, faulted in and unmapped, and
 * cost ~1 us a line more (docs/benchmarks.md, "Sixth round: produce and replay").
 */
const SLAB_BYTES = 60 * 1024;

/**
 * Bytes written into a shared slab; a finished record is a view of it, not a copy of a scratch buffer. A record
 * that does not fit moves, with what was written of it, to a new slab; the old one lives as long as the records
 * that view it. What a record abandoned by the general-mapping fallback wrote is overwritten by the next one.
 */
class Out {
  static #slab = Buffer.allocUnsafe(SLAB_BYTES);
  /** Bytes of the slab held by finished records. */
  static #used = 0;
  #start = Out.#used;
  #n = Out.#used;

  /** JSON text made here (the matching rules of the context, when the payload has none). */
  text(s: string): void {
    this.#fit(Buffer.byteLength(s));
    this.#n += Out.#slab.write(s, this.#n, 'utf8');
  }

  /** All of `b`: JSON syntax encoded once. */
  all(b: Buffer): void {
    this.bytes(b, 0, b.length);
  }

  /** One ASCII byte of JSON syntax (a comma, a bracket). */
  byte(c: number): void {
    this.#fit(1);
    Out.#slab[this.#n++] = c;
  }

  bytes(from: Buffer, start: number, end: number): void {
    this.#fit(end - start);
    if (end - start > SHORT_COPY) {
      this.#n += from.copy(Out.#slab, this.#n, start, end);
      return;
    }
    const slab = Out.#slab;
    let n = this.#n;
    for (let k = start; k < end; k++) slab[n++] = from[k]!;
    this.#n = n;
  }

  /**
   * Makes the next record start a new slab, so the slabs written so far are written no more and may be handed to
   * another thread (replay-worker.ts transfers them).
   */
  static seal(): void {
    if (Out.#used === 0) return;
    Out.#slab = Buffer.allocUnsafe(SLAB_BYTES);
    Out.#used = 0;
  }

  /** The record written since this Out began, a view of the slab that no later record overwrites. */
  done(): Buffer {
    Out.#used = this.#n;
    return Out.#slab.subarray(this.#start, this.#n);
  }

  #fit(more: number): void {
    if (this.#n + more <= Out.#slab.length) return;
    const written = this.#n - this.#start;
    const slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, 2 * (written + more)));
    Out.#slab.copy(slab, 0, this.#start, this.#n);
    Out.#slab = slab;
    Out.#used = 0;
    this.#start = 0;
    this.#n = written;
  }
}

/** After this, no record is written into the slabs of the records made so far (Out.seal). */
export const sealSlabs = (): void => Out.seal();

class LineRecord {
  readonly #line: Buffer;
  readonly #json: JsonSpans;
  readonly #ctx: LineContext;
  readonly #out = new Out();
  /** includes entries by id / media_key (later entries win, as in the general mapping's Maps). */
  readonly #users = new Map<string, Member[]>();
  readonly #media = new Map<string, [number, number]>();
  readonly #places = new Map<string, [number, number]>();
  readonly #posts = new Map<string, Member[]>();

  constructor(line: Buffer, ctx: LineContext) {
    this.#line = line;
    this.#json = new JsonSpans(line);
    this.#ctx = ctx;
  }

  record(): TweetRecord {
    const json = this.#json;
    const top = json.members(json.root);
    for (const m of top) if (!TOP_LEVEL.some((n) => json.is(m, n))) fallBack();
    const data = json.find(top, TOP_LEVEL[0]!);
    if (!data || this.#line[data.start] !== OPEN_OBJECT) return fallBack();
    const tweet = json.members(data.start);
    const idMember = json.find(tweet, ID);
    const createdAtMember = json.find(tweet, CREATED_AT);
    const id = this.#string(idMember);
    const createdAt = this.#string(createdAtMember);
    if (id === undefined || !TWEET_ID.test(id) || createdAt === undefined) return fallBack();
    const createdAtMs = Date.parse(createdAt);
    if (Number.isNaN(createdAtMs)) fallBack();
    for (const n of ADDED) if (json.find(tweet, n)) fallBack();
    this.#index(json.find(top, TOP_LEVEL[1]!));

    const out = this.#out;
    out.byte(OPEN_OBJECT);
    this.#member(idMember!, true);
    this.#member(createdAtMember!);
    const rest = tweet.filter((m) => m !== idMember && m !== createdAtMember);
    this.#renamed(rest, POST_FIELDS, POST_METRICS, false, true);
    this.#author(tweet);
    this.#mediaOf(json.find(tweet, ATTACHMENTS));
    this.#placeOf(json.find(tweet, GEO));
    out.all(MATCHING_RULES_NAME);
    const rules = json.find(top, TOP_LEVEL[2]!);
    if (rules && this.#line[rules.start] === OPEN_ARRAY) out.bytes(this.#line, rules.start, rules.end);
    else out.text(JSON.stringify(this.#ctx.matchingRules ?? []));
    out.all(INGEST_NAME);
    out.all(ingestBytes(this.#ctx.source, this.#ctx.ingestedAtMs));
    out.byte(CLOSE_OBJECT);
    return { id, createdAtMs, value: out.done() };
  }

  #string(m: Member | undefined): string | undefined {
    return m && this.#json.text(m.start, m.end);
  }

  /** Indexes includes the way the general mapping does: later entries win, posts under includes.tweets win. */
  #index(includes: Member | undefined): void {
    if (!includes || this.#line[includes.start] !== OPEN_OBJECT) return;
    const json = this.#json;
    const lists = json.members(includes.start);
    const each = (
      list: Name,
      key: Name,
      put: (id: string, entry: Member[], span: [number, number]) => void,
    ) => {
      const found = json.find(lists, list);
      if (!found || this.#line[found.start] !== OPEN_ARRAY) return;
      for (const span of json.elements(found.start)) {
        if (this.#line[span[0]] !== OPEN_OBJECT) continue;
        const members = json.members(span[0]);
        const entry = json.find(members, key);
        if (!entry) continue;
        const id = this.#string(entry);
        // A key that is not a string would be matched by value, not by text: left to the general way.
        if (id === undefined) fallBack();
        put(id, members, span);
      }
    };
    each(USERS, ID, (id, members) => this.#users.set(id, members));
    each(MEDIA, MEDIA_KEY, (id, _, span) => this.#media.set(id, span));
    each(PLACES, ID, (id, _, span) => this.#places.set(id, span));
    each(POSTS, ID, (id, members) => this.#posts.set(id, members));
    each(TWEETS, ID, (id, members) => this.#posts.set(id, members));
  }

  /** `"name":value` as the payload spells it, with a comma unless first. */
  #member(m: Member, first = false): void {
    if (!first) this.#out.byte(COMMA);
    this.#out.bytes(this.#line, m.keyStart, m.end);
  }

  /**
   * The members in order, then each 2.167 name the object carries only under its 2.159 name (the value copied),
   * public_metrics with its own such names; with `posts`, referenced_posts (its own or the added one) gains the
   * posts it names.
   */
  #renamed(members: Member[], fields: Rename[], metrics: Rename[], first: boolean, posts = false): void {
    const json = this.#json;
    const out = this.#out;
    const line = this.#line;
    // Members copied as they are, one after the other with only a comma between them in the payload (a compact
    // payload's usual case), are copied as one span: one copy instead of one per member, the same bytes.
    let runStart = -1;
    let runEnd = -1;
    for (const m of members) {
      const metricsMember = json.is(m, PUBLIC_METRICS);
      const postsMember = !metricsMember && posts && json.is(m, REFERENCED_POSTS);
      if (
        !metricsMember &&
        !postsMember &&
        runStart >= 0 &&
        m.keyStart === runEnd + 1 &&
        line[runEnd] === COMMA
      ) {
        runEnd = m.end;
        continue;
      }
      if (runStart >= 0) out.bytes(line, runStart, runEnd);
      runStart = -1;
      if (!first) out.byte(COMMA);
      first = false;
      if (metricsMember) {
        out.all(PUBLIC_METRICS_NAME);
        this.#metrics(m, metrics);
      } else if (postsMember) {
        out.all(REFERENCED_POSTS_NAME);
        this.#referencedPosts(m);
      } else {
        runStart = m.keyStart;
        runEnd = m.end;
      }
    }
    if (runStart >= 0) out.bytes(line, runStart, runEnd);
    for (const { was, now, nowName, commaNowName } of fields) {
      const old = json.find(members, was);
      if (!old || json.find(members, now)) continue;
      out.all(first ? nowName : commaNowName);
      first = false;
      if (posts && now === REFERENCED_POSTS) this.#referencedPosts(old);
      else out.bytes(this.#line, old.start, old.end);
    }
  }

  #metrics(m: Member, renames: Rename[]): void {
    const json = this.#json;
    if (this.#line[m.start] !== OPEN_OBJECT) {
      this.#out.bytes(this.#line, m.start, m.end);
      return;
    }
    const members = json.members(m.start);
    let adds = false;
    for (const { was, now } of renames) if (json.find(members, was) && !json.find(members, now)) adds = true;
    if (!adds) {
      this.#out.bytes(this.#line, m.start, m.end);
      return;
    }
    // The members as they are (the payload's own spelling, without the closing brace), then the added names.
    const last = members[members.length - 1]!;
    this.#out.bytes(this.#line, m.start, last.end);
    for (const { was, now, commaNowName } of renames) {
      const old = json.find(members, was);
      if (!old || json.find(members, now)) continue;
      this.#out.all(commaNowName);
      this.#out.bytes(this.#line, old.start, old.end);
    }
    this.#out.byte(CLOSE_OBJECT);
  }

  /** `,"author":{...}` when the object's author_id names a user of includes (the user with its 2.167 names). */
  #author(members: Member[]): void {
    const authorId = this.#json.find(members, AUTHOR_ID);
    if (!authorId) return;
    const id = this.#string(authorId);
    // A number or object id is matched by value in the general mapping: left to it.
    if (id === undefined) fallBack();
    const user = this.#users.get(id);
    if (!user) return;
    this.#out.all(AUTHOR_OPEN);
    this.#renamed(user, USER_FIELDS, USER_METRICS, true);
    this.#out.byte(CLOSE_OBJECT);
  }

  #mediaOf(attachments: Member | undefined): void {
    if (!attachments || this.#line[attachments.start] !== OPEN_OBJECT) return;
    const keys = this.#json.find(this.#json.members(attachments.start), MEDIA_KEYS);
    if (!keys || this.#line[keys.start] !== OPEN_ARRAY) return;
    const found: [number, number][] = [];
    for (const [start, end] of this.#json.elements(keys.start)) {
      const key = this.#json.text(start, end);
      if (key === undefined) fallBack();
      const media = this.#media.get(key);
      if (media) found.push(media);
    }
    if (found.length === 0) return;
    this.#out.all(MEDIA_OPEN);
    for (let i = 0; i < found.length; i++) {
      const [start, end] = found[i]!;
      if (i > 0) this.#out.byte(COMMA);
      this.#out.bytes(this.#line, start, end);
    }
    this.#out.byte(CLOSE_ARRAY);
  }

  #placeOf(geo: Member | undefined): void {
    if (!geo || this.#line[geo.start] !== OPEN_OBJECT) return;
    const placeId = this.#json.find(this.#json.members(geo.start), PLACE_ID);
    if (!placeId) return;
    const id = this.#string(placeId);
    if (id === undefined) fallBack();
    const place = this.#places.get(id);
    if (!place) return;
    this.#out.all(PLACE_NAME);
    this.#out.bytes(this.#line, place[0], place[1]);
  }

  /** Each entry that names a post of includes gains `post`: that post with its 2.167 names and its author. */
  #referencedPosts(m: Member): void {
    const out = this.#out;
    if (this.#line[m.start] !== OPEN_ARRAY) {
      out.bytes(this.#line, m.start, m.end);
      return;
    }
    out.byte(OPEN_ARRAY);
    for (const [i, [start, end]] of this.#json.elements(m.start).entries()) {
      if (i > 0) out.byte(COMMA);
      const post = this.#line[start] === OPEN_OBJECT ? this.#referenced(start) : undefined;
      if (!post) {
        out.bytes(this.#line, start, end);
        continue;
      }
      out.byte(OPEN_OBJECT);
      for (const [k, x] of post.ref.entries()) this.#member(x, k === 0);
      out.all(post.ref.length > 0 ? COMMA_POST_OPEN : POST_OPEN);
      this.#renamed(post.members, POST_FIELDS, POST_METRICS, true);
      this.#author(post.members);
      out.all(CLOSE_TWO);
    }
    out.byte(CLOSE_ARRAY);
  }

  #referenced(start: number): { ref: Member[]; members: Member[] } | undefined {
    const json = this.#json;
    const ref = json.members(start);
    const refId = json.find(ref, ID);
    if (!refId) return undefined;
    const id = this.#string(refId);
    if (id === undefined) fallBack();
    const members = this.#posts.get(id);
    if (!members) return undefined;
    if (json.find(ref, POST) || json.find(members, AUTHOR)) fallBack();
    return { ref, members };
  }
}

/** `_ingest` of the general mapping, serialised and UTF-8 encoded once per source and time (a batch shares one). */
let lastIngest: { source: string; ms: number; bytes: Buffer } | undefined;
function ingestBytes(source: string, ms: number): Buffer {
  if (lastIngest?.source !== source || lastIngest.ms !== ms)
    lastIngest = {
      source,
      ms,
      bytes: Buffer.from(
        JSON.stringify({
          source,
          ingested_at: new Date(ms).toISOString(),
          schema_version: RECORD_SCHEMA_VERSION,
        }),
      ),
    };
  return lastIngest.bytes;
}
