/**
 * BatchConsumer against the real broker: a member whose Kafka client stops fetching without an error (a fetch
 * callback that never comes: the client then skips that broker for 120 s, and with one broker nothing is fetched)
 * must fail next() with KAFKA_FETCH_STALLED and an error line, so that the sink starts a new consumer instead of
 * sitting silent with lag growing. A healthy member on an idle topic, with the same short bound, must not.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { pino } from 'pino';
import { TweetpipeError } from '../../../src/errors.ts';
import { BatchConsumer } from '../../../src/kafka/batch-consumer.ts';
import { kafkaConnection } from '../../../src/kafka/client-options.ts';
import { createTestTopic, deleteTopics, testConfig, uniqueTopic } from '../../helpers/topics.ts';

const topic = uniqueTopic('fetch-watch');
const RECORDS = 10;
const STALL_MS = 3000;
/** Longer than the bound plus the watch's 5 s period, twice over. */
const WATCH_FOR_MS = 2 * (STALL_MS + 5000);

after(async () => {
  await deleteTopics([topic]);
});

function member(label: string, errors: string[]): BatchConsumer {
  return new BatchConsumer(kafkaConnection(testConfig(), 'test'), {
    groupId: `tp-test-fetch-watch-${label}-${randomUUID()}`,
    topic,
    log: pino({ level: 'error' }, { write: (line: string) => void errors.push(line) }),
    sessionTimeoutMs: 10_000,
    fetchStallMs: STALL_MS,
  });
}

/**
 * next() until `ms` passed; the distinct records it got (as partition:offset), or the error it threw. Distinct,
 * because the consumer delivers at least once (a rejoin fetches again from the group's committed offsets, none
 * here; CI once got one partition's five records twice) and the sink's writers skip offsets they already hold
 * (partition-writer.ts).
 */
async function pollFor(
  consumer: BatchConsumer,
  ms: number,
): Promise<{ records: Set<string>; error?: unknown }> {
  const records = new Set<string>();
  const until = performance.now() + ms;
  while (performance.now() < until) {
    try {
      for (const r of await consumer.next(1000, 500)) records.add(`${r.partition}:${r.offset}`);
    } catch (error) {
      return { records, error };
    }
  }
  return { records };
}

test('setup: a topic of 2 partitions holding a few records', async () => {
  const conn = kafkaConnection(testConfig(), 'test');
  await createTestTopic(topic, 2);
  const producer = new Producer({ ...conn, acks: ProduceAcks.ALL, autocreateTopics: false });
  try {
    await producer.send({
      messages: Array.from({ length: RECORDS }, (_, i) => ({
        topic,
        partition: i % 2,
        key: Buffer.from(String(i)),
        value: Buffer.from(`{"id":"${i}"}`),
      })),
    });
  } finally {
    await producer.close();
  }
});

test('a healthy member on an idle topic is not taken for stalled', async () => {
  const errors: string[] = [];
  const consumer = member('healthy', errors);
  try {
    await consumer.start();
    const polled = await pollFor(consumer, WATCH_FOR_MS);
    assert.equal(polled.error, undefined, `next() failed: ${String(polled.error)}`);
    assert.deepEqual(
      [...polled.records].sort(),
      Array.from({ length: RECORDS }, (_, i) => `${i % 2}:${Math.floor(i / 2)}`).sort(),
    );
    assert.deepEqual(errors, []);
  } finally {
    await consumer.close();
  }
});

test('a member whose client fetches nothing and reports nothing fails next() with KAFKA_FETCH_STALLED and an error line', async () => {
  const errors: string[] = [];
  const consumer = member('stalled', errors);
  try {
    await consumer.start();
    // The client's fetch, from now on, never calls back: what a lost response looks like to its fetch loop.
    const client = (consumer as unknown as { consumer: { fetch: (...args: unknown[]) => unknown } }).consumer;
    client.fetch = () => undefined;
    const polled = await pollFor(consumer, WATCH_FOR_MS);
    assert.ok(polled.error instanceof TweetpipeError, `next() did not fail: ${String(polled.error)}`);
    assert.equal(polled.error.code, 'KAFKA_FETCH_STALLED');
    assert.match(polled.error.message, new RegExp(`partitions 0, 1 of ${topic}`));
    assert.ok(
      errors.some((line) => line.includes('consumer fetching stalled')),
      `no error line in ${JSON.stringify(errors)}`,
    );
  } finally {
    await consumer.close();
  }
});
