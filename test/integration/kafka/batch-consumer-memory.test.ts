/**
 * BatchConsumer against the real broker: its buffer is bounded in bytes as well as in records, so large records
 * (or a burst of them) cannot take memory without bound while the sink is slow.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from '@platformatic/kafka';
import { pino } from 'pino';
import { CONSUMER_DEFAULTS } from '../../../src/config/kafka.ts';
import { BatchConsumer } from '../../../src/kafka/batch-consumer.ts';
import { kafkaConnection } from '../../../src/kafka/client-options.ts';
import { createTestTopic, deleteTopics, testConfig, uniqueTopic } from '../../helpers/topics.ts';

const topic = uniqueTopic('buffer-bytes');
const RECORD_BYTES = 100 * 1024;
const RECORDS = 200;
const MAX_BUFFERED_BYTES = 1024 * 1024;

after(async () => {
  await deleteTopics([topic]);
});

test('the buffer stops fetching at maxBufferedBytes, however few records that is', async () => {
  const conn = kafkaConnection(testConfig(), 'test');
  await createTestTopic(topic, 1);
  const producer = new Producer({ ...conn, autocreateTopics: false });
  try {
    for (let i = 0; i < RECORDS; i += 5)
      await producer.send({
        messages: Array.from({ length: 5 }, (_, k) => ({
          topic,
          partition: 0,
          key: Buffer.from(String(i + k)),
          value: Buffer.alloc(RECORD_BYTES, 0x61 + (k % 26)),
        })),
      });
  } finally {
    await producer.close();
  }

  const consumer = new BatchConsumer(conn, {
    groupId: `tp-test-buffer-bytes-${randomUUID()}`,
    topic,
    log: pino({ level: 'warn' }),
    maxBufferedBytes: MAX_BUFFERED_BYTES,
  });
  try {
    await consumer.start();
    const first = await consumer.next(1, 30_000);
    assert.equal(first.length, 1, 'nothing fetched within 30 s');
    // Time for the stream to deliver whatever it fetched; a buffer bounded in records only takes all 200 (20 MB).
    await sleep(3000);
    const buffered = await consumer.next(RECORDS, 0);
    const bytes = buffered.reduce((sum, r) => sum + (r.value?.length ?? 0), 0);
    // A fetch lands whole: the one that crosses the bound is kept (its records are decoded by then), and no other
    // fetch starts. One partition: a fetch holds at most fetchMaxBytesPerPartition (plus one batch, here < 1 MiB).
    assert.ok(
      bytes <= MAX_BUFFERED_BYTES + CONSUMER_DEFAULTS.fetchMaxBytesPerPartition,
      `${buffered.length} records, ${bytes} bytes buffered`,
    );
    // Taking them resumed the fetching: the rest comes, nothing is lost.
    let seen = 1 + buffered.length;
    const by = Date.now() + 60_000;
    while (seen < RECORDS && Date.now() < by) seen += (await consumer.next(RECORDS, 1000)).length;
    assert.equal(seen, RECORDS);
  } finally {
    await consumer.close();
  }
});
