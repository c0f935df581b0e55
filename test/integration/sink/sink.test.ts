/**
 * `tweetpipe sink` end to end: the real CLI against the real Kafka (TWEETPIPE_BROKERS) and HDFS
 * (TWEETPIPE_WEBHDFS). Topics are filled by `tweetpipe produce --source synthetic`; what the sink committed is read
 * back through WebHDFS as a downstream reader would (test/helpers/hdfs-readback.ts) and compared with the topic as
 * Kafka's own ConsoleConsumer reads it. Unique topics, groups and HDFS directories per test, deleted at the end.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from '@platformatic/kafka';
import type { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';
import { createAdmin } from '../../../src/kafka/admin.ts';
import { kafkaConnection } from '../../../src/kafka/client-options.ts';
import { type CliExit, type LogLine, runCli, startCli, stopCli } from '../../helpers/cli.ts';
import {
  type CommittedFileEntry,
  download,
  duckdbRows,
  listCommitted,
  type SinkOutput,
  testHdfsClient,
  verifySinkOutput,
} from '../../helpers/hdfs-readback.ts';
import { sinkArgs as sinkCliArgs } from '../../helpers/sink-chaos.ts';
import { consoleKeys, deleteTopics, readRecords, testConfig, uniqueTopic } from '../../helpers/topics.ts';

/** Info level whatever the runner sets (TWEETPIPE_LOG_LEVEL=warn): the tests read info lines. */
const LOG = ['--log-format', 'json', '--log-level', 'info'];
const N = 20_000;
const FORMATS = ['jsonl', 'jsonl.gz', 'parquet'] as const;
type Format = (typeof FORMATS)[number];

const RUN = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
const HDFS_BASE = `/tmp/tweetpipe-sink-it-${RUN}`;
let client: WebHdfsClient;
let work: string;
const topics: string[] = [];

function newTopic(label: string): string {
  const topic = uniqueTopic(label);
  topics.push(topic, `${topic}.dlq`);
  return topic;
}

const root = (label: string) => `${HDFS_BASE}/${label}`;
const group = (label: string) => `tp-test-sink-${label}-${RUN}`;

/** Fills `topic` with `count` synthetic tweets (a new topic gets `partitions`). */
async function produce(topic: string, count: number, seed: number, partitions = 3): Promise<void> {
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
      topic,
      '--partitions',
      String(partitions),
      '--state-dir',
      join(work, `state-${topic}-${seed}`),
      ...LOG,
    ],
    {},
    120_000,
  );
  assert.equal(run.code, 0, run.stderr);
}

function sinkArgs(topic: string, label: string, extra: string[]): string[] {
  return sinkCliArgs({ topic, root: root(label), group: group(label) }, extra);
}

/** Polls `check` until it gives a value; fails after `timeoutMs`. */
async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

function assertClean(out: SinkOutput, expected: number): void {
  assert.deepEqual(out.problems, []);
  assert.equal(out.records, expected);
  assert.equal(out.distinctIds, expected);
  assert.deepEqual(out.tmpFiles, [], 'files left in _tmp');
}

before(async () => {
  client = testHdfsClient();
  work = await mkdtemp(join(tmpdir(), 'tweetpipe-sink-it-'));
});
after(async () => {
  await deleteTopics(topics);
  await client.delete(HDFS_BASE, { recursive: true }).catch(() => {});
  await client.close();
  await rm(work, { recursive: true, force: true });
});

