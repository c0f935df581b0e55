import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Metrics } from '../../../src/observe/metrics.ts';
import { applyMetricOps, forwardMetrics, type MetricOp } from '../../../src/observe/metrics-bridge.ts';

const text = async (m: Metrics, name: string) =>
  (await m.registry.metrics())
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');

describe('metrics bridge', () => {
  test('updates made in a worker reach the main registry, coalesced into one message per flush', async () => {
    const worker = new Metrics({ processMetrics: false });
    const main = new Metrics({ processMetrics: false });
    const messages: MetricOp[][] = [];
    const bridge = forwardMetrics(worker, (ops) => messages.push(structuredClone(ops)));

    worker.written.inc({ topic: 't', format: 'jsonl' }, 500);
    worker.written.inc({ topic: 't', format: 'jsonl' }, 250);
    worker.errors.inc({ stage: 'sink', code: 'HDFS_UNAVAILABLE' });
    worker.lag.set({ topic: 't', partition: '0' }, 40);
    worker.lag.set({ topic: 't', partition: '0' }, 7);
    worker.commitLatency.observe(0.2);
    worker.commitLatency.observe(3);
    worker.endToEndLatency.observe({}, 1.5);
    bridge.flush();
    bridge.flush(); // nothing new: no message
    assert.equal(messages.length, 1);
    for (const ops of messages) applyMetricOps(main, ops);

    assert.equal(await main.total(main.written), 750);
    assert.equal(await main.total(main.errors), 1);
    assert.match(await text(main, 'tweetpipe_consumer_lag'), /partition="0"} 7$/m);
    assert.match(await text(main, 'tweetpipe_commit_latency_seconds_count'), / 2$/);
    assert.match(await text(main, 'tweetpipe_commit_latency_seconds_sum'), / 3.2$/);
    assert.match(await text(main, 'tweetpipe_end_to_end_latency_seconds_count'), / 1$/);
    // The worker's own registry counted too.
    assert.equal(await worker.total(worker.written), 750);
  });

  test('two workers add up', async () => {
    const main = new Metrics({ processMetrics: false });
    for (let i = 0; i < 2; i++) {
      const worker = new Metrics({ processMetrics: false });
      const bridge = forwardMetrics(worker, (ops) => applyMetricOps(main, ops));
      worker.consumed.inc({ topic: 't' }, 1000 * (i + 1));
      bridge.flush();
    }
    assert.equal(await main.total(main.consumed), 3000);
  });
});
