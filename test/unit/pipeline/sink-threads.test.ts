import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { TweetpipeError } from '../../../src/errors.ts';
import { Metrics } from '../../../src/observe/metrics.ts';
import { followWorker } from '../../../src/pipeline/sink-threads.ts';

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
});
