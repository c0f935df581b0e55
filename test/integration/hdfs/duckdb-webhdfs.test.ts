/**
 * DuckDB runs the DDL `tweetpipe table ddl --engine duckdb` prints on the sink's output in the shared HDFS,
 * reading it over WebHDFS directly (an fsspec WebHDFS filesystem registered on the DuckDB connection, the DDL's
 * --location a webhdfs:// URL), never a local copy: for jsonl, jsonl.gz and parquet, exact row counts, distinct
 * ids, dt/hour matching created_at and the partitions HDFS holds. DuckDB and fsspec come from PyPI into a venv
 * made on first use; test/helpers/duckdb-webhdfs.ts runs test/helpers/duckdb-webhdfs.py, which does the reading.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';
import { runCli } from '../../helpers/cli.ts';
import { duckDbPython, duckDbRead, readWithDuckDb, webhdfsHost } from '../../helpers/duckdb-webhdfs.ts';
import { listCommitted, testHdfsClient } from '../../helpers/hdfs-readback.ts';
import { deleteTopics, uniqueTopic } from '../../helpers/topics.ts';

const LOG = ['--log-format', 'json', '--log-level', 'warn'];
const N = 2000;
const FORMATS = ['jsonl', 'jsonl.gz', 'parquet'] as const;

const webhdfs = webhdfsHost();
const RUN = `${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;
const HDFS_BASE = `/tmp/tweetpipe-duckdb-it-${RUN}`;
const root = (format: string) => `${HDFS_BASE}/${format.replace('.', '_')}`;

let client: WebHdfsClient;
let work: string;
let topic: string;
let python: Promise<string>;

interface DuckRead {
  rows: number;
  distinctIds: number;
  misplaced: number;
  partitions: string[];
}

describe('DuckDB runs its generated DDL on the sink output in HDFS over webhdfs://', {
  timeout: 600_000,
}, () => {
  before(async () => {
    client = testHdfsClient();
    work = await mkdtemp(join(tmpdir(), 'tweetpipe-duckdb-it-'));
    python = duckDbPython();
    topic = uniqueTopic('duckdb');
    const produced = await runCli(
      [
        'produce',
        '--source',
        'synthetic',
        '--max-tweets',
        String(N),
        '--seed',
        '71',
        '--topic',
        topic,
        '--partitions',
        '3',
        '--state-dir',
        join(work, 'state'),
        ...LOG,
      ],
      {},
      180_000,
    );
    assert.equal(produced.code, 0, produced.stderr);
  });

  after(async () => {
    await deleteTopics([topic, `${topic}.dlq`]);
    await client?.delete(HDFS_BASE, { recursive: true }).catch(() => {});
    await client?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('every format: exact rows, distinct ids, dt/hour of created_at, the partitions HDFS holds', async () => {
    const reads = [];
    const expectedPartitions: Record<string, string[]> = {};
    for (const format of FORMATS) {
      const sink = await runCli(
        [
          'sink',
          '--topic',
          topic,
          '--hdfs-dir',
          root(format),
          '--group',
          `tp-test-duckdb-${format}-${RUN}`,
          '--format',
          format,
          '--exit-when-idle',
          '2',
          ...LOG,
        ],
        {},
        120_000,
      );
      assert.equal(sink.code, 0, sink.stderr.slice(-3000));
      const files = (await listCommitted(client, root(format), topic)).filter((f) => f.name !== null);
      expectedPartitions[format] = [...new Set(files.map((f) => f.partitionPath))].sort();
      assert.ok(expectedPartitions[format].length > 0, `${format}: nothing committed`);

      const view = `tp_duckdb_${RUN}_${format.replace('.', '_')}`;
      const location = `webhdfs://${webhdfs.host}${root(format)}/${topic}`;
      const read = await duckDbRead(format, topic, location, view);
      assert.ok(read.ddl.includes(`'${location}/`), `${format}: the DDL reads ${location}`);
      reads.push(read);
    }

    const result = (await readWithDuckDb(python, work, 'spec', reads)) as Record<string, DuckRead>;
    for (const format of FORMATS) {
      assert.deepEqual(
        result[format],
        { rows: N, distinctIds: N, misplaced: 0, partitions: expectedPartitions[format] },
        format,
      );
    }
  });
});