describe('tweetpipe sink against the real Kafka and HDFS', () => {
  let topic: string;
  let ids: string[];
  const exits = new Map<Format, CliExit & { stderr: string }>();

  // One topic, one sink per format (own group, own directory), run side by side.
  before(async () => {
    topic = newTopic('sink');
    await produce(topic, N, 5);
    ids = await consoleKeys(topic);
    assert.equal(ids.length, N);
    await Promise.all(
      FORMATS.map(async (format) => {
        const run = await runCli(
          sinkArgs(topic, format, ['--format', format, '--max-records', '3000', '--exit-when-idle', '3']),
          {},
          180_000,
        );
        exits.set(format, run);
      }),
    );
  });

  for (const format of FORMATS) {
    test(`${format}: exactly the ${N} ids, in hour directories, files tiling each partition, nothing in _tmp`, async () => {
      const exit = exits.get(format);
      assert.equal(exit?.code, 0, exit?.stderr);
      const out = await verifySinkOutput(client, {
        root: root(format),
        topic,
        expectedIds: ids,
        localDir: join(work, `readback-${format}`),
      });
      assertClean(out, N);
      assert.ok(
        out.committed.every((f) => f.name?.extension === format),
        `files of another format: ${out.committed.map((f) => f.relPath).join(', ')}`,
      );
      // --max-records 3000 over ~6,700 records per partition: several windows each, so the tiling means something.
      assert.ok(out.files >= 9, `only ${out.files} files`);
    });
  }

  test('DuckDB reads the same rows from the Parquet and the JSON Lines copies; Parquet offsets match the names', async () => {
    const rows = new Map<Format, Awaited<ReturnType<typeof duckdbRows>>>();
    const files = new Map<Format, CommittedFileEntry[]>();
    for (const format of FORMATS) {
      const local = join(work, `duckdb-${format}`);
      const committed = await listCommitted(client, root(format), topic);
      await download(client, committed, local);
      files.set(format, committed);
      rows.set(format, await duckdbRows(local, format));
    }
    const byId = (format: Format) => {
      const m = new Map<string, number>();
      for (const r of rows.get(format) ?? []) m.set(r.id, r.createdAtMs);
      return m;
    };
    const parquet = byId('parquet');
    assert.equal(rows.get('parquet')?.length, N);
    assert.equal(parquet.size, N);
    assert.ok(
      [...parquet.values()].every((ms) => Number.isFinite(ms)),
      'a Parquet created_at is not a time',
    );
    for (const format of ['jsonl', 'jsonl.gz'] as const) {
      assert.equal(rows.get(format)?.length, N, `${format} row count`);
      assert.deepEqual(byId(format), parquet, `${format} and Parquet differ (ids or created_at)`);
    }

    // The kafka_offset column of each Parquet file covers exactly the range in its name.
    const offsets = new Map<string, bigint[]>();
    for (const r of rows.get('parquet') ?? []) {
      const list = offsets.get(r.relPath) ?? [];
      list.push(r.kafkaOffset ?? -1n);
      offsets.set(r.relPath, list);
    }
    for (const f of files.get('parquet') ?? []) {
      const got = (offsets.get(f.relPath) ?? []).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const { firstOffset, lastOffset } = f.name!;
      const want = Array.from(
        { length: Number(lastOffset - firstOffset) + 1 },
        (_, i) => firstOffset + BigInt(i),
      );
      assert.deepEqual(got, want, `kafka_offset values of ${f.relPath}`);
    }
  });

  test('the age rotation commits the tail of a quiet stream while the sink keeps running; SIGTERM exits 0', async (t) => {
    // Far from --max-records: only the 2 s age can commit before shutdown.
    const run = startCli(sinkArgs(topic, 'age', ['--format', 'jsonl', '--max-age', '2']));
    t.after(() => stopCli(run, 'SIGKILL'));
    const committedRecords = async () => {
      const files = await listCommitted(client, root('age'), topic);
      const n = files.reduce(
        (sum, f) => sum + Number((f.name?.lastOffset ?? -1n) - (f.name?.firstOffset ?? 0n) + 1n),
        0,
      );
      return n === N ? n : undefined;
    };
    await until(committedRecords, 60_000, `all ${N} records committed by age`);
    assert.equal(run.child.exitCode, null, `the sink exited: ${run.stderr().slice(-2000)}`);
    const out = await verifySinkOutput(client, { root: root('age'), topic, expectedIds: ids });
    assertClean(out, N);

    const exit = await stopCli(run, 'SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, run.stderr().slice(-2000));
  });

  test('a NameNode that cannot be reached: the sink keeps retrying, says so, and commits no Kafka offset', async (t) => {
    const run = startCli(sinkArgs(topic, 'unreachable', ['--format', 'jsonl']), {
      TWEETPIPE_WEBHDFS: 'http://localhost:1',
    });
    t.after(() => stopCli(run, 'SIGKILL'));
    // At start (creating the output directory) or while consuming (a reset): a warning per failed try.
    const isReset = (l: LogLine) => l.level === 40 && /^(sink reset|creating \S+ in HDFS failed)/.test(l.msg);
    const first = await run.waitForLog(isReset, 60_000);
    assert.match(JSON.stringify(first.err), /localhost:1|ECONNREFUSED|connect/i);
    // A second reset: it retries instead of giving up.
    await run.waitForLog((l) => isReset(l) && l !== first, 60_000);
    assert.equal(run.child.exitCode, null, 'the sink exited while HDFS was unreachable');
    assert.ok(!run.logs.some((l) => l.msg === 'window committed'), 'a window was committed');
    const exit = await stopCli(run, 'SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');

    const admin = createAdmin(kafkaConnection(testConfig(), 'test'));
    try {
      const [listed] = await admin.listConsumerGroupOffsets({ groups: [group('unreachable')] });
      const committed = (listed?.topics ?? []).flatMap((tp) =>
        tp.partitions.filter((p) => p.committedOffset >= 0n).map((p) => `${tp.name}/${p.partitionIndex}`),
      );
      assert.deepEqual(committed, [], 'offsets were committed although nothing reached HDFS');
    } finally {
      await admin.close();
    }
  });
});

test('poison records land in <topic>.dlq with their origin, and the sink goes on past them', async () => {
  const topic = newTopic('sink-poison');
  await produce(topic, 300, 21, 1);
  const poison = [
    { key: 'poison-not-json', value: 'not json {' },
    { key: 'poison-no-id', value: JSON.stringify({ text: 'no id', created_at: '2026-11-25T06:30:00.000Z' }) },
  ];
  const producer = new Producer({ ...kafkaConnection(testConfig(), 'test'), autocreateTopics: false });
  let offsets: bigint[];
  try {
    const sent = await producer.send({
      messages: poison.map((p) => ({
        topic,
        partition: 0,
        key: Buffer.from(p.key),
        value: Buffer.from(p.value),
      })),
    });
    offsets = (sent.offsets ?? []).map((o) => BigInt(o.offset));
  } finally {
    await producer.close();
  }
  assert.equal(offsets.length, 1, 'one batch, one base offset');
  const poisonOffsets = [offsets[0]!, offsets[0]! + 1n];
  await produce(topic, 300, 22, 1);

  const run = await runCli(
    sinkArgs(topic, 'poison', ['--format', 'jsonl', '--exit-when-idle', '3']),
    {},
    120_000,
  );
  assert.equal(run.code, 0, run.stderr);

  const letters = await readRecords(`${topic}.dlq`, 2);
  assert.equal(letters.length, 2);
  const byValue = new Map(letters.map((l) => [l.value, l]));
  for (const [i, p] of poison.entries()) {
    const letter = byValue.get(p.value);
    assert.ok(letter, `no dead letter with the value of ${p.key}`);
    assert.equal(letter.headers.get('original_topic'), topic);
    assert.equal(letter.headers.get('original_partition'), '0');
    assert.equal(letter.headers.get('original_offset'), String(poisonOffsets[i]));
    assert.ok((letter.headers.get('reason') ?? '').length > 0, 'no reason header');
  }
  assert.match(byValue.get(poison[0]!.value)?.headers.get('reason') ?? '', /not JSON/);
  assert.match(byValue.get(poison[1]!.value)?.headers.get('reason') ?? '', /id/);

  const good = (await consoleKeys(topic)).filter((k) => !k.startsWith('poison-'));
  assert.equal(good.length, 600);
  const out = await verifySinkOutput(client, {
    root: root('poison'),
    topic,
    expectedIds: good,
    skipped: new Map([[0, new Set(poisonOffsets)]]),
  });
  assertClean(out, 600);
});

test('a bad --format exits with code 2 and names the flag', async () => {
  const run = await runCli(['sink', '--format', 'xml']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--format/);
  assert.match(run.stderr, /xml/);
});
