import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from '../../../src/observe/metrics.ts';
import { EndToEndLatency } from '../../../src/pipeline/end-to-end-latency.ts';
import type { KafkaRecord } from '../../../src/types.ts';

const run = (partition: number, from: number, to: number, timestamp: number): KafkaRecord[] =>
  Array.from({ length: to - from }, (_, i) => ({
    topic: 't',
    partition,
    offset: BigInt(from + i),
    timestamp,
    key: null,
    value: null,
    headers: new Map(),
  }));

const observations = async (metrics: Metrics): Promise<{ count: number; sum: number }> => {
  const { values } = await metrics.endToEndLatency.get();
  const value = (name: string) => values.find((v) => v.metricName === name)?.value ?? 0;
  return {
    count: value('tweetpipe_end_to_end_latency_seconds_count'),
    sum: value('tweetpipe_end_to_end_latency_seconds_sum'),
  };
};

test('one sample per partition run of a batch, observed when its window commits; re-deliveries add none', async () => {
  const metrics = new Metrics();
  const latency = new EndToEndLatency(metrics);
  const old = Date.now() - 3_600_000;
  latency.put([...run(0, 0, 100, old), ...run(1, 0, 50, Date.now()), ...run(0, 100, 150, Date.now())]);
  latency.committed(0, 50n);
  const first = await observations(metrics);
  assert.equal(first.count, 1);
  // The sample of the run is its first record, the one that waited longest.
  assert.ok(first.sum >= 3600);
  latency.committed(0, 149n);
  latency.committed(1, 49n);
  assert.equal((await observations(metrics)).count, 3);
  latency.put([...run(0, 0, 150, Date.now()), ...run(1, 40, 60, Date.now())]);
  latency.committed(1, 59n);
  latency.committed(0, 200n);
  assert.equal((await observations(metrics)).count, 4);
});
