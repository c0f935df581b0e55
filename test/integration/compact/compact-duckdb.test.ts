/**
 * `tweetpipe compact` and `tweetpipe compliance apply` on sink output in the shared HDFS, read back by DuckDB over
 * webhdfs:// (the reader of test/integration/duckdb-webhdfs.test.ts): for jsonl, jsonl.gz and parquet, fewer files
 * after compaction with exactly the same rows and distinct ids; after `compliance apply` the deleted ids are gone
 * (DuckDB counts N - deleted rows and distinct ids, and none of the deleted ids).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';
import { runCli } from '../../helpers/cli.ts';
import { duckDbPython, duckDbRead, readWithDuckDb, webhdfsHost } from '../../helpers/duckdb-webhdfs.ts';
import { listCommitted, readJsonLines, testHdfsClient } from '../../helpers/hdfs-readback.ts';
import { prefill, sinkArgs } from '../../helpers/sink-chaos.ts';
import { deleteTopics, uniqueTopic } from '../../helpers/topics.ts';

const LOG = ['--log-format', 'json', '--log-level', 'warn'];
const N = 1500;
const FORMATS = ['jsonl', 'jsonl.gz', 'parquet'] as const;

const webhdfs = webhdfsHost();
const RUN = `${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;
const HDFS_BASE = `/tmp/tweetpipe-compact-it-${RUN}`;
const root = (format: string) => `${HDFS_BASE}/${format.replace('.', '_')}`;

let client: WebHdfsClient;
let work: string;
let topic: string;
let python: Promise<string>;

interface DuckRead {
  rows: number;
  distinctIds: number;
}

/** DuckDB's rows and distinct ids of each format's output, through the DDL tweetpipe prints. */
async function duckRead(label: string): Promise<Record<string, DuckRead>> {
  const reads = [];
  for (const format of FORMATS) {
    const view = `tp_compact_${label}_${RUN}_${format.replace('.', '_')}`;
    reads.push(await duckDbRead(format, topic, `webhdfs://${webhdfs.host}${root(format)}/${topic}`, view));
  }
  const result = (await readWithDuckDb(python, work, label, reads)) as Record<string, DuckRead>;
  return Object.fromEntries(
    FORMATS.map((f) => [f, { rows: result[f]?.rows ?? -1, distinctIds: result[f]?.distinctIds ?? -1 }]),
  );
}

const committedCount = async (format: string) =>
  (await listCommitted(client, root(format), topic)).filter((f) => f.name !== null).length;

describe('compact and compliance apply, read back by DuckDB over webhdfs://', { timeout: 900_000 }, () => {
  before(async () => {
    client = testHdfsClient();
    work = await mkdtemp(join(tmpdir(), 'tweetpipe-compact-it-'));
    python = duckDbPython();
    topic = uniqueTopic('compact');
    await prefill({ topic, stateDir: work }, N, 17);
    for (const format of FORMATS) {
      const sink = await runCli(
        sinkArgs({ topic, root: root(format), group: `tp-test-compact-${format}-${RUN}` }, [
          '--format',
          format,
          '--max-records',
          '50',
          '--exit-when-idle',
          '2',
        ]),
        {},
        180_000,
      );
      assert.equal(sink.code, 0, sink.stderr.slice(-3000));
    }
  });

  after(async () => {
    await deleteTopics([topic, `${topic}.dlq`]);
    await client?.delete(HDFS_BASE, { recursive: true }).catch(() => {});
    await client?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('compaction: fewer files, the same rows and ids; compliance: deleted ids gone', async () => {
    await sleep(1500); // every folder older than --older-than 1s
    const before: Record<string, number> = {};
    for (const format of FORMATS) {
      before[format] = await committedCount(format);
      const out = await runCli(
        ['compact', '--hdfs-dir', root(format), '--older-than', '1s', '--format', format, ...LOG],
        {},
        300_000,
      );
      assert.equal(out.code, 0, out.stderr.slice(-3000));
      const after = await committedCount(format);
      assert.ok(after * 3 <= before[format], `${format}: ${before[format]} files before, ${after} after`);
    }
    const whole = { rows: N, distinctIds: N };
    assert.deepEqual(await duckRead('compacted'), { jsonl: whole, 'jsonl.gz': whole, parquet: whole });

    // Ids from the largest file, a merged one (never one of the sink's newest windows, which compliance defers).
    const files = (await listCommitted(client, root('jsonl'), topic)).filter((f) => f.name !== null);
    const merged = files.reduce((a, b) => (b.length > a.length ? b : a));
    const deleted = (await readJsonLines(client, merged)).slice(0, 5).map((r) => r.id as string);
    const idsFile = join(work, 'ids.txt');
    await writeFile(idsFile, `${deleted.join('\n')}\n`);
    for (const format of FORMATS) {
      const out = await runCli(
        ['compliance', 'apply', '--ids', idsFile, '--hdfs-dir', root(format), ...LOG],
        {},
        300_000,
      );
      assert.equal(out.code, 0, out.stderr.slice(-3000));
      assert.match(out.stdout, /5 records removed/);
    }
    const left = { rows: N - 5, distinctIds: N - 5 };
    assert.deepEqual(await duckRead('applied'), { jsonl: left, 'jsonl.gz': left, parquet: left });
  });
});
