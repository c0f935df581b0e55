/**
 * The flat Parquet schema of a tweet (docs/parquet-schema.md) and how each column is read from the record.
 * One table drives the Parquet schema and names the builder's columns (a column missing from the builder does not
 * typecheck, one it fills unevenly fails the row group), so the two cannot drift apart.
 */
import type { DecodedArray, SchemaElement } from 'hyparquet';
import type { ColumnSource } from 'hyparquet-writer';
import type { SinkRecord } from '../sink-record.ts';
import { ByteColumn, ByteListColumn } from './byte-column.ts';
import {
  ABSENT,
  FALSE,
  type FieldNode,
  FieldTreeBuilder,
  OBJECT,
  STRING,
  TRUE,
  TweetFieldReader,
} from './tweet-fields.ts';

export interface TweetColumn {
  name: string;
  /** The column's schema elements: one for a scalar, three (group, repeated list, element) for a list. */
  schema: SchemaElement[];
  /** False for free text, where min/max statistics cost a quarter of the encoding time and prune nothing. */
  statistics?: false;
  /**
   * True where values repeat across rows (languages, tags, sources): the writer's dictionary pays there, so equal
   * values are handed to it as one object (byte-column.ts).
   */
  repeats?: true;
  /**
   * False where values almost never repeat within a row group (ids, free text, authors, links): the writer then
   * writes them PLAIN at once. Left to choose, it samples the column, builds a dictionary of every value (a Map entry
   * per value) and only then finds it does not halve the bytes and throws it away. Counts are left to choose: fresh
   * tweets' counts are mostly 0, and larger row groups of the synthetic ones took a dictionary (docs/benchmarks.md,
   * "Sixth round: Parquet").
   */
  dictionary?: false;
}

/** The largest distance from the epoch a Date can hold (ECMA-262 "time values"), about 275,760 years. */
const MAX_DATE_MS = 8.64e15;

/**
 * Epoch ms from an ISO-8601 string or a number of epoch ms; null for anything a Date cannot hold. A number like
 * 1e300 would otherwise reach the INT64 column and fail the whole file on every retry.
 */
function epochMs(f: TweetFieldReader, node: FieldNode): number | null {
  const ms = f.kind(node) === STRING ? f.stringMillis(node) : f.number(node);
  return Math.abs(ms) <= MAX_DATE_MS ? Math.trunc(ms) : null;
}

/** `a` when it holds a string, else `b` (whose string, or null, is then what the column gets). */
const firstString = (f: TweetFieldReader, a: FieldNode, b: FieldNode): FieldNode =>
  f.kind(a) === STRING ? a : b;

/**
 * The BigInts of small counts, made once: BigInt(n) allocates a new one each time, six per tweet, and many counts are
 * small (a fresh post's likes and replies are 0). The writer only reads them.
 */
const SMALL_INT64 = Array.from({ length: 1024 }, (_, n) => BigInt(n));

/** A JSON number that is a safe integer, as INT64; else null. */
function int64(f: TweetFieldReader, node: FieldNode): bigint | null {
  const n = f.number(node);
  if (!Number.isSafeInteger(n)) return null;
  return n >= 0 && n < SMALL_INT64.length ? SMALL_INT64[n]! : BigInt(n);
}

// The members the columns read, as a tree built once. Records of every schema version and API era fill the
// columns: a field X renamed in 2.167 (src/sources/x-field-names.ts) is read under its 2.167 name when present,
// else under 2.159's. A long post carries its full text and entities in note_post (note_tweet); `text` is then
// truncated. `_ingest` is the record contract's ingest metadata (docs/record-schema.md).
const tree = new FieldTreeBuilder();
const entitiesNode = (): FieldNode =>
  tree.object({
    hashtags: tree.pick('tag'),
    mentions: tree.pick('username'),
    urls: tree.pick('expanded_url', 'url'),
  });
