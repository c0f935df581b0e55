/**
 * Reads the records at the end of a topic with a throwaway consumer. The producer seeds its dedup window with the
 * keys of the last records at start, so tweets that Kafka acked just before a crash (and the source will deliver
 * again, because its cursor was saved before them) are not published twice; the sink reads the headers of its
 * dead-letter topic's last records for the same reason (records dead-lettered before a crash are consumed again
 * after it), and asks whether a partition still holds any record past its committed offset.
 *
 * A read ends at the end offset or after TOPIC_TAIL_DEFAULTS.quietMs without a record: the offsets up to the end
 * are not all records.
 * A topic written by a transactional producer (Kafka Streams, Flink, Kafka Connect exactly-once) ends on a commit
 * marker, and a consumer never receives markers or aborted records, so waiting for the last offset would wait
 * for ever.
 */

import { randomUUID } from 'node:crypto';
import { Consumer, type Message, MessagesStreamModes } from '@platformatic/kafka';
import { TOPIC_TAIL_DEFAULTS } from '../config/kafka.ts';
import { createAdmin } from './admin.ts';
import type { KafkaConnection } from './client-options.ts';

type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** Keys of up to `perPartition` last records of each partition, oldest first. */
export async function readTailKeys(
  conn: KafkaConnection,
  topic: string,
  perPartition: number,
): Promise<string[]> {
  const keys: string[] = [];
  await readTail(conn, topic, perPartition, (message) => {
    if (message.key) keys.push(message.key.toString());
  });
  return keys;
}

/** Headers (names and values as strings) of up to `perPartition` last records of each partition. */
export async function readTailHeaders(
  conn: KafkaConnection,
  topic: string,
  perPartition: number,
): Promise<Map<string, string>[]> {
  const out: Map<string, string>[] = [];
  await readTail(conn, topic, perPartition, (message) => {
    out.push(new Map([...message.headers].map(([k, v]) => [k.toString(), v.toString()])));
  });
  return out;
}

/**
 * Whether a consumer (read_committed) receives any record of `partition` at or after `offset`: the offsets
 * between a group's committed offset and the end may hold only transaction markers and aborted records.
 */
export async function holdsRecordsFrom(
  conn: KafkaConnection,
  topic: string,
  partition: number,
  offset: bigint,
  end: bigint,
): Promise<boolean> {
  let found = false;
  await withThrowawayConsumer(conn, (consumer) =>
    readRange(consumer, topic, [{ partition, offset, end }], () => {
      found = true;
      return false;
    }),
  );
  return found;
}

async function readTail(
  conn: KafkaConnection,
  topic: string,
  perPartition: number,
  onMessage: (message: RawMessage) => void,
): Promise<void> {
  await withThrowawayConsumer(conn, async (consumer) => {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
    const ranges = ends.map((end, partition) => {
      const earliest = starts[partition] ?? 0n;
      const from = end - BigInt(perPartition);
      return { partition, offset: from > earliest ? from : earliest, end };
    });
    await readRange(consumer, topic, ranges, (message) => {
      onMessage(message);
      return true;
    });
  });
}

/**
 * Reads each partition from `offset` up to `end` (exclusive), or until TOPIC_TAIL_DEFAULTS.quietMs pass without a
 * record; `onMessage` returning false stops the read.
 */
async function readRange(
  consumer: Consumer,
  topic: string,
  ranges: { partition: number; offset: bigint; end: bigint }[],
  onMessage: (message: RawMessage) => boolean,
): Promise<void> {
  const open = ranges.filter((r) => r.end > r.offset);
  if (open.length === 0) return;
  const remaining = new Map(open.map((r) => [r.partition, r.end]));
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.MANUAL,
    offsets: open.map(({ partition, offset }) => ({ topic, partition, offset })),
    autocommit: false,
    maxWaitTime: 500,
  });
  let quiet: NodeJS.Timeout | undefined;
  const stopWhenQuiet = () => {
    clearTimeout(quiet);
    quiet = setTimeout(() => void stream.close().catch(() => {}), TOPIC_TAIL_DEFAULTS.quietMs);
  };
  stopWhenQuiet();
  try {
    for await (const message of stream) {
      stopWhenQuiet();
      if (!onMessage(message)) break;
      const end = remaining.get(message.partition);
      if (end !== undefined && message.offset + 1n >= end) remaining.delete(message.partition);
      if (remaining.size === 0) break;
    }
  } finally {
    clearTimeout(quiet);
    await stream.close().catch(() => {});
  }
}

async function withThrowawayConsumer(
  conn: KafkaConnection,
  fn: (consumer: Consumer) => Promise<void>,
): Promise<void> {
  const groupId = `tweetpipe-tail-${randomUUID()}`;
  const consumer = new Consumer({
    ...conn,
    groupId,
    timeout: TOPIC_TAIL_DEFAULTS.requestTimeoutMs,
    retries: TOPIC_TAIL_DEFAULTS.retries,
  });
  try {
    await fn(consumer);
  } finally {
    await consumer.close(true).catch(() => {});
    const admin = createAdmin(conn);
    await admin.deleteGroups({ groups: [groupId] }).catch(() => {});
    await admin.close().catch(() => {});
  }
}
