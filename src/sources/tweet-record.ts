/**
 * Maps X API v2 payloads (a filtered-stream line or a recent-search page) to Kafka-ready tweet records: one
 * self-contained JSON document per tweet, with what it references from `includes` embedded, in one shape whatever
 * the API era (2.167 field names, added beside a 2.159 payload's own), as documented in docs/record-schema.md. Payloads that cannot become a record are returned as dead letters with a reason; error
 * objects X sends beside (or instead of) data are returned for the caller to log and count.
 *
 * Hot path (tens of thousands of tweets per second): lookups by Map built once per payload, one JSON.stringify
 * and one Buffer per tweet, no schema validation library.
 */
import type { DeadLetter, TweetRecord } from '../types.ts';
import { ingestFields } from './ingest-fields.ts';
import { matchesOwnRule } from './rules-sync.ts';
import { streamLineRecord } from './stream-line-record.ts';
import { addCurrentNames, POST_RENAMES, USER_RENAMES } from './x-field-names.ts';
import { isOperationalProblem, problemText, type XApiProblem } from './x-http.ts';

export interface MatchingRule {
  id: string;
  tag?: string;
}

export interface MappingContext {
  /** Source name written to `_ingest.source` (e.g. "x-stream"). */
  source: string;
  ingestedAtMs: number;
  /** The payload's original bytes, kept for dead letters; re-serialised from the payload when absent. */
  raw?: Buffer;
  /** Rules to record when the payload has no `matching_rules` (search pages fetched for one stream rule). */
  matchingRules?: readonly MatchingRule[];
  /** When set, a payload whose `matching_rules` name none of these rule ids is dropped and counted. */
  ownRuleIds?: ReadonlySet<string>;
}

export interface MappingResult {
  records: TweetRecord[];
  deadLetters: DeadLetter[];
  /** Error objects X sent in the payload (partial errors beside data, or stream messages). */
  errors: XApiProblem[];
  /** Tweets dropped because they matched only rules that are not tweetpipe's (`ownRuleIds`). */
  foreignRuleTweets: number;
}

type Json = Record<string, unknown>;

const TWEET_ID = /^[0-9]{1,19}$/;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Maps one NDJSON / stream line: a one-tweet line of the usual shape from its bytes (stream-line-record.ts), any
 * other parsed and mapped; unparsable JSON becomes a dead letter.
 */
export function fromJsonLine(line: Buffer, ctx: MappingContext): MappingResult {
  const record = streamLineRecord(line, ctx);
  if (record) return { records: [record], deadLetters: [], errors: [], foreignRuleTweets: 0 };
  let payload: unknown;
  try {
    payload = JSON.parse(line.toString('utf8'));
  } catch (err) {
    return {
      records: [],
      deadLetters: [{ raw: line, reason: `not JSON: ${(err as Error).message}` }],
      errors: [],
      foreignRuleTweets: 0,
    };
  }
  return toTweetRecords(payload, { ...ctx, raw: line });
}

export function toTweetRecords(payload: unknown, ctx: MappingContext): MappingResult {
  const result: MappingResult = { records: [], deadLetters: [], errors: [], foreignRuleTweets: 0 };
  const rawPayload = () => ctx.raw ?? Buffer.from(safeStringify(payload));
  if (!isObject(payload)) {
    result.deadLetters.push({ raw: rawPayload(), reason: 'not a JSON object' });
    return result;
  }
  if (Array.isArray(payload.errors)) {
    for (const e of payload.errors) if (isObject(e)) result.errors.push(e as XApiProblem);
  }
  const data = payload.data;
  if (data === undefined || data === null) {
    if (result.errors.length > 0) {
      if (!result.errors.every(isOperationalProblem))
        result.deadLetters.push({
          raw: rawPayload(),
          reason: `errors without data: ${result.errors.map(problemText).join(' | ')}`,
        });
    } else if (!isObject(payload.meta)) {
      // A search page without data but with meta is an empty page, not a bad payload.
      result.deadLetters.push({ raw: rawPayload(), reason: 'no data' });
    }
    return result;
  }
  if (ctx.ownRuleIds && !matchesOwnRule(payload.matching_rules, ctx.ownRuleIds)) {
    result.foreignRuleTweets = Array.isArray(data) ? data.length : 1;
    return result;
  }
  const mapper = new TweetMapper(payload, ctx);
  if (Array.isArray(data)) {
    for (const tweet of data) mapper.map(tweet, undefined, result);
  } else if (isObject(data)) {
    mapper.map(data, ctx.raw, result);
  } else {
    result.deadLetters.push({
      raw: rawPayload(),
      reason: 'data is neither a tweet object nor an array of tweets',
    });
  }
  return result;
}