const noteNode = (): FieldNode => tree.object({ text: tree.leaf(), entities: entitiesNode() });
const referenceNode = (): FieldNode => tree.first(tree.object({ type: tree.leaf(), id: tree.leaf() }));
const F = {
  id: tree.leaf(),
  created_at: tree.leaf(),
  text: tree.leaf(),
  lang: tree.leaf(),
  author_id: tree.leaf(),
  conversation_id: tree.leaf(),
  in_reply_to_user_id: tree.leaf(),
  note_post: noteNode(),
  note_tweet: noteNode(),
  entities: entitiesNode(),
  author: tree.object({
    id: tree.leaf(),
    username: tree.leaf(),
    name: tree.leaf(),
    verified: tree.leaf(),
    public_metrics: tree.object({ followers_count: tree.leaf() }),
  }),
  public_metrics: tree.object({
    repost_count: tree.leaf(),
    retweet_count: tree.leaf(),
    reply_count: tree.leaf(),
    like_count: tree.leaf(),
    quote_count: tree.leaf(),
    impression_count: tree.leaf(),
  }),
  referenced_posts: referenceNode(),
  referenced_tweets: referenceNode(),
  matching_rules: tree.pick('tag'),
  _ingest: tree.object({ source: tree.leaf(), ingested_at: tree.leaf() }),
};
const ROOT = tree.object(F);

const timestampMillis = (name: string, repetition: 'REQUIRED' | 'OPTIONAL'): SchemaElement => ({
  name,
  type: 'INT64',
  repetition_type: repetition,
  converted_type: 'TIMESTAMP_MILLIS',
  logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
});
const string = (name: string, repetition: 'REQUIRED' | 'OPTIONAL' = 'OPTIONAL'): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: repetition,
});
const long = (name: string): SchemaElement => ({ name, type: 'INT64', repetition_type: 'OPTIONAL' });
/** The standard three-level LIST that Spark, Hive, DuckDB and Trino all read as list<string> / array<string>. */
const stringList = (name: string): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
];

const COLUMNS = [
  { name: 'id', schema: [string('id', 'REQUIRED')], dictionary: false },
  { name: 'created_at', schema: [timestampMillis('created_at', 'REQUIRED')] },
  { name: 'text', schema: [string('text')], statistics: false, dictionary: false },
  { name: 'lang', schema: [string('lang')], repeats: true },
  { name: 'author_id', schema: [string('author_id')], dictionary: false },
  {
    name: 'author_username',
    schema: [string('author_username')],
    statistics: false,
    dictionary: false,
  },
  { name: 'author_name', schema: [string('author_name')], statistics: false, repeats: true },
  {
    name: 'author_verified',
    schema: [{ name: 'author_verified', type: 'BOOLEAN', repetition_type: 'OPTIONAL' }],
  },
  { name: 'author_followers_count', schema: [long('author_followers_count')] },
  {
    name: 'conversation_id',
    schema: [string('conversation_id')],
    statistics: false,
    dictionary: false,
  },
  { name: 'in_reply_to_user_id', schema: [string('in_reply_to_user_id')], statistics: false },
  { name: 'referenced_type', schema: [string('referenced_type')], repeats: true },
  {
    name: 'referenced_id',
    schema: [string('referenced_id')],
    statistics: false,
    dictionary: false,
  },
  { name: 'retweet_count', schema: [long('retweet_count')] },
  { name: 'reply_count', schema: [long('reply_count')] },
  { name: 'like_count', schema: [long('like_count')] },
  { name: 'quote_count', schema: [long('quote_count')] },
  { name: 'impression_count', schema: [long('impression_count')] },
  { name: 'hashtags', schema: stringList('hashtags'), statistics: false, repeats: true },
  { name: 'mentions', schema: stringList('mentions'), statistics: false },
  { name: 'urls', schema: stringList('urls'), statistics: false, dictionary: false },
  { name: 'rule_tags', schema: stringList('rule_tags'), repeats: true },
  { name: 'source', schema: [string('source')], repeats: true },
  { name: 'ingested_at', schema: [timestampMillis('ingested_at', 'OPTIONAL')] },
  {
    name: 'kafka_partition',
    schema: [{ name: 'kafka_partition', type: 'INT32', repetition_type: 'REQUIRED' }],
  },
  {
    name: 'kafka_offset',
    schema: [{ name: 'kafka_offset', type: 'INT64', repetition_type: 'REQUIRED' }],
    dictionary: false,
  },
] as const satisfies readonly TweetColumn[];

export const TWEET_COLUMNS: readonly TweetColumn[] = COLUMNS;

