/**
 * The flat Parquet schema of a tweet (docs/parquet-schema.md) and how each column is read from the record.
 * One table drives the Parquet schema and names the builder's columns (a column missing from the builder does not
 * typecheck, one it fills unevenly fails the row group), so the two cannot drift apart.
 */
import type { DecodedArray, SchemaElement } from 'hyparquet';
import type { ColumnSource } from 'hyparquet-writer';
import { eitherEra } from '../../sources/x-field-names.ts';
import type { SinkRecord } from '../sink-record.ts';

export interface TweetColumn {
  name: string;
  /** The column's schema elements: one for a scalar, three (group, repeated list, element) for a list. */
  schema: SchemaElement[];
  /** False for free text, where min/max statistics cost a quarter of the encoding time and prune nothing. */
  statistics?: false;
}

type Doc = Record<string, unknown>;

const obj = (v: unknown): Doc | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Doc) : undefined;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const int64 = (v: unknown): bigint | null => (Number.isSafeInteger(v) ? BigInt(v as number) : null);

/** The largest distance from the epoch a Date can hold (ECMA-262 "time values"), about 275,760 years. */
const MAX_DATE_MS = 8.64e15;

/**
 * Epoch ms from an ISO-8601 string or a number of epoch ms; null for anything a Date cannot hold. A number like
 * 1e300 would otherwise reach the INT64 column and fail the whole file on every retry.
 */
function epochMs(v: unknown): number | null {
  const ms = typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v : Number.NaN;
  return Math.abs(ms) <= MAX_DATE_MS ? Math.trunc(ms) : null;
}

/** Strings picked from an array of objects, e.g. entities.hashtags[].tag. */
function pluck(list: unknown, ...keys: string[]): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const item of list) {
    const o = obj(item);
    if (!o) continue;
    for (const k of keys) {
      const v = o[k];
      if (typeof v === 'string') {
        out.push(v);
        break;
      }
    }
  }
  return out;
}

// Records of every schema version and API era are read through eitherEra: 2.167 names first, then 2.159's
// (src/sources/x-field-names.ts). A long post carries its full text and entities in note_post (note_tweet); `text`
// is then truncated. `_ingest` is the record contract's ingest metadata (docs/record-schema.md).

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
  { name: 'id', schema: [string('id', 'REQUIRED')] },
  { name: 'created_at', schema: [timestampMillis('created_at', 'REQUIRED')] },
  { name: 'text', schema: [string('text')], statistics: false },
  { name: 'lang', schema: [string('lang')] },
  { name: 'author_id', schema: [string('author_id')] },
  { name: 'author_username', schema: [string('author_username')], statistics: false },
  { name: 'author_name', schema: [string('author_name')], statistics: false },
  {
    name: 'author_verified',
    schema: [{ name: 'author_verified', type: 'BOOLEAN', repetition_type: 'OPTIONAL' }],
  },
  { name: 'author_followers_count', schema: [long('author_followers_count')] },
  { name: 'conversation_id', schema: [string('conversation_id')], statistics: false },
  { name: 'in_reply_to_user_id', schema: [string('in_reply_to_user_id')], statistics: false },
  { name: 'referenced_type', schema: [string('referenced_type')] },
  { name: 'referenced_id', schema: [string('referenced_id')], statistics: false },
  { name: 'retweet_count', schema: [long('retweet_count')] },
  { name: 'reply_count', schema: [long('reply_count')] },
  { name: 'like_count', schema: [long('like_count')] },
  { name: 'quote_count', schema: [long('quote_count')] },
  { name: 'impression_count', schema: [long('impression_count')] },
  { name: 'hashtags', schema: stringList('hashtags'), statistics: false },
  { name: 'mentions', schema: stringList('mentions'), statistics: false },
  { name: 'urls', schema: stringList('urls'), statistics: false },
  { name: 'rule_tags', schema: stringList('rule_tags') },
  { name: 'source', schema: [string('source')] },
  { name: 'ingested_at', schema: [timestampMillis('ingested_at', 'OPTIONAL')] },
  {
    name: 'kafka_partition',
    schema: [{ name: 'kafka_partition', type: 'INT32', repetition_type: 'REQUIRED' }],
  },
  { name: 'kafka_offset', schema: [{ name: 'kafka_offset', type: 'INT64', repetition_type: 'REQUIRED' }] },
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
/** The other columns, held in plain arrays because they take nulls, strings or lists. */
type ValueColumn = Exclude<ColumnName, NumericColumn>;

