/**
 * Tables over the output, against the real Hive Metastore 3.1.3 of `tweetpipe stack up --hive` (the test runner
 * starts it) and a real Spark: `tweetpipe sink` with sink.hive registers every committed partition (creating the
 * table), idempotently; a metastore that is down holds registration, never the sink, and `table sync`, the
 * registrar's retry or the next start catches up; after kill -9s of the sink the metastore holds every committed
 * partition. PySpark from PyPI (a venv made on first use, test/helpers/pyspark.ts) then reads each format's hdfs://
 * output in one session: through the table sink.hive registered, directly by path, and through the table the
 * generated Spark DDL creates, with exact counts. The metastore's view is read over Thrift, HDFS's through WebHDFS.
 * Outages are a relay in front of the metastore taken down (the metastore itself is shared).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';
import { isNoSuchObject, types, withMetastore } from '../../../src/hive/metastore-client.ts';
import { metastoreHealth } from '../../../src/stack/hive-server.ts';
import { type LogLine, runCli, startCli, stopCli } from '../../helpers/cli.ts';
import {
  listCommitted,
  testHdfsClient,
  utcMinutePath,
  verifySinkOutput,
} from '../../helpers/hdfs-readback.ts';
import { ensurePySpark, type SparkRead, sparkRead } from '../../helpers/pyspark.ts';
import { killSinkAfter, sinkArgs as sinkCliArgs } from '../../helpers/sink-chaos.ts';
import { startTcpRelay } from '../../helpers/tcp-relay.ts';
import { consoleKeys, deleteTopics, testConfig, uniqueTopic } from '../../helpers/topics.ts';

const LOG = ['--log-format', 'json', '--log-level', 'info'];
const N = 3000;
/** Enough that four runs killed soon after their first commit leave records for the last run. */
const KILL_PREFILL = 60_000;
const FORMATS = ['jsonl', 'jsonl.gz', 'parquet'] as const;
type Format = (typeof FORMATS)[number];

