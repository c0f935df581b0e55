/**
 * Reads the last records of every partition of a topic. The producer seeds its dedup window with their keys at
 * start, so tweets that Kafka acked just before a crash (and the source will deliver again, because its cursor was
 * saved before them) are not published twice; the sink reads the headers of its dead-letter topic's last records
 * for the same reason (records dead-lettered before a crash are consumed again after it).
 */

import { randomUUID } from 'node:crypto';
import { Consumer, type Message, MessagesStreamModes } from '@platformatic/kafka';
import { createAdmin } from './admin.ts';
import type { KafkaConnection } from './client-options.ts';

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

async function readTail(
  conn: KafkaConnection,
  topic: string,
  perPartition: number,
  onMessage: (message: Message<Buffer, Buffer, Buffer, Buffer>) => void,
): Promise<void> {
  const groupId = `tweetpipe-tail-${randomUUID()}`;
  const consumer = new Consumer({ ...conn, groupId, timeout: 10_000, retries: 3 });
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
    const offsets = ends
      .map((end, partition) => {
        const earliest = starts[partition] ?? 0n;
        const from = end - BigInt(perPartition);
        return { topic, partition, offset: from > earliest ? from : earliest, end };
      })
      .filter((p) => p.end > p.offset);
    if (offsets.length === 0) return;
    const remaining = new Map(offsets.map((p) => [p.partition, p.end]));
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.MANUAL,
      offsets: offsets.map(({ topic: t, partition, offset }) => ({ topic: t, partition, offset })),
      autocommit: false,
      maxWaitTime: 500,
    });
    for await (const message of stream) {
      onMessage(message);
      const end = remaining.get(message.partition);
      if (end !== undefined && message.offset + 1n >= end) remaining.delete(message.partition);
      if (remaining.size === 0) break;
    }
    await stream.close();
  } finally {
    await consumer.close(true).catch(() => {});
    const admin = createAdmin(conn);
    await admin.deleteGroups({ groups: [groupId] }).catch(() => {});
    await admin.close().catch(() => {});
  }
}
