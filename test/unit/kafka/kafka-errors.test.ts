import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetworkError, ProtocolError, ResponseError } from '@platformatic/kafka';
import { kafkaError } from '../../../src/kafka/kafka-errors.ts';

// The Kafka client's own error classes, as it builds them from a broker's answer (ResponseError wraps one
// ProtocolError per failed entry) or from a socket failure.
const refusedCreate = (code: string, message: string) =>
  new ResponseError(19, 7, { '/topics/0': [code === 'TOPIC_AUTHORIZATION_FAILED' ? 29 : 38, message] }, {});

test('a permission refusal is final, coded KAFKA_DENIED, and names the broker error and message', () => {
  const err = kafkaError(
    'cannot create topic t.dlq',
    refusedCreate('TOPIC_AUTHORIZATION_FAILED', 'Authorization failed.'),
  );
  assert.equal(err.code, 'KAFKA_DENIED');
  assert.equal(err.retryable, false);
  assert.match(err.message, /TOPIC_AUTHORIZATION_FAILED/);
  assert.match(err.message, /Authorization failed\./);
});

test('another refusal (a replication factor above the broker count) is final too, coded KAFKA', () => {
  const err = kafkaError(
    'cannot create topic t',
    refusedCreate('INVALID_REPLICATION_FACTOR', 'factor 3 > 1 broker'),
  );
  assert.equal(err.code, 'KAFKA');
  assert.equal(err.retryable, false);
  assert.match(err.message, /INVALID_REPLICATION_FACTOR: factor 3 > 1 broker/);
});

test('a broker that is unreachable or a leader that moves stays retryable', () => {
  assert.equal(kafkaError('producing', new NetworkError('Connection closed')).retryable, true);
  assert.equal(kafkaError('producing', new ProtocolError('NOT_LEADER_OR_FOLLOWER')).retryable, true);
  assert.equal(kafkaError('producing', new Error('anything else')).retryable, true);
});