type ColumnName = (typeof COLUMNS)[number]['name'];
/** Columns held in typed arrays: required numbers, never null. */
type NumericColumn = 'created_at' | 'kafka_partition' | 'kafka_offset';
const NUMERIC_COLUMNS: ReadonlySet<ColumnName> = new Set<NumericColumn>([
  'created_at',
  'kafka_partition',
  'kafka_offset',
]);
/** Strings, held as UTF-8 bytes (byte-column.ts). */
const STRING_COLUMNS = [
  'id',
  'text',
  'lang',
  'author_id',
  'author_username',
  'author_name',
  'conversation_id',
  'in_reply_to_user_id',
  'referenced_type',
  'referenced_id',
  'source',
] as const satisfies readonly ColumnName[];
type StringColumn = (typeof STRING_COLUMNS)[number];
/** Lists of strings, held as UTF-8 bytes. */
const LIST_COLUMNS = ['hashtags', 'mentions', 'urls', 'rule_tags'] as const satisfies readonly ColumnName[];
type ListColumn = (typeof LIST_COLUMNS)[number];
/** The other columns, held in plain arrays because they take nulls: booleans, counts, a timestamp. */
type ValueColumn = Exclude<ColumnName, NumericColumn | StringColumn | ListColumn>;

/** The complete Parquet schema: the root element followed by every column's elements. */
export function tweetSchema(): SchemaElement[] {
  return [{ name: 'tweet', num_children: TWEET_COLUMNS.length }, ...TWEET_COLUMNS.flatMap((c) => c.schema)];
}

const INITIAL_CAPACITY = 1024;

/**
 * The rows of one row group, held column by column: each record's document is read once, straight into the
 * columns (typed arrays for the required numbers, UTF-8 bytes for the strings), with no row object in between
 * and no string decoded. Buffers grow by doubling from a small size and are given back after each row group, so
 * a file that sees few records holds little and none holds memory between row groups.
 */
export class TweetColumnBuilder {
  readonly #fields = new TweetFieldReader(ROOT, tree);
  #rows = 0;
  #createdAt = new Float64Array(INITIAL_CAPACITY);
  #partition = new Int32Array(INITIAL_CAPACITY);
  #offset = new BigInt64Array(INITIAL_CAPACITY);
  readonly #strings = Object.fromEntries(STRING_COLUMNS.map((name) => [name, new ByteColumn()])) as Record<
    StringColumn,
    ByteColumn
  >;
  readonly #lists = Object.fromEntries(LIST_COLUMNS.map((name) => [name, new ByteListColumn()])) as Record<
    ListColumn,
    ByteListColumn
  >;
  readonly #values = Object.fromEntries(
    COLUMNS.filter(
      (c) => !NUMERIC_COLUMNS.has(c.name) && !(c.name in this.#strings) && !(c.name in this.#lists),
    ).map((c) => [c.name, [] as unknown[]]),
  ) as Record<ValueColumn, unknown[]>;

  get rows(): number {
    return this.#rows;
  }

