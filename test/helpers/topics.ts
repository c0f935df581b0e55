/**
 * Kafka topics for integration and chaos tests: a unique name per test (tests share one broker and may run in
 * parallel), the topic read back by Kafka's own ConsoleConsumer (an independent reader: a bug in tweetpipe's
 * Kafka code cannot hide itself), a cheap record count for polling, a few full records for header and timestamp
 * checks, and clean-up.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { type Config, loadConfig } from '../../src/config.ts';
import { createAdmin, ensureTopic } from '../../src/kafka/admin.ts';
import { kafkaConnection } from '../../src/kafka/client-options.ts';
import { consoleConsumeKeys } from '../../src/stack/kafka-tools.ts';

/** The config the tests and the CLI under test share: TWEETPIPE_BROKERS etc. from the environment. */
export function testConfig(): Config {
  return loadConfig();
}

export function uniqueTopic(label: string): string {
  return `tp-test-${label}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/** Creates `topic` with `partitions` on the test broker (one replica, kept for ever). */
export async function createTestTopic(topic: string, partitions: number): Promise<void> {
  const admin = createAdmin(kafkaConnection(testConfig(), 'test'));
  try {
    await ensureTopic(admin, { name: topic, partitions, replication: 1, retentionMs: -1 });
  } finally {
    await admin.close();
  }
}

/**
 * Every key of `topic`, read from the beginning by Kafka's ConsoleConsumer. Its `--timeout-ms` also bounds the
 * wait for the first record, which a JVM starting on a loaded machine can miss: a read of nothing from a topic that
 * holds records is taken again, with a longer wait (CI saw 0 keys read from a topic of 4 records).
 */
export async function consoleKeys(topic: string, idleMs = 4000): Promise<string[]> {
  const keys = await consoleConsumeKeys(testConfig(), topic, { idleMs, timeoutMs: 120_000 });
  if (keys.length > 0 || (await topicRecordCount(topic)) === 0) return keys;
  return consoleConsumeKeys(testConfig(), topic, { idleMs: Math.max(idleMs, 15_000), timeoutMs: 120_000 });
}

function testConsumer(config: Config): Consumer {
  return new Consumer({
    ...kafkaConnection(config, 'test'),
    groupId: `tweetpipe-test-${randomUUID()}`,
    timeout: 10_000,
    retries: 3,
  });
}

/** Records in `topic` (end minus start offset, over all partitions); 0 while the topic does not exist. */
export async function topicRecordCount(topic: string): Promise<number> {
  const consumer = testConsumer(testConfig());
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
    return ends.reduce((n, end, p) => n + Number(end - (starts[p] ?? 0n)), 0);
  } catch {
    return 0;
  } finally {
    await consumer.close(true).catch(() => {});
  }
}

export interface ReadRecord {
  partition: number;
  key: string | undefined;
  value: string;
  timestamp: number;
  headers: Map<string, string>;
}

/** The first `count` records of `topic` (from the earliest offsets), with headers and timestamps. */
export async function readRecords(topic: string, count: number, timeoutMs = 20_000): Promise<ReadRecord[]> {
  const config = testConfig();
  const consumer = testConsumer(config);
  const out: ReadRecord[] = [];
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 500,
    });
    const stop = () => void stream.close().catch(() => {});
    deadline.addEventListener('abort', stop, { once: true });
    try {
      for await (const m of stream) {
        out.push({
          partition: m.partition,
          key: m.key?.toString(),
          value: m.value.toString(),
          timestamp: Number(m.timestamp),
          headers: new Map([...m.headers].map(([k, v]) => [k.toString(), v.toString()])),
        });
        if (out.length >= count) break;
      }
    } finally {
      deadline.removeEventListener('abort', stop);
      await stream.close().catch(() => {});
    }
  } finally {
    await consumer.close(true).catch(() => {});
    const admin = createAdmin(kafkaConnection(config, 'test'));
    await admin.deleteGroups({ groups: [consumer.groupId] }).catch(() => {});
    await admin.close().catch(() => {});
  }
  return out;
}

/** Deletes test topics (best effort: a leftover topic only costs disk). */
export async function deleteTopics(topics: string[]): Promise<void> {
  const admin = createAdmin(kafkaConnection(testConfig(), 'test'));
  try {
    const existing = new Set(await admin.listTopics({ includeInternals: false }));
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  } catch {
    // best effort
  } finally {
    await admin.close().catch(() => {});
  }
}
