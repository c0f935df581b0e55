/**
 * The flat Parquet schema of a tweet (docs/parquet-schema.md) and how each column is read from the record.
 * One table drives both the Parquet schema and the row extraction, so the two cannot drift apart.
 */
import type { SchemaElement } from 'hyparquet';
import { eitherEra } from '../../sources/x-field-names.ts';
import type { SinkRecord } from '../sink-record.ts';

export interface TweetColumn {
  name: string;
  /** The column's schema elements: one for a scalar, three (group, repeated list, element) for a list. */
  schema: SchemaElement[];
  get(record: SinkRecord): unknown;
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

// Records of every schema version and API era: 2.167 names first, then 2.159's (src/sources/x-field-names.ts).
/** A long post carries its full text and entities in note_post (note_tweet); `text` is then truncated. */
const note = (d: Doc): Doc | undefined => obj(eitherEra(d, 'note_post'));
const entities = (d: Doc): Doc | undefined => obj(note(d)?.entities) ?? obj(d.entities);
const author = (d: Doc): Doc | undefined => obj(d.author);
const metrics = (d: Doc): Doc | undefined => obj(d.public_metrics);
const firstReference = (d: Doc): Doc | undefined => {
  const references = eitherEra(d, 'referenced_posts');
  return Array.isArray(references) ? obj(references[0]) : undefined;
};
/** Ingest metadata of the record contract (docs/record-schema.md): `{source, ingested_at, schema_version}`. */
const ingest = (d: Doc): Doc | undefined => obj(d._ingest);

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

/** The ingest source (x-stream, x-search, replay, ...), else the producer's `source` header. */
function sourceName(r: SinkRecord): string | null {
  const header = r.headers.get('source');
  return str(ingest(r.doc)?.source) ?? (header ? header.toString('utf8') : null);
}

export const TWEET_COLUMNS: readonly TweetColumn[] = [
  { name: 'id', schema: [string('id', 'REQUIRED')], get: (r) => r.doc.id },
  {
    name: 'created_at',
    schema: [timestampMillis('created_at', 'REQUIRED')],
    get: (r) => epochMs(r.doc.created_at) ?? r.timestampMs,
  },
  {
    name: 'text',
    schema: [string('text')],
    statistics: false,
    get: (r) => str(note(r.doc)?.text) ?? str(r.doc.text),
  },
  { name: 'lang', schema: [string('lang')], get: (r) => str(r.doc.lang) },
  {
    name: 'author_id',
    schema: [string('author_id')],
    get: (r) => str(r.doc.author_id) ?? str(author(r.doc)?.id),
  },
  {
    name: 'author_username',
    schema: [string('author_username')],
    statistics: false,
    get: (r) => str(author(r.doc)?.username),
  },
  {
    name: 'author_name',
    schema: [string('author_name')],
    statistics: false,
    get: (r) => str(author(r.doc)?.name),
  },
  {
    name: 'author_verified',
    schema: [{ name: 'author_verified', type: 'BOOLEAN', repetition_type: 'OPTIONAL' }],
    get: (r) => bool(author(r.doc)?.verified),
  },
  {
    name: 'author_followers_count',
    schema: [long('author_followers_count')],
    get: (r) => int64(obj(author(r.doc)?.public_metrics)?.followers_count),
  },
  {
    name: 'conversation_id',
    schema: [string('conversation_id')],
    statistics: false,
    get: (r) => str(r.doc.conversation_id),
  },
  {
    name: 'in_reply_to_user_id',
    schema: [string('in_reply_to_user_id')],
    statistics: false,
    get: (r) => str(r.doc.in_reply_to_user_id),
  },
  {
    name: 'referenced_type',
    schema: [string('referenced_type')],
    get: (r) => str(firstReference(r.doc)?.type),
  },
  {
    name: 'referenced_id',
    schema: [string('referenced_id')],
    statistics: false,
    get: (r) => str(firstReference(r.doc)?.id),
  },
  {
    name: 'retweet_count',
    schema: [long('retweet_count')],
    get: (r) => {
      const m = metrics(r.doc);
      return m ? int64(eitherEra(m, 'repost_count')) : null;
    },
  },
  { name: 'reply_count', schema: [long('reply_count')], get: (r) => int64(metrics(r.doc)?.reply_count) },
  { name: 'like_count', schema: [long('like_count')], get: (r) => int64(metrics(r.doc)?.like_count) },
  { name: 'quote_count', schema: [long('quote_count')], get: (r) => int64(metrics(r.doc)?.quote_count) },
  {
    name: 'impression_count',
    schema: [long('impression_count')],
    get: (r) => int64(metrics(r.doc)?.impression_count),
  },
  {
    name: 'hashtags',
    schema: stringList('hashtags'),
    statistics: false,
    get: (r) => pluck(entities(r.doc)?.hashtags, 'tag'),
  },
  {
    name: 'mentions',
    schema: stringList('mentions'),
    statistics: false,
    get: (r) => pluck(entities(r.doc)?.mentions, 'username'),
  },
  {
    name: 'urls',
    schema: stringList('urls'),
    statistics: false,
    get: (r) => pluck(entities(r.doc)?.urls, 'expanded_url', 'url'),
  },
  { name: 'rule_tags', schema: stringList('rule_tags'), get: (r) => pluck(r.doc.matching_rules, 'tag') },
  { name: 'source', schema: [string('source')], get: sourceName },
  {
    name: 'ingested_at',
    schema: [timestampMillis('ingested_at', 'OPTIONAL')],
    get: (r) => epochMs(ingest(r.doc)?.ingested_at),
  },
  {
    name: 'kafka_partition',
    schema: [{ name: 'kafka_partition', type: 'INT32', repetition_type: 'REQUIRED' }],
    get: (r) => r.partition,
  },
  {
    name: 'kafka_offset',
    schema: [{ name: 'kafka_offset', type: 'INT64', repetition_type: 'REQUIRED' }],
    get: (r) => r.offset,
  },
];

/** The complete Parquet schema: the root element followed by every column's elements. */
export function tweetSchema(): SchemaElement[] {
  return [{ name: 'tweet', num_children: TWEET_COLUMNS.length }, ...TWEET_COLUMNS.flatMap((c) => c.schema)];
}
