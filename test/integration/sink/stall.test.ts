/**
 * No silent stall: the wedge users met. The sink's dead-letter topic disappears (deleted, or never creatable) and a
 * malformed record arrives: the sink retries the dead-letter send and writes nothing more. Past health.stallAfterS
 * (5 s here) it must say so: `/readyz` 503 with `stall:sink` naming the failing code, `tweetpipe_stalled{stage="sink"}`
 * 1, `tweetpipe_stalls_total` counted, one error line "stalled: ...". Once the topic is back the record goes out,
 * with its key, and the sink is ready again.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { createAdmin, ensureTopic } from '../../../src/kafka/admin.ts';
import { kafkaConnection } from '../../../src/kafka/client-options.ts';
import { startCli, stopCli } from '../../helpers/cli.ts';
import { testHdfsClient } from '../../helpers/hdfs-readback.ts';
import { sinkArgs } from '../../helpers/sink-chaos.ts';
import { deleteTopics, readRecords, testConfig, uniqueTopic } from '../../helpers/topics.ts';

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

test('a sink wedged on its dead-letter topic turns not-ready, counts and logs the stall, and recovers', async (t) => {
  const config = testConfig();
  const topic = uniqueTopic('sink-stall');
  const dlq = `${topic}.dlq`;
  const root = `/tmp/tweetpipe-sink-stall-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
  const client = testHdfsClient();
  t.after(async () => {
    await deleteTopics([topic, dlq]);
    await client.delete(root, { recursive: true }).catch(() => {});
    await client.close();
  });
  const admin = createAdmin(kafkaConnection(config, 'test'));
  t.after(() => admin.close());
  await ensureTopic(admin, { name: topic, partitions: 1, replication: 1, retentionMs: -1 });

  const sink = startCli(
    sinkArgs({ topic, root, group: `tp-test-stall-${randomUUID()}` }, [
      ...['--format', 'jsonl', '--max-age', '1', '--metrics-port', '0'],
    ]),
    { TWEETPIPE_HEALTH_STALL_AFTER_S: '5' },
  );
  t.after(() => stopCli(sink, 'SIGKILL'));
  const listening = await sink.waitForLog((l) => l.msg === 'dashboard and metrics listening', 60_000);
  const url = String(listening.url);
  await until('the dead-letter topic the sink creates at start', 30_000, async () =>
    (await admin.listTopics()).includes(dlq) ? true : undefined,
  );
  await until('a ready sink', 30_000, async () =>
    (await get(`${url}/readyz`)).status === 200 ? true : undefined,
  );

  await admin.deleteTopics({ topics: [dlq] });
  const producer = new Producer({ ...kafkaConnection(config, 'test'), acks: ProduceAcks.ALL });
  t.after(() => producer.close());
  await producer.send({
    messages: [{ topic, key: Buffer.from('poison-key'), value: Buffer.from('not json at all') }],
  });

  const stalled = await until('/readyz to report the stall', 90_000, async () => {
    const r = await get(`${url}/readyz`);
    return r.status === 503 && r.body.includes('stall:sink') ? r : undefined;
  });
  const check = (JSON.parse(stalled.body) as { checks: Record<string, { ok: boolean; detail: string }> })
    .checks['stall:sink'];
  assert.equal(check?.ok, false);
  assert.match(check.detail, /sink stalled: \d+ errors \(KAFKA\)/);
  const metrics = (await get(`${url}/metrics`)).body;
  assert.match(metrics, /^tweetpipe_stalled\{stage="sink"\} 1$/m);
  assert.match(metrics, /^tweetpipe_stalls_total\{stage="sink"\} 1$/m);
  const line = await sink.waitForLog((l) => l.level >= 50 && l.msg.startsWith('stalled: '), 10_000);
  assert.match(line.msg, /no record written to HDFS or dead-lettered/);

  await ensureTopic(admin, { name: dlq, partitions: 1, replication: 1, retentionMs: -1 });
  await until('/readyz ready again', 90_000, async () =>
    (await get(`${url}/readyz`)).status === 200 ? true : undefined,
  );
  const [letter] = await readRecords(dlq, 1, 30_000);
  assert.equal(letter?.key, 'poison-key');
  assert.equal(letter?.value, 'not json at all');
  assert.match((await get(`${url}/metrics`)).body, /^tweetpipe_stalled\{stage="sink"\} 0$/m);

  const exit = await stopCli(sink, 'SIGTERM');
  assert.equal(exit.code, 0, sink.stderr().slice(-2000));
});
