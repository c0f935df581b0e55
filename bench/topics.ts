/**
 * Bench topics are created here before tweetpipe or Kafka's tools see them, with settings the synthetic source's
 * virtual clock needs. Its created_at (the record timestamp) starts at a fixed instant (2026-11-25T06:00Z) and
 * advances ~20 ms per tweet, so a million tweets span 5.5 hours: Kafka 4 rejects timestamps more than
 * message.timestamp.after.max.ms (1 hour by default) ahead of the broker's clock, and time-based retention would
 * delete tweets dated long ago. So the topic takes any timestamp and keeps everything; the bench deletes it at the end.
 */
import { createAdmin, ensureTopic } from '../src/kafka/admin.ts';
import { kafkaConnection } from '../src/kafka/client-options.ts';
import type { BenchContext } from './context.ts';

const ANY_TIMESTAMP = String(2n ** 63n - 1n);

export async function createBenchTopic(ctx: BenchContext, topic: string): Promise<void> {
  const admin = createAdmin(kafkaConnection(ctx.config, 'bench'));
  try {
    await ensureTopic(admin, {
      name: topic,
      partitions: ctx.config.topic.partitions,
      replication: ctx.config.topic.replication,
      retentionMs: -1,
      configs: { 'message.timestamp.after.max.ms': ANY_TIMESTAMP },
    });
  } finally {
    await admin.close().catch(() => {});
  }
}
