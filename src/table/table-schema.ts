/**
 * The columns of a table over the sink's output, per format, in one engine-neutral type model that ddl.ts renders
 * for each engine. Parquet tables take their columns from the Parquet writer's own schema (TWEET_COLUMNS), so the
 * DDL cannot disagree with the files; JSON tables describe the record contract (docs/record-schema.md), whose
 * nested objects stay structs and whose lists stay arrays.
 */
import type { SchemaElement } from 'hyparquet';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import type { FormatName } from '../sink/formats/format.ts';
import { TWEET_COLUMNS } from '../sink/formats/tweet-columns.ts';

export type ColumnType =
  | 'string'
  | 'timestamp'
  | 'bigint'
  | 'int'
  | 'boolean'
  | { array: ColumnType }
  | { struct: readonly Column[] };

export interface Column {
  name: string;
  type: ColumnType;
}

/** The SQL type of one Parquet column, from the schema elements the writer writes (tweet-columns.ts). */
export function parquetColumnType(schema: readonly SchemaElement[]): ColumnType {
  const [head, , element] = schema;
  if (!head) throw new Error('empty Parquet column schema');
  if (head.converted_type === 'LIST') {
    if (!element) throw new Error(`Parquet LIST column ${head.name} has no element`);
    return { array: parquetColumnType([element]) };
  }
  if (head.logical_type?.type === 'TIMESTAMP') return 'timestamp';
  switch (head.type) {
    case 'BYTE_ARRAY':
      if (head.converted_type === 'UTF8') return 'string';
      break;
    case 'INT64':
      return 'bigint';
    case 'INT32':
      return 'int';
    case 'BOOLEAN':
      return 'boolean';
  }
  throw new Error(`Parquet column ${head.name}: no SQL type for ${head.type}/${head.converted_type}`);
}

export const PARQUET_COLUMNS: readonly Column[] = TWEET_COLUMNS.map((c) => ({
  name: c.name,
  type: parquetColumnType(c.schema),
}));

const struct = (fields: Record<string, ColumnType>): ColumnType => ({
  struct: Object.entries(fields).map(([name, type]) => ({ name, type })),
});
const arrayOf = (fields: Record<string, ColumnType>): ColumnType => ({ array: struct(fields) });

/**
 * The record's fields a JSON table declares: what the Parquet columns are taken from, in the record's own shape
 * (2.167 names; docs/record-schema.md). Fields a table does not declare are skipped by every engine's JSON reader.
 */
export const JSON_COLUMNS: readonly Column[] = [
  { name: 'id', type: 'string' },
  { name: 'created_at', type: 'timestamp' },
  { name: 'text', type: 'string' },
  { name: 'lang', type: 'string' },
  { name: 'author_id', type: 'string' },
  { name: 'conversation_id', type: 'string' },
  { name: 'in_reply_to_user_id', type: 'string' },
  { name: 'possibly_sensitive', type: 'boolean' },
  {
    name: 'public_metrics',
    type: struct({
      repost_count: 'bigint',
      reply_count: 'bigint',
      like_count: 'bigint',
      quote_count: 'bigint',
      bookmark_count: 'bigint',
      impression_count: 'bigint',
    }),
  },
  {
    name: 'entities',
    type: struct({
      hashtags: arrayOf({ tag: 'string' }),
      mentions: arrayOf({ id: 'string', username: 'string' }),
      urls: arrayOf({ url: 'string', expanded_url: 'string' }),
    }),
  },
  { name: 'note_post', type: struct({ text: 'string' }) },
  { name: 'referenced_posts', type: arrayOf({ type: 'string', id: 'string' }) },
  {
    name: 'author',
    type: struct({
      id: 'string',
      username: 'string',
      name: 'string',
      verified: 'boolean',
      public_metrics: struct({ followers_count: 'bigint', following_count: 'bigint', post_count: 'bigint' }),
    }),
  },
  { name: 'matching_rules', type: arrayOf({ id: 'string', tag: 'string' }) },
  { name: '_ingest', type: struct({ source: 'string', ingested_at: 'timestamp', schema_version: 'int' }) },
];

/** Everything an engine's DDL needs to know about the table. */
export interface TableSpec {
  database: string;
  table: string;
  format: FormatName;
  /** Directory URI of the output (`<hdfs.uri><hdfs.dir>/<topic>`), no trailing slash. */
  location: string;
  columns: readonly Column[];
  /** Partition columns in directory order (`dt`, `hour`, ..., then sink.partitionFields), all strings. */
  partitions: readonly string[];
}

/** Partition columns in the order of the directories the partitioner writes. */
export function partitionColumns(config: Config): string[] {
  const time = { day: ['dt'], hour: ['dt', 'hour'], minute: ['dt', 'hour', 'minute'] }[
    config.sink.granularity
  ];
  return [...time, ...config.sink.partitionFields];
}

/** A Hive table name from a topic name: Hive names are letters, digits and underscores. */
export const tableNameOf = (topic: string): string => topic.toLowerCase().replace(/[^a-z0-9_]/g, '_');

export function tableSpec(config: Config, format: FormatName = config.sink.format): TableSpec {
  const uri = config.hdfs.uri.replace(/\/+$/, '');
  const partitions = partitionColumns(config);
  const clash = partitions.find((p) => p.includes('.'));
  if (clash)
    throw new TweetpipeError(
      'CONFIG_INVALID',
      `sink.partitionFields: "${clash}" makes a partition column with a dot in its name, which Hive, Spark and Trino reject; partition by a top-level field (e.g. lang) to query the output as a table`,
    );
  return {
    database: config.sink.hive.database,
    table: config.sink.hive.table ?? tableNameOf(config.topic.name),
    format,
    location: `${uri}${config.hdfs.dir.replace(/\/+$/, '')}/${config.topic.name}`,
    // A field partition (e.g. lang) is a partition column only: Hive and Trino reject a name that is both.
    columns: (format === 'parquet' ? PARQUET_COLUMNS : JSON_COLUMNS).filter(
      (c) => !partitions.includes(c.name),
    ),
    partitions,
  };
}
