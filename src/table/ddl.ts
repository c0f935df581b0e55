/**
 * `tweetpipe table ddl`: the statements that create a table over the sink's output in Hive, Spark, Trino or
 * DuckDB, rendered from one TableSpec (table-schema.ts). Each engine reads JSON its own way:
 * - Hive: the JSON SerDe (hcatalog's in Hive 3, built in from Hive 4) over text files; gzip by file extension.
 * - Spark: its `json` data source (Spark has no Hive JSON SerDe on its classpath).
 * - Trino: the Hive connector's `JSON` format.
 * - DuckDB: a view over `read_json` / `read_parquet` with Hive partitioning.
 * Partitions are strings, as the directories spell them (`hour=06`, not 6), so `WHERE dt = '2026-11-25' AND
 * hour = '06'` prunes in every engine.
 */
import type { FormatName } from '../sink/formats/format.ts';
import type { Column, ColumnType, TableSpec } from './table-schema.ts';

export const ENGINES = ['hive', 'spark', 'trino', 'duckdb'] as const;
export type Engine = (typeof ENGINES)[number];

/** Hive's JSON SerDe in Hive 3 (hive-hcatalog-core); Hive 4 also has org.apache.hadoop.hive.serde2.JsonSerDe. */
export const HIVE_JSON_SERDE = 'org.apache.hive.hcatalog.data.JsonSerDe';
/** How created_at and _ingest.ingested_at are written (ISO 8601 in UTC, `2026-11-25T06:00:00.000Z`), for Hive. */
const HIVE_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSZ";

/** A string literal of Trino and DuckDB (standard SQL: a quote is doubled). */
const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
/** A string literal of Hive and Spark, which escape with a backslash (and join adjacent literals). */
const hiveString = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
const backtick = (name: string): string => `\`${name.replaceAll('`', '``')}\``;
const doubleQuote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Hive and Spark share the type syntax (Spark's parser accepts Hive's). */
function hiveType(t: ColumnType): string {
  if (typeof t === 'object')
    return 'array' in t
      ? `ARRAY<${hiveType(t.array)}>`
      : `STRUCT<${t.struct.map((f) => `${backtick(f.name)}: ${hiveType(f.type)}`).join(', ')}>`;
  return { string: 'STRING', timestamp: 'TIMESTAMP', bigint: 'BIGINT', int: 'INT', boolean: 'BOOLEAN' }[t];
}

function trinoType(t: ColumnType): string {
  if (typeof t === 'object')
    return 'array' in t
      ? `array(${trinoType(t.array)})`
      : `row(${t.struct.map((f) => `${doubleQuote(f.name)} ${trinoType(f.type)}`).join(', ')})`;
  // The Hive connector's timestamps are timestamp(3): milliseconds, as written.
  return {
    string: 'varchar',
    timestamp: 'timestamp(3)',
    bigint: 'bigint',
    int: 'integer',
    boolean: 'boolean',
  }[t];
}

function duckdbType(t: ColumnType): string {
  if (typeof t === 'object')
    return 'array' in t
      ? `${duckdbType(t.array)}[]`
      : `STRUCT(${t.struct.map((f) => `${doubleQuote(f.name)} ${duckdbType(f.type)}`).join(', ')})`;
  return {
    string: 'VARCHAR',
    timestamp: 'TIMESTAMPTZ',
    bigint: 'BIGINT',
    int: 'INTEGER',
    boolean: 'BOOLEAN',
  }[t];
}

const columnList = (columns: readonly Column[], render: (c: Column) => string): string =>
  columns.map((c) => `  ${render(c)}`).join(',\n');

const isJson = (format: FormatName): boolean => format !== 'parquet';

