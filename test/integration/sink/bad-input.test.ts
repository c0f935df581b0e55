/**
 * The bad input corpus (test/helpers/sink-bad-input-corpus.ts) end to end: produced as raw Kafka records into a
 * unique topic on the shared stack, then `tweetpipe sink --exit-when-idle` in every format. Each good record is
 * in HDFS exactly once, in its partition directory and as the corpus says (read back through WebHDFS; Parquet by
 * DuckDB); each bad one is in `<topic>.dlq` with its reason; the sink exits 0 with everything committed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Producer } from '@platformatic/kafka';
import type { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';
import { createAdmin, ensureTopic } from '../../../src/kafka/admin.ts';
import { kafkaConnection } from '../../../src/kafka/client-options.ts';
import { type CliExit, runCli } from '../../helpers/cli.ts';
import {
  download,
  duckdbRows,
  listCommitted,
  listFiles,
  testHdfsClient,
  topicEndOffsets,
} from '../../helpers/hdfs-readback.ts';
import {
  type BadInputCase,
  badInputCorpus,
  expectedDirs,
  PARTITION_FIELDS,
} from '../../helpers/sink-bad-input-corpus.ts';
import {
  deleteTopics,
  readRecords,
  testConfig,
  topicRecordCount,
  uniqueTopic,
} from '../../helpers/topics.ts';

const FORMATS = ['jsonl', 'jsonl.gz', 'parquet'] as const;
type Format = (typeof FORMATS)[number];
/** Above the 2 MB record: Kafka's default limit is 1 MB per record batch. */
const MAX_MESSAGE_BYTES = String(8 * 1024 * 1024);

const RUN = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
const HDFS_BASE = `/tmp/tweetpipe-bad-input-it-${RUN}`;
const root = (format: Format) => `${HDFS_BASE}/${format.replace('.', '-')}`;

let client: WebHdfsClient;
let work: string;
let topic: string;
let corpus: BadInputCase[];
const exits = new Map<Format, CliExit & { stderr: string }>();

/** Creates the topic (one partition, room for the 2 MB record) and produces the corpus in order. */
async function produceCorpus(): Promise<void> {
  const conn = kafkaConnection(testConfig(), 'test');
  const admin = createAdmin(conn);
  try {
    const spec = { partitions: 1, replication: 1, retentionMs: -1 };
    // No dead-letter topic: the sink creates it at start, with the topic's record size limit.
    await ensureTopic(admin, { name: topic, ...spec, configs: { 'max.message.bytes': MAX_MESSAGE_BYTES } });
  } finally {
    await admin.close();
  }
  const producer = new Producer({ ...conn, autocreateTopics: false });
  try {
    for (const c of corpus)
      await producer.send({
        messages: [
          {
            topic,
            partition: 0,
            key: Buffer.from(c.name),
            value: c.value,
            timestamp: BigInt(c.timestampMs),
          },
        ],
      });
  } finally {
    await producer.close();
  }
}

/** Per partition directory below the topic directory, what a reader finds there (see readerView()). */
async function readBackDirs(format: Format): Promise<Map<string, string[]>> {
  const committed = await listCommitted(client, root(format), topic);
  const stray = committed.filter((f) => f.name === null || f.name.partition !== 0);
  assert.deepEqual(
    stray.map((f) => f.relPath),
    [],
    'files a reader sees that are not committed files of partition 0',
  );
  const byFirstOffset = [...committed].sort((a, b) => Number(a.name!.firstOffset - b.name!.firstOffset));
  const out = new Map<string, string[]>();
  const add = (dir: string, items: string[]) => out.set(dir, [...(out.get(dir) ?? []), ...items]);
  if (format === 'parquet') {
    const local = join(work, 'parquet');
    await download(client, committed, local);
    const rows = await duckdbRows(local, 'parquet');
    rows.sort((a, b) => Number((a.kafkaOffset ?? 0n) - (b.kafkaOffset ?? 0n)));
    for (const r of rows)
      add(r.relPath.slice(topic.length + 1, r.relPath.lastIndexOf('/')), [`${r.id} ${r.createdAtMs}`]);
    return out;
  }
  for (const f of byFirstOffset) {
    const raw = await client.readAll(f.path);
    const lines: string[] = (format === 'jsonl.gz' ? gunzipSync(raw) : raw).toString('utf8').split('\n');
    assert.equal(lines.pop(), '', `${f.relPath} ends with a newline`);
    add(f.partitionPath, lines);
  }
  return out;
}

