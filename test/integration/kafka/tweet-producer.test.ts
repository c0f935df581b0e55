/**
 * TweetProducer's encoded record batches (src/kafka/record-batch-encode*.ts) against the real broker: what lands
 * is the record contract, in the partition the key picks, once; a batch sent again as the client's retry sends
 * it (same producer, same stamp) is deduplicated by the broker's idempotence check; dead letters are encoded
 * here too, each with its own key, timestamp and headers.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type Callback, type Connection, kGetConnection, NetworkError } from '@platformatic/kafka';
import { createAdmin, ensureTopic } from '../../../src/kafka/admin.ts';
import { kafkaConnection } from '../../../src/kafka/client-options.ts';
import { murmur2 } from '../../../src/kafka/key-partitioner.ts';
import { encodeRecordBatch } from '../../../src/kafka/record-batch-encode.ts';
import { PreEncodedProducer } from '../../../src/kafka/record-batch-encode-produce.ts';
import { dlqTopic, TweetProducer } from '../../../src/kafka/tweet-producer.ts';
import { RECORD_SCHEMA_VERSION, type TweetRecord } from '../../../src/types.ts';
import {
  deleteTopics,
  readRecords,
  testConfig,
  topicRecordCount,
  uniqueTopic,
} from '../../helpers/topics.ts';

const PARTITIONS = 3;
const topic = uniqueTopic('encoded');
const retryTopic = uniqueTopic('encoded-retry');
const lostTopic = uniqueTopic('encoded-lost');
const letterTopic = uniqueTopic('encoded-letters');
const conn = kafkaConnection(testConfig(), 'test');

after(async () => {
  await deleteTopics([topic, dlqTopic(topic), retryTopic, lostTopic, letterTopic, dlqTopic(letterTopic)]);
});

async function createTopics(...names: string[]): Promise<void> {
  const admin = createAdmin(conn);
  try {
    for (const name of names)
      await ensureTopic(admin, { name, partitions: PARTITIONS, replication: 1, retentionMs: -1 });
  } finally {
    await admin.close();
  }
}

const DAY = 86_400_000;
/** `n` tweets; created_at spread over 60 days (deltas within a batch past 2^31 ms), out of order. */
function tweets(n: number, from: number): TweetRecord[] {
  const base = Date.now() - 70 * DAY;
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const createdAtMs = base + ((i * 7919) % 60) * DAY + i;
    const id = String(1_900_000_000_000_000_000n + BigInt(i) * 104_729n);
    return { id, createdAtMs, value: Buffer.from(JSON.stringify({ id, n: i, text: 'é✓ '.repeat(i % 50) })) };
  });
}

test('records land once, in the partition of their key, with key, value, timestamp and headers', async () => {
  await createTopics(topic, dlqTopic(topic));
  const producer = new TweetProducer(conn, 'replay', { topic, compression: 'zstd' });
  const sent: TweetRecord[] = [];
  try {
    for (let b = 0; b < 4; b++) {
      const batch = tweets(250, b * 250);
      sent.push(...batch);
      await producer.send(batch);
      if (b === 1)
        await producer.sendDeadLetters(
          [{ raw: Buffer.from('{"no":"id"}'), reason: 'data without a string id' }],
          {
            stage: 'source',
          },
        );
    }
  } finally {
    await producer.close();
  }
  assert.equal(await topicRecordCount(topic), sent.length, 'each record once');
  const read = await readRecords(topic, sent.length);
  const byKey = new Map(sent.map((r) => [r.id, r]));
  assert.equal(read.length, sent.length);
  for (const r of read) {
    const original = byKey.get(r.key ?? '');
    assert.ok(original, `key ${r.key} was sent`);
    assert.equal(
      r.partition,
      (murmur2(Buffer.from(original.id)) >>> 0) % PARTITIONS,
      'the key picks the partition',
    );
    assert.equal(r.value, original.value.toString());
    assert.equal(r.timestamp, original.createdAtMs);
    assert.deepEqual(Object.fromEntries(r.headers), {
      source: 'replay',
      schema_version: String(RECORD_SCHEMA_VERSION),
    });
    byKey.delete(original.id);
  }
  const [letter] = await readRecords(dlqTopic(topic), 1);
  assert.equal(letter?.value, '{"no":"id"}');
  assert.equal(letter?.headers.get('reason'), 'data without a string id');
});