/** Indexes one payload's includes and builds the record of each of its tweets. */
class TweetMapper {
  readonly #users: Map<unknown, unknown>;
  readonly #media: Map<unknown, unknown>;
  readonly #places: Map<unknown, unknown>;
  readonly #tweets: Map<unknown, unknown>;
  readonly #matchingRules: unknown;
  readonly #ingest: Json;

  constructor(payload: Json, ctx: MappingContext) {
    const includes = isObject(payload.includes) ? payload.includes : {};
    // Users are embedded in every tweet of the payload that names them: their names are brought to 2.167 once.
    this.#users = index(includes.users, 'id', new Map(), (user) => {
      const copy = { ...user };
      addCurrentNames(copy, USER_RENAMES);
      return copy;
    });
    this.#media = index(includes.media, 'media_key');
    this.#places = index(includes.places, 'id');
    // API 2.159 says includes.tweets, 2.167 says includes.posts.
    this.#tweets = index(includes.tweets, 'id', index(includes.posts, 'id'));
    this.#matchingRules = Array.isArray(payload.matching_rules)
      ? payload.matching_rules
      : (ctx.matchingRules ?? []);
    this.#ingest = ingestFields(ctx.source, ctx.ingestedAtMs);
  }

  map(tweet: unknown, raw: Buffer | undefined, out: MappingResult): void {
    const reject = (reason: string) =>
      out.deadLetters.push({ raw: raw ?? Buffer.from(safeStringify(tweet)), reason });
    if (!isObject(tweet)) return void reject('tweet is not a JSON object');
    const { id, created_at: createdAt } = tweet;
    if (typeof id !== 'string') return void reject('data without a string id');
    if (!TWEET_ID.test(id))
      return void reject(`id is not a decimal string: ${JSON.stringify(id).slice(0, 40)}`);
    if (typeof createdAt !== 'string')
      return void reject(`tweet ${id}: created_at missing (request it in tweet.fields)`);
    const createdAtMs = Date.parse(createdAt);
    if (Number.isNaN(createdAtMs))
      return void reject(`tweet ${id}: created_at unparsable: ${JSON.stringify(createdAt).slice(0, 40)}`);

    // id and created_at first, so they lead every document whatever order X used.
    const value: Json = { id, created_at: createdAt, ...tweet };
    addCurrentNames(value, POST_RENAMES);
    this.#embedAuthor(value);
    const attachments = tweet.attachments;
    if (isObject(attachments) && Array.isArray(attachments.media_keys)) {
      const media = attachments.media_keys.map((k) => this.#media.get(k)).filter((m) => m !== undefined);
      if (media.length > 0) value.media = media;
    }
    const geo = tweet.geo;
    if (isObject(geo) && geo.place_id !== undefined) {
      const place = this.#places.get(geo.place_id);
      if (place !== undefined) value.place = place;
    }
    // Each entry gains the post it names (X's own fields are never changed); 2.159's referenced_tweets stays bare.
    if (Array.isArray(value.referenced_posts)) {
      value.referenced_posts = value.referenced_posts.map((ref) => {
        if (!isObject(ref)) return ref;
        const referenced = this.#tweets.get(ref.id);
        if (!isObject(referenced)) return ref;
        const post: Json = { ...referenced };
        addCurrentNames(post, POST_RENAMES);
        this.#embedAuthor(post);
        return { ...ref, post };
      });
    }
    value.matching_rules = this.#matchingRules;
    value._ingest = this.#ingest;
    out.records.push({ id, createdAtMs, value: Buffer.from(JSON.stringify(value)) });
  }

  #embedAuthor(tweet: Json): void {
    if (tweet.author_id === undefined) return;
    const author = this.#users.get(tweet.author_id);
    if (author !== undefined) tweet.author = author;
  }
}

function index(
  list: unknown,
  key: string,
  into = new Map<unknown, unknown>(),
  entry: (item: Json) => unknown = (item) => item,
): Map<unknown, unknown> {
  if (Array.isArray(list))
    for (const item of list) if (isObject(item) && item[key] !== undefined) into.set(item[key], entry(item));
  return into;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
