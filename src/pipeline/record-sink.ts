/**
 * What the sink loop writes into: the sink task (src/sink/sink-task.ts, whose header has the full contract), seen
 * from the loop, after Kafka Connect's SinkTask (open / put / preCommit / close).
 *
 * Call protocol (what sink-loop.ts does), one call at a time:
 * - open(partitions) before the first put() of a partition's records, and again after a reset or a rebalance gave
 *   the partition back: returns the next offset HDFS holds per partition (null: nothing yet), which the loop
 *   commits to the group.
 * - put(records) with every non-empty polled batch.
 * - maybeRotate(now) after every poll, empty or not; maybeRotate(Infinity) commits every open window.
 * - preCommit() after every poll: the offsets made durable since the last call; the loop commits them to Kafka.
 * - close(partitions, {abort: true}) for partitions revoked by a rebalance and for every open partition on a
 *   reset; close(all, {abort: false}) on shutdown, bounded by a grace period after which the loop aborts instead.
 * - Any of them may throw: the loop resets (aborts every open partition, builds a new source) unless the error's
 *   code says no reset can mend it.
 */
import type { SinkTask } from '../sink/sink-task.ts';

export type RecordSink = Pick<SinkTask, 'open' | 'put' | 'maybeRotate' | 'preCommit' | 'close'>;