test("sink dead letters keep their records' keys, timestamps years apart and headers, in their key's partition", async () => {
  await createTopics(letterTopic, dlqTopic(letterTopic));
  const producer = new TweetProducer(conn, 'replay', { topic: letterTopic, compression: 'zstd' });
  // Same key, so one partition and one batch: timestamps 2^31 ms and more from the batch's first record.
  const key = Buffer.from('1900000000000000042');
  const originals = [Date.UTC(2019, 0, 1), Date.UTC(2026, 5, 1), Date.UTC(2019, 0, 20), -1].map(
    (timestamp, i) => ({
      topic: letterTopic,
      partition: 2,
      offset: BigInt(100 + i),
      timestamp,
      key,
      value: Buffer.from(`not json ${i}`),
      headers: new Map([
        ['source', Buffer.from('replay')],
        ['reason', Buffer.from('an older reason, replaced')],
      ]),
    }),
  );
  const before = Date.now();
  try {
    await producer.sendDeadLetters(
      originals.map((record, i) => ({ raw: record.value, reason: `bad ${i}`, record })),
      { stage: 'sink', group: 'g-letters' },
    );
  } finally {
    await producer.close();
  }
  const read = await readRecords(dlqTopic(letterTopic), originals.length);
  assert.equal(read.length, originals.length);
  const order = read.map((r) => r.value);
  assert.deepEqual(order, ['not json 0', 'not json 1', 'not json 2', 'not json 3'], 'in order, each once');
  for (const [i, r] of read.entries()) {
    assert.equal(r.partition, (murmur2(key) >>> 0) % PARTITIONS, 'the key picks the partition');
    assert.equal(r.key, key.toString());
    if (i < 3) assert.equal(r.timestamp, originals[i]!.timestamp, `letter ${i} keeps its record's timestamp`);
    else assert.ok(r.timestamp >= before, 'a record without a timestamp gets the time of sending');
    assert.deepEqual(Object.fromEntries(r.headers), {
      source: 'replay',
      reason: `bad ${i}`,
      stage: 'sink',
      sink_group: 'g-letters',
      original_topic: letterTopic,
      original_partition: '2',
      original_offset: String(100 + i),
    });
  }
});

test('a batch sent again with its stamp, as a retry after a broker error sends it, is stored once', async () => {
  await createTopics(retryTopic);
  const producer = new PreEncodedProducer({ ...conn, idempotent: true, acks: -1, compression: 'zstd' });
  try {
    const first = encodeRecordBatch(tweets(40, 0), [], 'zstd');
    const second = encodeRecordBatch(tweets(30, 40), [], 'zstd');
    await producer.sendBatches(retryTopic, [{ partition: 1, batch: first }]);
    await producer.sendBatches(retryTopic, [{ partition: 1, batch: first }]);
    await producer.sendBatches(retryTopic, [{ partition: 1, batch: second }]);
  } finally {
    await producer.close();
  }
  assert.equal(
    await topicRecordCount(retryTopic),
    70,
    'the resent batch was deduplicated, the next one appended',
  );
});

/**
 * The broker appends the first Produce request, but its response is lost on the way back (reported as a
 * retryable network error): the client's own retry sends the request again.
 */
class LosesFirstProduceResponse extends PreEncodedProducer {
  lost = 0;

  override [kGetConnection](
    broker: Parameters<PreEncodedProducer[typeof kGetConnection]>[0],
    callback: Callback<Connection>,
  ): void {
    super[kGetConnection](broker, (error, connection) => {
      if (error || !connection) return callback(error, connection);
      const send = connection.send.bind(connection);
      connection.send = ((apiKey, version, payload, parser, requestTags, responseTags, done) =>
        send(apiKey, version, payload, parser, requestTags, responseTags, (err, response) => {
          if (apiKey === 0 && this.lost === 0) {
            this.lost++;
            done(new NetworkError('the Produce response was lost (test)'));
          } else done(err, response);
        })) as Connection['send'];
      callback(null, connection);
    });
  }
}

test("after a lost Produce response the client's retry resends the batch as it was, and the broker keeps it once", async () => {
  await createTopics(lostTopic);
  const producer = new LosesFirstProduceResponse({
    ...conn,
    idempotent: true,
    acks: -1,
    compression: 'zstd',
    retries: 3,
    retryDelay: 50,
  });
  try {
    await producer.sendBatches(lostTopic, [
      { partition: 0, batch: encodeRecordBatch(tweets(25, 0), [], 'zstd') },
    ]);
    await producer.sendBatches(lostTopic, [
      { partition: 0, batch: encodeRecordBatch(tweets(5, 25), [], 'zstd') },
    ]);
  } finally {
    await producer.close();
  }
  assert.equal(producer.lost, 1, 'one response was lost and the send still succeeded');
  assert.equal(await topicRecordCount(lostTopic), 30, 'the retried batch was stored once');
});
