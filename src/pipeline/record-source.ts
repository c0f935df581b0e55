/**
 * What the sink loop consumes: one member of the sink's consumer group (src/kafka/batch-consumer.ts in production,
 * an in-memory double in test/unit/pipeline/). After Benthos' input and Kafka Connect's consumer side.
 *
 * Call protocol (what sink-loop.ts does):
 * - onRebalance(listener) once, before start(). The source calls the listener after every group (re)join with the
 *   partitions it now owns; from then on next() hands out records of those partitions only. The loop acts on the
 *   latest assignment before its next poll (it closes the partitions it lost).
 * - start() once: joins the group and resumes from the group's committed offsets. May throw (a broker refusing
 *   the group: KAFKA_DENIED, KAFKA_AUTH are final).
 * - next(max, waitMs) in a loop, one call at a time: up to `max` records in offset order per partition, waiting
 *   at most `waitMs` for the first (an empty batch is normal). Throws once the source failed; the loop then
 *   closes it and builds a new one (a reset) that resumes from the committed offsets. The records' bytes (value,
 *   key, headers) are valid until the next call: the consumer reuses the buffers they are views of (a record held
 *   past it reads as empty, src/kafka/reused-buffers.ts), so whatever keeps bytes longer copies them (the encoders
 *   do; dead letters are encoded before put() returns).
 * - commit(offsets) with the next offset to read per partition, only offsets HDFS holds. Best effort: a failed
 *   commit is logged, not thrown (HDFS is the truth; the next commit catches up).
 * - lag() any time after start(): per partition of the topic, committed offset, end offset and the records between.
 * - close() exactly once, on every path out (stop, reset, final error); never throws, and is bounded in time.
 */
import type { PartitionLag } from '../kafka/batch-consumer.ts';
import type { KafkaRecord, TopicPartition } from '../types.ts';

export interface RecordSource {
  onRebalance(listener: (assigned: readonly TopicPartition[]) => void): void;
  start(): Promise<void>;
  next(max: number, waitMs: number): Promise<KafkaRecord[]>;
  commit(offsets: ReadonlyMap<number, bigint>): Promise<void>;
  lag(): Promise<Map<number, PartitionLag>>;
  close(): Promise<void>;
}
