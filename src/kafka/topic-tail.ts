/**
 * Reads the last records of every partition of a topic. The producer seeds its dedup window with their keys at
 * start, so tweets that Kafka acked just before a crash (and the source will deliver again, because its cursor was
 * saved before them) are not published twice.
 */

import { randomUUID } from 'node:crypto';
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { createAdmin } from './admin.ts';
import type { KafkaConnection } from './client-options.ts';

/** Keys of up to `perPartition` last records of each partition, oldest first. */
export async function readTailKeys(
  conn: KafkaConnection,
  topic: string,
  perPartition: number,
): Promise<string[]> {
  const groupId = `tweetpipe-tail-${randomUUID()}`;
  const consumer = new Consumer({ ...conn, groupId, timeout: 10_000, retries: 3 });
  const keys: string[] = [];
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
    if (offsets.length === 0) return keys;
    const remaining = new Map(offsets.map((p) => [p.partition, p.end]));
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.MANUAL,
      offsets: offsets.map(({ topic: t, partition, offset }) => ({ topic: t, partition, offset })),
      autocommit: false,
      maxWaitTime: 500,
    });
    for await (const message of stream) {
      if (message.key) keys.push(message.key.toString());
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
  return keys;
}