before(async () => {
  client = testHdfsClient();
  work = await mkdtemp(join(tmpdir(), 'tweetpipe-bad-input-it-'));
  topic = uniqueTopic('sink-bad-input');
  corpus = badInputCorpus().filter((c) => c.unitOnly === undefined);
  await produceCorpus();
  assert.deepEqual(await topicEndOffsets(topic), [BigInt(corpus.length)], 'one record per case');
  await Promise.all(
    FORMATS.map(async (format) => {
      const args = [
        'sink',
        '--topic',
        topic,
        '--hdfs-dir',
        root(format),
        '--group',
        `tp-test-bad-input-${format}-${RUN}`,
        '--format',
        format,
        '--granularity',
        'hour',
        '--timezone',
        'UTC',
        '--partition-fields',
        PARTITION_FIELDS.join(','),
        '--exit-when-idle',
        '3',
        '--log-format',
        'json',
      ];
      exits.set(format, await runCli(args, {}, 180_000));
    }),
  );
});

after(async () => {
  await deleteTopics([topic, `${topic}.dlq`]);
  await client.delete(HDFS_BASE, { recursive: true }).catch(() => {});
  await client.close();
  await rm(work, { recursive: true, force: true });
});

describe('the bad input corpus through tweetpipe sink on the real Kafka and HDFS', () => {
  for (const format of FORMATS) {
    test(`${format}: every good record exactly once, where and as the corpus says; nothing left in _tmp`, async () => {
      const exit = exits.get(format);
      assert.equal(exit?.code, 0, exit?.stderr.slice(-3000));
      const want = expectedDirs(corpus, format);
      const got = await readBackDirs(format);
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
      for (const [dir, items] of want) {
        const found = got.get(dir) ?? [];
        // Compared one by one: a 2 MB line in a diff is unreadable.
        assert.equal(found.length, items.length, `records in ${dir}`);
        for (const [i, item] of found.entries())
          assert.ok(item === items[i], `record ${i} of ${dir}: ${item.slice(0, 200)}`);
      }
      assert.deepEqual(await listFiles(client, `${root(format)}/_tmp`, { hidden: true }), []);
    });
  }

  test('every bad record is in <topic>.dlq once, with its origin and its reason', async () => {
    const bad = corpus.flatMap((c, offset) => ('deadLetter' in c.expect ? [{ c, offset }] : []));
    // Three sinks (one per format) each dead-letter every bad record.
    const expected = bad.length * FORMATS.length;
    assert.equal(await topicRecordCount(`${topic}.dlq`), expected);
    const letters = await readRecords(`${topic}.dlq`, expected);
    for (const { c, offset } of bad) {
      const mine = letters.filter((l) => l.headers.get('original_offset') === String(offset));
      assert.equal(mine.length, FORMATS.length, `dead letters of "${c.name}" (offset ${offset})`);
      for (const letter of mine) {
        assert.equal(letter.headers.get('original_topic'), topic);
        assert.equal(letter.headers.get('original_partition'), '0');
        assert.equal(letter.value, c.value.toString(), `the value of "${c.name}" as it was`);
        assert.match(
          letter.headers.get('reason') ?? '',
          (c.expect as { deadLetter: RegExp }).deadLetter,
          c.name,
        );
      }
    }
  });
});