const config = testConfig();
const METASTORE = `thrift://localhost:${config.stack.metastorePort}`;
const RUN = `${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;
const HDFS_BASE = `/tmp/tweetpipe-hive-it-${RUN}`;
const root = (label: string) => `${HDFS_BASE}/${label.replace('.', '_')}`;
const tableName = (label: string) => `tp_hive_${RUN}_${label.replace('.', '_')}`;
const hdfsUri = (path: string) => `${config.hdfs.uri.replace(/\/$/, '')}${path}`;

let client: WebHdfsClient;
let work: string;
let topic: string;
let python: Promise<string>;
const topics: string[] = [];

/** sink.hive on, into `table`, at `metastoreUri` (a short call deadline so an outage shows quickly). */
const hiveEnv = (table: string, metastoreUri = METASTORE) => ({
  TWEETPIPE_SINK_HIVE: JSON.stringify({ enabled: true, metastoreUri, table, timeoutMs: 3000 }),
});
const registrationFailed = (l: LogLine) => l.level === 40 && /^sink\.hive: registering/.test(l.msg);

async function produce(to: string, count: number, seed: number, partitions = 3): Promise<void> {
  const run = await runCli(
    [
      'produce',
      '--source',
      'synthetic',
      '--max-tweets',
      String(count),
      '--seed',
      String(seed),
      '--topic',
      to,
      '--partitions',
      String(partitions),
      '--state-dir',
      join(work, `state-${to}`),
      ...LOG,
    ],
    {},
    180_000,
  );
  assert.equal(run.code, 0, run.stderr);
}

function sinkArgs(from: string, label: string, format: Format, extra: string[] = []): string[] {
  const target = { topic: from, root: root(label), group: `tp-test-hive-${label}-${RUN}` };
  return sinkCliArgs(target, ['--format', format, ...extra]);
}

/** The partitions the metastore holds for `table` in `default` (`dt=.../hour=...`), or null without the table. */
async function metastorePartitions(table: string): Promise<string[] | null> {
  return withMetastore(METASTORE, 10_000, async (ms) => {
    try {
      await ms.get_table_req(new types.GetTableRequest({ dbName: 'default', tblName: table }));
    } catch (err) {
      if (isNoSuchObject(err)) return null;
      throw err;
    }
    return (await ms.get_partition_names('default', table, -1)).sort();
  });
}

/** The partition directories of the committed files under `dir` for `from`, as a reader of HDFS sees them. */
async function hdfsPartitions(dir: string, from: string): Promise<string[]> {
  const files = (await listCommitted(client, dir, from)).filter((f) => f.name !== null);
  return [...new Set(files.map((f) => f.partitionPath))].sort();
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(500);
  }
}

describe('sink.hive and Spark against the local Hive Metastore 3.1.3', { timeout: 900_000 }, () => {
  before(async () => {
    const health = await metastoreHealth(config);
    assert.ok(
      health.ok,
      `no Hive Metastore at ${METASTORE} (${health.detail}): start it with tweetpipe stack up --hive`,
    );
    client = testHdfsClient();
    work = await mkdtemp(join(tmpdir(), 'tweetpipe-hive-it-'));
    // The venv install (first run on a machine) overlaps the sink runs; awaited by the Spark test.
    python = ensurePySpark((line) => process.stderr.write(`# ${line}\n`));
    python.catch(() => {});
    topic = uniqueTopic('hive');
    topics.push(topic, `${topic}.dlq`);
    await produce(topic, N, 61);
  });

  after(async () => {
    await deleteTopics(topics);
    await client?.delete(HDFS_BASE, { recursive: true }).catch(() => {});
    await client?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('each format: the sink creates the table and registers every committed partition; a rerun and table sync change nothing', async () => {
    for (const format of FORMATS) {
      const run = await runCli(
        sinkArgs(topic, format, format, ['--exit-when-idle', '2']),
        hiveEnv(tableName(format)),
        120_000,
      );
      assert.equal(run.code, 0, run.stderr.slice(-3000));
      assert.ok(
        run.logs.some((l) => l.msg === 'sink.hive: table created'),
        `${format}: no table created line`,
      );
      assert.deepEqual(run.logs.filter(registrationFailed), [], `${format}: registration failed`);
      const inHdfs = await hdfsPartitions(root(format), topic);
      assert.ok(inHdfs.length > 0, `${format}: nothing committed`);
      assert.deepEqual(await metastorePartitions(tableName(format)), inHdfs, format);
    }

    const rerun = await runCli(
      sinkArgs(topic, 'parquet', 'parquet', ['--exit-when-idle', '2']),
      hiveEnv(tableName('parquet')),
      120_000,
    );
    assert.equal(rerun.code, 0, rerun.stderr.slice(-3000));
    assert.ok(!rerun.logs.some((l) => l.msg === 'sink.hive: table created'));
    assert.deepEqual(rerun.logs.filter(registrationFailed), []);
    assert.deepEqual(
      await metastorePartitions(tableName('parquet')),
      await hdfsPartitions(root('parquet'), topic),
    );

    for (const format of FORMATS) {
      const sync = await runCli(['table', 'sync', '--topic', topic, ...LOG], {
        ...hiveEnv(tableName(format)),
        TWEETPIPE_HDFS_DIR: root(format),
      });
      assert.equal(sync.code, 0, sync.stderr.slice(-3000));
      assert.match(sync.stdout, /table exists, \d+ partitions in HDFS, 0 added/, format);
    }
  });

  test('PySpark 4.0 reads every format from hdfs:// through the registered table, by path and through its generated DDL, with exact counts', async (t) => {
    const reads: SparkRead[] = [];
    for (const format of FORMATS) {
      const path = hdfsUri(`${root(format)}/${topic}`);
      const ddlTable = `${tableName(format)}_ddl`;
      const ddl = await runCli(['table', 'ddl', '--engine', 'spark', '--format', format, '--topic', topic], {
        TWEETPIPE_SINK_HIVE: JSON.stringify({ table: ddlTable }),
        TWEETPIPE_HDFS_DIR: root(format),
      });
      assert.equal(ddl.code, 0, ddl.stderr);
      const statements = ddl.stdout
        .split('\n')
        .filter((l) => !l.startsWith('--'))
        .join('\n')
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      reads.push(
        {
          name: `${format} table registered by sink.hive`,
          kind: 'table',
          table: `default.${tableName(format)}`,
        },
        { name: `${format} by path`, kind: 'path', format: format === 'parquet' ? 'parquet' : 'json', path },
        { name: `${format} table of the Spark DDL`, kind: 'ddl', table: `default.${ddlTable}`, statements },
      );
    }
    const result = await sparkRead(await python, METASTORE, reads);
    t.diagnostic(`Spark ${result.sparkVersion}: ${JSON.stringify(result.reads)}`);
    for (const format of FORMATS) {
      const partitions = await hdfsPartitions(root(format), topic);
      for (const read of reads.filter((r) => r.name.startsWith(`${format} `))) {
        assert.deepEqual(
          result.reads[read.name],
          { rows: N, distinctIds: N, incomplete: 0, misplaced: 0, partitions },
          read.name,
        );
      }
    }
  });

  test('tweetpipe run with sink.hive registers the partitions its sink commits', async () => {
    const runTopic = uniqueTopic('hive-run');
    topics.push(runTopic, `${runTopic}.dlq`);
    const table = tableName('run');
    const run = await runCli(
      [
        'run',
        '--source',
        'synthetic',
        '--max-tweets',
        String(N),
        '--topic',
        runTopic,
        '--hdfs-dir',
        root('run'),
        '--group',
        `tp-test-hive-run-${RUN}`,
        '--max-age',
        '1',
        '--metrics-port',
        '0',
        '--state-dir',
        join(work, 'state-run'),
        ...LOG,
      ],
      hiveEnv(table),
      180_000,
    );
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.deepEqual(run.logs.filter(registrationFailed), []);
    const inHdfs = await hdfsPartitions(root('run'), runTopic);
    assert.ok(inHdfs.length > 0, 'run committed nothing');
    assert.deepEqual(await metastorePartitions(table), inHdfs);
  });

  test('a metastore that is down holds registration, not the sink; table sync catches up', async (t) => {
    const relay = await startTcpRelay(config.stack.metastorePort);
    t.after(() => relay.close());
    await relay.down();
    const table = tableName('down');
    const viaRelay = `thrift://localhost:${relay.port}`;
    const run = await runCli(
      sinkArgs(topic, 'down', 'jsonl.gz', ['--exit-when-idle', '2']),
      hiveEnv(table, viaRelay),
      120_000,
    );
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.ok(run.logs.some(registrationFailed), 'no warning about the failed registration');
    const out = await verifySinkOutput(client, {
      root: root('down'),
      topic,
      expectedIds: await consoleKeys(topic),
    });
    assert.deepEqual(out.problems, []);
    assert.equal(out.distinctIds, N);
    assert.equal(await metastorePartitions(table), null);

    await relay.up();
    const sync = await runCli(['table', 'sync', '--topic', topic, ...LOG], {
      ...hiveEnv(table, viaRelay),
      TWEETPIPE_HDFS_DIR: root('down'),
    });
    assert.equal(sync.code, 0, sync.stderr.slice(-3000));
    const inHdfs = await hdfsPartitions(root('down'), topic);
    assert.match(
      sync.stdout,
      new RegExp(`table created, ${inHdfs.length} partitions in HDFS, ${inHdfs.length} added`),
    );
    assert.deepEqual(await metastorePartitions(table), inHdfs);
  });

  test('a metastore back during a run: the running sink registers what it committed meanwhile', async (t) => {
    const relay = await startTcpRelay(config.stack.metastorePort);
    t.after(() => relay.close());
    await relay.down();
    const table = tableName('back');
    const sink = startCli(
      sinkArgs(topic, 'back', 'jsonl', ['--max-records', '500', '--max-age', '1']),
      hiveEnv(table, `thrift://localhost:${relay.port}`),
    );
    t.after(() => stopCli(sink, 'SIGKILL'));
    await sink.waitForLog(registrationFailed, 90_000);
    const inHdfs = await until(
      'every record committed',
      async () => {
        const out = await verifySinkOutput(client, { root: root('back'), topic, expectedIds: [] });
        return out.records === N ? hdfsPartitions(root('back'), topic) : undefined;
      },
      90_000,
    );
    assert.equal(await metastorePartitions(table), null);
    await relay.up();
    await until(
      'the metastore to hold every committed partition',
      async () => {
        const held = await metastorePartitions(table);
        return held !== null && held.length === inHdfs.length ? held : undefined;
      },
      60_000,
    );
    assert.deepEqual(await metastorePartitions(table), inHdfs);
    const exit = await stopCli(sink, 'SIGTERM');
    assert.equal(exit.code, 0, sink.stderr().slice(-3000));
  });

  test('sink killed -9 while committing, some runs with the metastore down: the metastore ends holding every committed partition', async (t) => {
    // One Kafka partition and minute directories (60,000 tweets span 20 minutes): each window reaches minutes no
    // earlier window did, so a directory whose registration a kill cut off is not reported again by a later
    // commit; only the catch-up from HDFS at a later start can register it.
    const killTopic = uniqueTopic('hive-kill');
    topics.push(killTopic, `${killTopic}.dlq`);
    await produce(killTopic, KILL_PREFILL, 62, 1);
    const relay = await startTcpRelay(config.stack.metastorePort);
    t.after(() => relay.close());
    const table = tableName('kill');
    const group = `tp-test-hive-kill-${RUN}`;
    const args = (extra: string[]) =>
      sinkArgs(killTopic, 'kill', 'jsonl.gz', [
        '--granularity',
        'minute',
        '--max-records',
        '1000',
        '--max-age',
        '1',
        ...extra,
      ]);
    const moments: string[] = [];
    for (let k = 1; k <= 4; k++) {
      // Runs 2 and 4 commit at least six windows (two minutes) while the metastore is down: what they commit is
      // registered only by a later start.
      const down = k % 2 === 0;
      if (down) await relay.down();
      else await relay.up();
      const sink = startCli(args([]), hiveEnv(table, `thrift://localhost:${relay.port}`));
      t.after(() => stopCli(sink, 'SIGKILL'));
      let windows = 0;
      const afterMs = 50 + Math.round(Math.random() * 550);
      const committed = (l: LogLine) => l.msg === 'window committed' && ++windows >= (down ? 6 : 1);
      await killSinkAfter(sink, committed, afterMs, group);
      moments.push(
        `run ${k} (metastore ${down ? 'down' : 'up'}): killed ${afterMs} ms after commit ${down ? 6 : 1}, ${sink.logs.filter((l) => l.msg === 'window committed').length} windows committed`,
      );
    }
    t.diagnostic(moments.join('\n'));
    await relay.up();
    const final = await runCli(args(['--exit-when-idle', '3']), hiveEnv(table, METASTORE), 180_000);
    assert.equal(final.code, 0, final.stderr.slice(-3000));

    const ids = await consoleKeys(killTopic);
    const out = await verifySinkOutput(client, {
      root: root('kill'),
      topic: killTopic,
      expectedIds: ids,
      timePath: utcMinutePath,
    });
    assert.deepEqual(out.problems, []);
    assert.equal(out.distinctIds, ids.length);
    const inHdfs = await hdfsPartitions(root('kill'), killTopic);
    t.diagnostic(`${inHdfs.length} partitions in HDFS`);
    assert.deepEqual(await metastorePartitions(table), inHdfs);
  });
});
