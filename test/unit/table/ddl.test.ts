import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata } from 'hyparquet';
import { loadConfig } from '../../../src/config.ts';
import type { FormatName } from '../../../src/sink/formats/format.ts';
import { createFormat } from '../../../src/sink/formats/index.ts';
import { classify } from '../../../src/sink/sink-record.ts';
import { tableDdl } from '../../../src/table/ddl.ts';
import { PARQUET_COLUMNS, tableSpec } from '../../../src/table/table-schema.ts';
import { tweetRecords } from '../sink/fixtures.ts';

const config = (env: Record<string, string> = {}) =>
  loadConfig({ env: { TWEETPIPE_TOPIC: 'tweets.v2', TWEETPIPE_HDFS_DIR: '/data', ...env } });

describe('table ddl', () => {
  test('the table lives at hdfs.uri + hdfs.dir/topic, named after the topic, partitioned by the directories', () => {
    const spec = tableSpec(config({ TWEETPIPE_SINK_PARTITION_FIELDS: 'lang' }), 'parquet');
    assert.equal(spec.location, 'hdfs://localhost:9000/data/tweets.v2');
    assert.equal(spec.table, 'tweets_v2');
    assert.deepEqual(spec.partitions, ['dt', 'hour', 'lang']);
    // A field partition is a partition column only: engines reject a name that is both.
    assert.equal(
      spec.columns.some((c) => c.name === 'lang'),
      false,
    );
    assert.deepEqual(tableSpec(config({ TWEETPIPE_SINK_GRANULARITY: 'day' })).partitions, ['dt']);
  });

  test('Parquet columns come from the writer schema: timestamps, string ids, arrays of strings', () => {
    const type = (name: string) => PARQUET_COLUMNS.find((c) => c.name === name)?.type;
    assert.equal(type('created_at'), 'timestamp');
    assert.equal(type('ingested_at'), 'timestamp');
    assert.equal(type('id'), 'string');
    assert.equal(type('author_id'), 'string');
    assert.deepEqual(type('hashtags'), { array: 'string' });
    assert.equal(type('kafka_partition'), 'int');
    assert.equal(type('kafka_offset'), 'bigint');
  });

  test('hive: external table, JSON SerDe for JSON, Parquet, partitions as strings, then a repair', () => {
    const json = tableDdl('hive', tableSpec(config(), 'jsonl.gz'));
    assert.match(json, /^CREATE EXTERNAL TABLE IF NOT EXISTS `default`\.`tweets_v2` \(/m);
    assert.match(json, /^ {2}`created_at` TIMESTAMP,$/m);
    assert.match(json, /`_ingest` STRUCT<`source`: STRING, `ingested_at`: TIMESTAMP, `schema_version`: INT>/);
    assert.match(json, /`entities` STRUCT<`hashtags`: ARRAY<STRUCT<`tag`: STRING>>/);
    assert.match(json, /^PARTITIONED BY \(`dt` STRING, `hour` STRING\)$/m);
    assert.match(json, /ROW FORMAT SERDE 'org\.apache\.hive\.hcatalog\.data\.JsonSerDe'/);
    assert.match(json, /'timestamp\.formats' = 'yyyy-MM-dd\\'T\\'HH:mm:ss\.SSSZ'/);
    assert.match(json, /^LOCATION 'hdfs:\/\/localhost:9000\/data\/tweets\.v2';$/m);
    assert.match(json, /^MSCK REPAIR TABLE `default`\.`tweets_v2`;$/m);
    const parquet = tableDdl('hive', tableSpec(config(), 'parquet'));
    assert.match(parquet, /^STORED AS PARQUET$/m);
    assert.match(parquet, /^ {2}`hashtags` ARRAY<STRING>,$/m);
  });

  test('spark: a data source table (json or parquet) with the partition columns in its schema', () => {
    const ddl = tableDdl('spark', tableSpec(config(), 'jsonl'));
    assert.match(ddl, /^CREATE TABLE IF NOT EXISTS `default`\.`tweets_v2` \(/m);
    assert.match(
      ddl,
      /^ {2}`dt` STRING,\n {2}`hour` STRING\n\)\nUSING json\nPARTITIONED BY \(`dt`, `hour`\)$/m,
    );
    assert.match(tableDdl('spark', tableSpec(config(), 'parquet')), /^USING parquet$/m);
  });

  test('trino: external_location, format and partitioned_by, partition columns last, then a sync', () => {
    const ddl = tableDdl('trino', tableSpec(config(), 'jsonl'));
    assert.match(ddl, /^CREATE TABLE IF NOT EXISTS "default"\."tweets_v2" \($/m);
    assert.match(ddl, /^ {2}"created_at" timestamp\(3\),$/m);
    assert.match(ddl, /"entities" row\("hashtags" array\(row\("tag" varchar\)\)/);
    assert.match(ddl, /^ {2}"hour" varchar\n\)$/m);
    assert.match(
      ddl,
      /external_location = 'hdfs:\/\/localhost:9000\/data\/tweets\.v2',\n {2}format = 'JSON',/,
    );
    assert.match(ddl, /partitioned_by = ARRAY\['dt', 'hour'\]/);
    assert.match(ddl, /CALL system\.sync_partition_metadata\('default', 'tweets_v2', 'ADD'\);/);
    assert.match(tableDdl('trino', tableSpec(config(), 'parquet')), /format = 'PARQUET'/);
  });

  test('the Parquet timestamps are INT64 milliseconds adjusted to UTC, never INT96', async () => {
    const format = createFormat('parquet', { flushBytes: 1 << 20 });
    const encoder = format.open();
    for (const r of tweetRecords(0, 3)) {
      const c = classify(r);
      assert.ok(c.ok);
      encoder.write(c.record);
    }
    const bytes = await encoder.finish();
    const meta = parquetMetadata(bytes);
    for (const name of ['created_at', 'ingested_at']) {
      const el = meta.schema.find((e) => e.name === name);
      assert.equal(el?.type, 'INT64', name);
      assert.deepEqual(el?.logical_type, { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' });
    }
    assert.equal(
      meta.schema.some((e) => e.type === 'INT96'),
      false,
    );
  });

  for (const name of ['jsonl', 'jsonl.gz', 'parquet'] as FormatName[]) {
    test(`duckdb runs its DDL over ${name} files in dt=/hour= directories: every row, typed, pruned`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tweetpipe-ddl-'));
      const format = createFormat(name, { flushBytes: 1 << 20 });
      // 7,200 s of tweets 1 s apart cross two hours; one file per hour directory.
      const byHour = new Map<string, ReturnType<typeof format.open>>();
      for (const r of tweetRecords(0, 7200)) {
        const c = classify(r);
        assert.ok(c.ok);
        const hour = new Date(Number(r.timestamp)).toISOString().slice(11, 13);
        if (!byHour.has(hour)) byHour.set(hour, format.open());
        byHour.get(hour)?.write(c.record);
      }
      for (const [hour, encoder] of byHour) {
        const out = join(dir, 'dt=2026-11-25', `hour=${hour}`);
        mkdirSync(out, { recursive: true });
        writeFileSync(join(out, `tweets+0+0+1.${format.extension}`), await encoder.finish());
      }
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      try {
        await conn.run(tableDdl('duckdb', { ...tableSpec(config(), name), location: dir }));
        const all = (
          await conn.runAndReadAll(
            `SELECT count(*) AS n, count(DISTINCT id) AS ids, count(*) FILTER (WHERE hour <> strftime(created_at AT TIME ZONE 'UTC', '%H')) AS wrong_hour FROM tweets_v2`,
          )
        ).getRowObjects()[0];
        assert.deepEqual(
          { n: Number(all?.n), ids: Number(all?.ids), wrongHour: Number(all?.wrong_hour) },
          { n: 7200, ids: 7200, wrongHour: 0 },
        );
        const pruned = (
          await conn.runAndReadAll(
            "SELECT count(*) AS n, typeof(any_value(created_at)) AS t FROM tweets_v2 WHERE dt = '2026-11-25' AND hour = '07'",
          )
        ).getRowObjects()[0];
        assert.equal(Number(pruned?.n), 3600);
        assert.equal(pruned?.t, 'TIMESTAMP WITH TIME ZONE');
      } finally {
        conn.closeSync();
        db.closeSync();
      }
    });
  }
});
