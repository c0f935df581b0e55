/**
 * BatchConsumer's reaction to the Kafka client's own 'error' event, which the client emits when rejoining the group
 * after a rebalance failed (the member is then out of its group, with no heartbeat scheduled). No broker is needed:
 * the client connects only when used. The failed rejoin over a real broker is in
 * test/integration/kafka/batch-consumer.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { TweetpipeError } from '../../../src/errors.ts';
import { BatchConsumer } from '../../../src/kafka/batch-consumer.ts';
import { kafkaConnection } from '../../../src/kafka/client-options.ts';
import { testConfig } from '../../helpers/topics.ts';

function consumerWithLog(): {
  consumer: BatchConsumer;
  logs: string[];
  client: { emit(e: string, err: Error): boolean };
} {
  const logs: string[] = [];
  const consumer = new BatchConsumer(kafkaConnection(testConfig(), 'test'), {
    groupId: 'g',
    topic: 't',
    log: pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }),
  });
  // The client's events are its own business; the test plays the client here.
  // biome-ignore lint/complexity/useLiteralKeys: a private member, reached from the test on purpose
  return { consumer, logs, client: consumer['consumer'] };
}

test('a failed rejoin fails the consumer with a retryable error that names the group, logged once', async () => {
  const { consumer, logs, client } = consumerWithLog();
  client.emit('error', new Error('Connection closed'));
  client.emit('error', new Error('Connection closed again'));
  await assert.rejects(consumer.next(10, 10), (err: unknown) => {
    assert.ok(err instanceof TweetpipeError);
    assert.equal(err.retryable, true);
    assert.match(err.message, /rejoining consumer group g: Connection closed$/);
    return true;
  });
  assert.equal(
    logs.filter((l) => l.includes('rejoining the consumer group failed')).length,
    1,
    logs.join('\n'),
  );
  await consumer.close();
});

test('a failed rejoin wakes a next() that waits for records', async () => {
  const { consumer, client } = consumerWithLog();
  const waiting = consumer.next(10, 60_000);
  setImmediate(() => client.emit('error', new Error('Connection closed')));
  await assert.rejects(waiting, /rejoining consumer group g/);
  await consumer.close();
});

test('while closing, the client cutting its own connections is no failure and no log line', async () => {
  const { consumer, logs, client } = consumerWithLog();
  const closing = consumer.close();
  assert.doesNotThrow(() => client.emit('error', new Error('Connection closed')));
  await closing;
  assert.deepEqual(
    logs.filter((l) => l.includes('rejoining')),
    [],
  );
});