  add(r: SinkRecord): void {
    const f = this.#fields;
    f.read(r.value);
    const s = this.#strings;
    const lists = this.#lists;
    const v = this.#values;
    const row = this.#rows;
    if (row === this.#offset.length) this.#grow();
    // eitherEra: the 2.167 member whenever it is present, whatever its value.
    const note = f.kind(F.note_post) !== ABSENT ? F.note_post : F.note_tweet;
    const noteIsObject = f.kind(note) === OBJECT;
    const entities =
      noteIsObject && f.kind(note.members.entities!) === OBJECT ? note.members.entities! : F.entities;
    const metrics = F.public_metrics.members;
    const reference = (f.kind(F.referenced_posts) !== ABSENT ? F.referenced_posts : F.referenced_tweets)
      .first!.members;
    const author = F.author.members;
    const ingest = F._ingest.members;

    f.stringInto(F.id, s.id);
    this.#createdAt[row] = epochMs(f, F.created_at) ?? r.timestampMs;
    f.stringInto(noteIsObject ? firstString(f, note.members.text!, F.text) : F.text, s.text);
    f.stringInto(F.lang, s.lang);
    f.stringInto(firstString(f, F.author_id, author.id!), s.author_id);
    f.stringInto(author.username!, s.author_username);
    f.stringInto(author.name!, s.author_name);
    const verified = f.kind(author.verified!);
    v.author_verified.push(verified === TRUE ? true : verified === FALSE ? false : null);
    v.author_followers_count.push(int64(f, author.public_metrics!.members.followers_count!));
    f.stringInto(F.conversation_id, s.conversation_id);
    f.stringInto(F.in_reply_to_user_id, s.in_reply_to_user_id);
    f.stringInto(reference.type!, s.referenced_type);
    f.stringInto(reference.id!, s.referenced_id);
    v.retweet_count.push(
      int64(f, f.kind(metrics.repost_count!) !== ABSENT ? metrics.repost_count! : metrics.retweet_count!),
    );
    v.reply_count.push(int64(f, metrics.reply_count!));
    v.like_count.push(int64(f, metrics.like_count!));
    v.quote_count.push(int64(f, metrics.quote_count!));
    v.impression_count.push(int64(f, metrics.impression_count!));
    f.listInto(entities.members.hashtags!, lists.hashtags);
    f.listInto(entities.members.mentions!, lists.mentions);
    f.listInto(entities.members.urls!, lists.urls);
    f.listInto(F.matching_rules, lists.rule_tags);
    // The ingest source (x-stream, x-search, replay, ...), else the producer's `source` header.
    const header = r.headers.get('source');
    if (f.kind(ingest.source!) === STRING || !header) f.stringInto(ingest.source!, s.source);
    else s.source.pushString(header.toString('utf8'));
    v.ingested_at.push(epochMs(f, ingest.ingested_at!));
    this.#partition[row] = r.partition;
    this.#offset[row] = r.offset;
    this.#rows = row + 1;
  }

  /**
   * The columns of the rows added, in schema order; valid until clear(). Each column's values are made when the
   * writer reads its `data`, which hyparquet-writer does column by column as it encodes them (and once more for the
   * first column, for the row count): so only the column being encoded has its value views (one object per string)
   * alive, not every column's at once. Made all at once, a row group's ~100,000 views outlived the young-generation
   * collections that ran while the row group was encoded, were promoted and left to the old generation's collector.
   */
  columnData(): ColumnSource[] {
    const rows = this.#rows;
    const numeric: Record<NumericColumn, DecodedArray> = {
      created_at: this.#createdAt.subarray(0, rows),
      kafka_partition: this.#partition.subarray(0, rows),
      kafka_offset: this.#offset.subarray(0, rows),
    };
    const data = (c: (typeof COLUMNS)[number]): DecodedArray => {
      const repeats = 'repeats' in c;
      if (NUMERIC_COLUMNS.has(c.name)) return numeric[c.name as NumericColumn];
      if (c.name in this.#strings) return this.#strings[c.name as StringColumn].values(0, rows, repeats);
      if (c.name in this.#lists) return this.#lists[c.name as ListColumn].values(repeats);
      return this.#values[c.name as ValueColumn];
    };
    return COLUMNS.map((c) => ({
      name: c.name,
      get data() {
        return data(c);
      },
      ...('statistics' in c ? { statistics: c.statistics } : {}),
      ...('dictionary' in c ? { encoding: 'PLAIN' as const } : {}),
    }));
  }

  /** Forgets the rows (the writer has encoded them) and gives back the buffers grown for them. */
  clear(): void {
    for (const column of Object.values(this.#strings)) column.clear();
    for (const column of Object.values(this.#lists)) column.clear();
    for (const list of Object.values(this.#values)) list.length = 0;
    this.#rows = 0;
    if (this.#offset.length > INITIAL_CAPACITY) {
      this.#createdAt = new Float64Array(INITIAL_CAPACITY);
      this.#partition = new Int32Array(INITIAL_CAPACITY);
      this.#offset = new BigInt64Array(INITIAL_CAPACITY);
    }
  }

  #grow(): void {
    const capacity = this.#offset.length * 2;
    const createdAt = new Float64Array(capacity);
    createdAt.set(this.#createdAt);
    this.#createdAt = createdAt;
    const partition = new Int32Array(capacity);
    partition.set(this.#partition);
    this.#partition = partition;
    const offset = new BigInt64Array(capacity);
    offset.set(this.#offset);
    this.#offset = offset;
  }
}