function hiveDdl(spec: TableSpec): string {
  const name = `${backtick(spec.database)}.${backtick(spec.table)}`;
  const storage = isJson(spec.format)
    ? [
        `ROW FORMAT SERDE ${hiveString(HIVE_JSON_SERDE)}`,
        `WITH SERDEPROPERTIES ('timestamp.formats' = ${hiveString(HIVE_TIMESTAMP_FORMAT)})`,
        'STORED AS TEXTFILE',
      ]
    : ['STORED AS PARQUET'];
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS ${name} (`,
    columnList(spec.columns, (c) => `${backtick(c.name)} ${hiveType(c.type)}`),
    ')',
    `PARTITIONED BY (${spec.partitions.map((p) => `${backtick(p)} STRING`).join(', ')})`,
    ...storage,
    `LOCATION ${hiveString(spec.location)};`,
    '',
    `MSCK REPAIR TABLE ${name};`,
  ].join('\n');
}

function sparkDdl(spec: TableSpec): string {
  const name = `${backtick(spec.database)}.${backtick(spec.table)}`;
  const columns = [...spec.columns, ...spec.partitions.map((p) => ({ name: p, type: 'string' as const }))];
  return [
    `CREATE TABLE IF NOT EXISTS ${name} (`,
    columnList(columns, (c) => `${backtick(c.name)} ${hiveType(c.type)}`),
    ')',
    `USING ${isJson(spec.format) ? 'json' : 'parquet'}`,
    `PARTITIONED BY (${spec.partitions.map(backtick).join(', ')})`,
    `LOCATION ${hiveString(spec.location)};`,
    '',
    `MSCK REPAIR TABLE ${name};`,
  ].join('\n');
}

function trinoDdl(spec: TableSpec): string {
  const columns = [...spec.columns, ...spec.partitions.map((p) => ({ name: p, type: 'string' as const }))];
  return [
    `CREATE TABLE IF NOT EXISTS ${doubleQuote(spec.database)}.${doubleQuote(spec.table)} (`,
    columnList(columns, (c) => `${doubleQuote(c.name)} ${trinoType(c.type)}`),
    ')',
    'WITH (',
    `  external_location = ${sqlString(spec.location)},`,
    `  format = '${isJson(spec.format) ? 'JSON' : 'PARQUET'}',`,
    `  partitioned_by = ARRAY[${spec.partitions.map(sqlString).join(', ')}]`,
    ');',
    '',
    `CALL system.sync_partition_metadata(${sqlString(spec.database)}, ${sqlString(spec.table)}, 'ADD');`,
  ].join('\n');
}

function duckdbDdl(spec: TableSpec): string {
  const glob = `${spec.location}/${spec.partitions.map(() => '*').join('/')}/*.${spec.format}`;
  const hiveTypes = `{${spec.partitions.map((p) => `${sqlString(p)}: 'VARCHAR'`).join(', ')}}`;
  const read = isJson(spec.format)
    ? [
        `read_json(${sqlString(glob)},`,
        "    format = 'newline_delimited',",
        `    columns = {${spec.columns.map((c) => `${sqlString(c.name)}: ${sqlString(duckdbType(c.type))}`).join(', ')}},`,
      ]
    : [`read_parquet(${sqlString(glob)},`];
  return [
    `CREATE OR REPLACE VIEW ${doubleQuote(spec.table)} AS`,
    `SELECT * FROM ${read[0]}`,
    ...read.slice(1),
    '    hive_partitioning = true,',
    `    hive_types = ${hiveTypes});`,
  ].join('\n');
}

const RENDER: Record<Engine, (spec: TableSpec) => string> = {
  hive: hiveDdl,
  spark: sparkDdl,
  trino: trinoDdl,
  duckdb: duckdbDdl,
};

/** The statements (separated by `;` and a blank line) that create the table in `engine` and find its partitions. */
export function tableDdl(engine: Engine, spec: TableSpec): string {
  return `-- ${engine}: ${spec.format} output of ${spec.location}, generated by tweetpipe table ddl\n${RENDER[engine](spec)}\n`;
}
