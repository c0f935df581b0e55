import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { TweetpipeError } from '../../../src/errors.ts';
import { readRecordBatches } from '../../../src/kafka/record-batch.ts';
import { encodeRecordBatch } from '../../../src/kafka/record-batch-encode.ts';
import { decodeRecords } from '../../../src/kafka/record-batch-records.ts';
import { Metrics } from '../../../src/observe/metrics.ts';
import { followWorker, postablePoison } from '../../../src/pipeline/sink-threads.ts';
import type { KafkaRecord } from '../../../src/types.ts';

describe('sink worker threads', () => {
  test("a worker's error arrives with its code, retryable flag, details and cause chain", async () => {
    const worker = new Worker(new URL('./fixtures/failing-sink-thread.ts', import.meta.url));
    const metrics = new Metrics({ processMetrics: false });
    const err = await followWorker(worker, 0, { metrics }).then(
      () => assert.fail('the worker failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TweetpipeError);
    assert.equal(err.code, 'HDFS_REMOTE');
    assert.equal(err.retryable, true);
    assert.deepEqual(err.details, { topic: 'tweets', partition: 3, endOffset: 99n });
    const network = err.cause;
    assert.ok(network instanceof TweetpipeError, 'the cause is a TweetpipeError again');
    assert.equal(network.code, 'NETWORK');
    assert.equal(network.retryable, true);
    const socket = network.cause;
    assert.ok(socket instanceof Error);
    assert.equal((socket as Error & { code?: string }).code, 'ECONNRESET');
    assert.equal(socket.message, 'read ECONNRESET');
  });

  test('a decoded poison record crosses to the main thread with its key, value, timestamp and headers', () => {
    const batch = encodeRecordBatch(
      [{ id: '1900000000000000007', createdAtMs: Date.UTC(2026, 0, 2), value: Buffer.from('not json') }],
      [[Buffer.from('source'), Buffer.from('replay')]],
      'zstd',
    );
    const records: KafkaRecord[] = [];
    decodeRecords(readRecordBatches(batch)[0]!, 'tweets', 1, 0, records);
    const poison = { reason: 'not a JSON object', record: records[0]! };
    // What postMessage does to the event's argument.
    const crossed = structuredClone(postablePoison(poison));
    assert.equal(Buffer.from(crossed.record.key!).toString(), '1900000000000000007');
    assert.equal(Buffer.from(crossed.record.value!).toString(), 'not json');
    assert.equal(crossed.record.timestamp, Date.UTC(2026, 0, 2));
    assert.equal(crossed.record.offset, 0n);
    assert.equal(Buffer.from(crossed.record.headers.get('source')!).toString(), 'replay');
    assert.equal(crossed.reason, 'not a JSON object');
  });
});
