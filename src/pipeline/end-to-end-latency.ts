/**
 * The sink's end-to-end latency (tweet created_at -> its window committed to HDFS): remembers the timestamps of
 * records put and not yet committed, per partition, and observes them once a window covering them commits.
 */
import type { Metrics } from '../observe/metrics.ts';
import type { KafkaRecord } from '../types.ts';

export class EndToEndLatency {
  readonly #metrics: Metrics;
  readonly #pending = new Map<number, { offsets: bigint[]; times: number[] }>();

  constructor(metrics: Metrics) {
    this.#metrics = metrics;
  }

  /** Records about to be put; re-delivered ones (after a rebalance or reset) are already counted or in HDFS. */
  put(records: readonly KafkaRecord[]): void {
    for (const r of records) {
      let pending = this.#pending.get(r.partition);
      if (!pending) {
        pending = { offsets: [], times: [] };
        this.#pending.set(r.partition, pending);
      }
      const last = pending.offsets[pending.offsets.length - 1];
      if (last !== undefined && r.offset <= last) continue;
      pending.offsets.push(r.offset);
      pending.times.push(r.timestamp);
    }
  }

  /** A window of `partition` up to `endOffset` (inclusive) committed. */
  committed(partition: number, endOffset: bigint): void {
    const pending = this.#pending.get(partition);
    if (!pending) return;
    const now = Date.now();
    let i = 0;
    for (; i < pending.offsets.length && pending.offsets[i]! <= endOffset; i++)
      this.#metrics.endToEndLatency.observe(Math.max(0, now - pending.times[i]!) / 1000);
    pending.offsets.splice(0, i);
    pending.times.splice(0, i);
  }

  /** Forgets partitions whose open windows were dropped. */
  forget(partitions?: readonly number[]): void {
    if (partitions === undefined) this.#pending.clear();
    else for (const p of partitions) this.#pending.delete(p);
  }
}