/** The complete Parquet schema: the root element followed by every column's elements. */
export function tweetSchema(): SchemaElement[] {
  return [{ name: 'tweet', num_children: TWEET_COLUMNS.length }, ...TWEET_COLUMNS.flatMap((c) => c.schema)];
}

const INITIAL_CAPACITY = 1024;

/**
 * The rows of one row group, held column by column: each record's document is read once, straight into the
 * column arrays (typed arrays for the required numbers), with no row object in between. The typed arrays are kept
 * across row groups and grow by doubling, so a file that sees few records holds little.
 */
export class TweetColumnBuilder {
  #rows = 0;
  #createdAt = new Float64Array(INITIAL_CAPACITY);
  #partition = new Int32Array(INITIAL_CAPACITY);
  #offset = new BigInt64Array(INITIAL_CAPACITY);
  readonly #values = Object.fromEntries(
    COLUMNS.filter((c) => !NUMERIC_COLUMNS.has(c.name)).map((c) => [c.name, [] as unknown[]]),
  ) as Record<ValueColumn, unknown[]>;

  get rows(): number {
    return this.#rows;
  }

  add(r: SinkRecord): void {
    const d = r.doc;
    const v = this.#values;
    const row = this.#rows;
    if (row === this.#offset.length) this.#grow();
    const noteDoc = obj(eitherEra(d, 'note_post'));
    const entities = obj(noteDoc?.entities) ?? obj(d.entities);
    const author = obj(d.author);
    const metrics = obj(d.public_metrics);
    const references = eitherEra(d, 'referenced_posts');
    const reference = Array.isArray(references) ? obj(references[0]) : undefined;
    const ingest = obj(d._ingest);

    v.id.push(d.id);
    this.#createdAt[row] = epochMs(d.created_at) ?? r.timestampMs;
    v.text.push(str(noteDoc?.text) ?? str(d.text));
    v.lang.push(str(d.lang));
    v.author_id.push(str(d.author_id) ?? str(author?.id));
    v.author_username.push(str(author?.username));
    v.author_name.push(str(author?.name));
    v.author_verified.push(bool(author?.verified));
    v.author_followers_count.push(int64(obj(author?.public_metrics)?.followers_count));
    v.conversation_id.push(str(d.conversation_id));
    v.in_reply_to_user_id.push(str(d.in_reply_to_user_id));
    v.referenced_type.push(str(reference?.type));
    v.referenced_id.push(str(reference?.id));
    v.retweet_count.push(metrics ? int64(eitherEra(metrics, 'repost_count')) : null);
    v.reply_count.push(int64(metrics?.reply_count));
    v.like_count.push(int64(metrics?.like_count));
    v.quote_count.push(int64(metrics?.quote_count));
    v.impression_count.push(int64(metrics?.impression_count));
    v.hashtags.push(pluck(entities?.hashtags, 'tag'));
    v.mentions.push(pluck(entities?.mentions, 'username'));
    v.urls.push(pluck(entities?.urls, 'expanded_url', 'url'));
    v.rule_tags.push(pluck(d.matching_rules, 'tag'));
    // The ingest source (x-stream, x-search, replay, ...), else the producer's `source` header.
    const header = r.headers.get('source');
    v.source.push(str(ingest?.source) ?? (header ? header.toString('utf8') : null));
    v.ingested_at.push(epochMs(ingest?.ingested_at));
    this.#partition[row] = r.partition;
    this.#offset[row] = r.offset;
    this.#rows = row + 1;
  }

  /** The columns of the rows added, in schema order; valid until clear(). */
  columnData(): ColumnSource[] {
    const rows = this.#rows;
    const numeric: Record<NumericColumn, DecodedArray> = {
      created_at: this.#createdAt.subarray(0, rows),
      kafka_partition: this.#partition.subarray(0, rows),
      kafka_offset: this.#offset.subarray(0, rows),
    };
    return COLUMNS.map((c) => ({
      name: c.name,
      data: NUMERIC_COLUMNS.has(c.name)
        ? numeric[c.name as NumericColumn]
        : this.#values[c.name as ValueColumn],
      ...('statistics' in c ? { statistics: c.statistics } : {}),
    }));
  }

  /** Forgets the rows (the writer has encoded them); the typed arrays are kept for the next row group. */
  clear(): void {
    for (const list of Object.values(this.#values)) list.length = 0;
    this.#rows = 0;
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
