/**
 * The sink's end-to-end latency (tweet created_at -> its window committed to HDFS), sampled: of each run of one
 * partition in a polled batch, the first record not seen before is remembered, and observed once a window covering
 * it commits. A fetch hands out a few runs of thousands of records, so this costs a few observations per batch
 * instead of one per record; the first record of a run waited longest for the fetch, so the samples do not
 * flatter the latency.
 */
import type { Metrics } from '../observe/metrics.ts';
import type { KafkaRecord } from '../types.ts';

interface Pending {
  /** Sampled offsets, ascending, and their record timestamps. */
  offsets: bigint[];
  times: number[];
  /** The highest offset put so far: records at or below it are re-deliveries (after a rebalance or a reset). */
  seen: bigint;
}

export class EndToEndLatency {
  readonly #metrics: Metrics;
  readonly #pending = new Map<number, Pending>();

  constructor(metrics: Metrics) {
    this.#metrics = metrics;
  }

  /** Records about to be put: one sample per partition run; re-delivered ones are already counted or in HDFS. */
  put(records: readonly KafkaRecord[]): void {
    let pending: Pending | undefined;
    let partition = -1;
    let sampled = false;
    for (const r of records) {
      if (r.partition !== partition) {
        partition = r.partition;
        pending = this.#pending.get(partition);
        if (!pending) {
          pending = { offsets: [], times: [], seen: -1n };
          this.#pending.set(partition, pending);
        }
        sampled = false;
      }
      // pending is set: the first record always starts a run.
      const p = pending as Pending;
      if (r.offset <= p.seen) continue;
      p.seen = r.offset;
      if (sampled) continue;
      sampled = true;
      p.offsets.push(r.offset);
      p.times.push(r.timestamp);
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
