/**
 * A topic someone else fills with a transactional producer (Kafka Streams, Flink, Connect exactly-once): each
 * transaction ends on a commit marker, an offset no consumer receives, and an aborted transaction leaves records a
 * read_committed consumer never sees. The sink must write exactly the committed records and still find itself
 * caught up (--exit-when-idle used to exit 1, one "record" short of a marker), and the producer's start-up read of
 * the topic's end must not wait for a last offset that never comes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { createAdmin, ensureTopic } from '../../../src/kafka/admin.ts';
import { kafkaConnection } from '../../../src/kafka/client-options.ts';
import { runCli } from '../../helpers/cli.ts';
import { testHdfsClient, verifySinkOutput } from '../../helpers/hdfs-readback.ts';
import { LOG, sinkArgs } from '../../helpers/sink-chaos.ts';
import { deleteTopics, testConfig, uniqueTopic } from '../../helpers/topics.ts';

test('a topic written in transactions: committed records once in HDFS, aborted ones never, exit 0; produce starts on it', async (t) => {
  const config = testConfig();
  const topic = uniqueTopic('transactional');
  const run = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  const root = `/tmp/tweetpipe-transactional-${run}`;
  const client = testHdfsClient();
  t.after(async () => {
    await deleteTopics([topic, `${topic}.dlq`]);
    await client.delete(root, { recursive: true }).catch(() => {});
    await client.close();
  });
  const admin = createAdmin(kafkaConnection(config, 'test'));
  await ensureTopic(admin, { name: topic, partitions: 2, replication: 1, retentionMs: -1 }).finally(() =>
    admin.close(),
  );

  const producer = new Producer({
    ...kafkaConnection(config, 'test'),
    idempotent: true,
    transactionalId: `tp-test-${run}`,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
  });
  const committed: string[] = [];
  const createdAt = Date.now() - 3600_000;
  const batch = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => {
      const id = String(1_870_000_000_000_000_000n + BigInt(from + i));
      return {
        topic,
        partition: (from + i) % 2,
        key: Buffer.from(id),
        value: Buffer.from(
          JSON.stringify({ id, created_at: new Date(createdAt).toISOString(), text: `t ${id}` }),
        ),
        timestamp: BigInt(createdAt),
      };
    });
  try {
    for (const [from, commit] of [
      [0, true],
      [100, false],
      [200, true],
    ] as const) {
      const tx = await producer.beginTransaction({});
      const messages = batch(from, 100);
      await tx.send({ messages });
      if (commit) {
        await tx.commit();
        committed.push(...messages.map((m) => m.key.toString()));
      } else await tx.abort();
    }
  } finally {
    await producer.close();
  }

  const sink = await runCli(
    sinkArgs({ topic, root, group: `tp-test-transactional-${run}` }, [
      '--format',
      'jsonl',
      '--exit-when-idle',
      '3',
    ]),
    { TWEETPIPE_HEALTH_STALL_AFTER_S: '20' },
    120_000,
  );
  assert.equal(sink.code, 0, sink.stderr.slice(-3000));
  const out = await verifySinkOutput(client, {
    root,
    topic,
    expectedIds: committed,
    // Offsets that hold aborted records or markers are in no file.
    skipped: new Map([0, 1].map((p) => [p, new Set(Array.from({ length: 400 }, (_, o) => BigInt(o)))])),
  });
  assert.equal(out.distinctIds, committed.length);
  assert.equal(out.records, committed.length);

  const produce = await runCli(
    ['produce', '--source', 'synthetic', '--max-tweets', '10', '--topic', topic, ...LOG],
    { TWEETPIPE_PRODUCER_STATE_DIR: `/tmp/tweetpipe-transactional-state-${run}` },
    90_000,
  );
  assert.equal(produce.code, 0, produce.stderr.slice(-3000));
});
