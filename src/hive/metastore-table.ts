/**
 * The metastore's record of the output table and its partitions, from the same TableSpec as `table ddl`.
 *
 * Parquet is registered as a Hive Parquet table (ParquetHiveSerDe), which Hive, Spark and Trino all read. JSON is
 * registered the way Spark registers its own `USING json` tables (provider and schema in table properties, a
 * placeholder column for Hive): Spark ships no Hive JSON SerDe, so a table with Hive's JsonSerDe fails in Spark
 * with a missing class, while Spark's form is read by Spark; Hive and Trino read JSON through a table of their
 * own DDL (`tweetpipe table ddl`), see docs/querying.md.
 */
import type { Column, TableSpec } from '../table/table-schema.ts';
import { type Partition, type StorageDescriptor, type Table, types } from './metastore-client.ts';

const PARQUET = {
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  input: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  output: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
};
/** What Spark's HiveExternalCatalog writes for a data source table Hive cannot read. */
const SPARK_PLACEHOLDER = {
  serde: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
  input: 'org.apache.hadoop.mapred.SequenceFileInputFormat',
  output: 'org.apache.hadoop.hive.ql.io.HiveSequenceFileOutputFormat',
};

/** A type as the metastore stores it: Hive's type grammar, lower case, no quoting (`struct<tag:string>`). */
function metastoreType(t: Column['type']): string {
  if (typeof t === 'object')
    return 'array' in t
      ? `array<${metastoreType(t.array)}>`
      : `struct<${t.struct.map((f) => `${f.name}:${metastoreType(f.type)}`).join(',')}>`;
  return t;
}

const field = (c: Column) =>
  new types.FieldSchema({ name: c.name, type: metastoreType(c.type), comment: null });

/** Spark's JSON form of a struct type (`StructType.json`), which it keeps in `spark.sql.sources.schema`. */
function sparkSchemaJson(columns: readonly Column[]): unknown {
  const typeOf = (t: Column['type']): unknown => {
    if (typeof t === 'object')
      return 'array' in t
        ? { type: 'array', elementType: typeOf(t.array), containsNull: true }
        : sparkSchemaJson(t.struct);
    return { string: 'string', timestamp: 'timestamp', bigint: 'long', int: 'integer', boolean: 'boolean' }[
      t
    ];
  };
  return {
    type: 'struct',
    fields: columns.map((c) => ({ name: c.name, type: typeOf(c.type), nullable: true, metadata: {} })),
  };
}

function storage(spec: TableSpec, location: string, withColumns: boolean): StorageDescriptor {
  const json = spec.format !== 'parquet';
  const kind = json ? SPARK_PLACEHOLDER : PARQUET;
  return new types.StorageDescriptor({
    cols: json
      ? [new types.FieldSchema({ name: 'col', type: 'array<string>', comment: 'from deserializer' })]
      : withColumns
        ? spec.columns.map(field)
        : [],
    location,
    inputFormat: kind.input,
    outputFormat: kind.output,
    compressed: false,
    numBuckets: -1,
    serdeInfo: new types.SerDeInfo({
      name: null,
      serializationLib: kind.serde,
      parameters: json ? { path: location, 'serialization.format': '1' } : { 'serialization.format': '1' },
    }),
    bucketCols: [],
    sortCols: [],
    parameters: {},
  });
}

export function metastoreTable(spec: TableSpec): Table {
  const partitionKeys = spec.partitions.map((p) => field({ name: p, type: 'string' }));
  const parameters: Record<string, string> = { EXTERNAL: 'TRUE', 'tweetpipe.format': spec.format };
  if (spec.format !== 'parquet') {
    const all = [...spec.columns, ...spec.partitions.map((p) => ({ name: p, type: 'string' as const }))];
    Object.assign(parameters, {
      'spark.sql.sources.provider': 'json',
      'spark.sql.sources.schema': JSON.stringify(sparkSchemaJson(all)),
      'spark.sql.sources.schema.numPartCols': String(spec.partitions.length),
      ...Object.fromEntries(spec.partitions.map((p, i) => [`spark.sql.sources.schema.partCol.${i}`, p])),
      'spark.sql.partitionProvider': 'catalog',
    });
  }
  return new types.Table({
    tableName: spec.table,
    dbName: spec.database,
    owner: 'tweetpipe',
    createTime: Math.floor(Date.now() / 1000),
    sd: storage(spec, spec.location, true),
    partitionKeys,
    parameters,
    tableType: 'EXTERNAL_TABLE',
  });
}

/** Hive's FileUtils.unescapePathName: the inverse of the partitioner's escapePartitionValue. */
const unescapePartitionValue = (v: string): string =>
  v.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

/** Partition values from a relative directory such as `dt=2026-11-25/hour=06`, in the table's key order. */
export function partitionValues(spec: TableSpec, dir: string): string[] | null {
  const parts = dir.split('/');
  if (parts.length !== spec.partitions.length) return null;
  const values: string[] = [];
  for (const [i, part] of parts.entries()) {
    const prefix = `${spec.partitions[i]}=`;
    if (!part.startsWith(prefix)) return null;
    values.push(unescapePartitionValue(part.slice(prefix.length)));
  }
  return values;
}

export function metastorePartition(spec: TableSpec, dir: string, values: string[]): Partition {
  return new types.Partition({
    values,
    dbName: spec.database,
    tableName: spec.table,
    createTime: Math.floor(Date.now() / 1000),
    sd: storage(spec, `${spec.location}/${dir}`, true),
    parameters: {},
  });
}
