/**
 * Takes the record batches out of a Fetch response, for the sink's KafkaRecords, before @platformatic/kafka's
 * MessagesStream sees them.
 *
 * Why: for every record, the stream builds a spread copy of it, a diagnostics context, a bound commit closure, a
 * headers Map plus an entries array, a message object with metadata, and pushes that object through a Node
 * Readable; the consumer then copied it into a KafkaRecord. That bookkeeping cost more CPU than decompressing and
 * decoding the batch (the profile of the sink process, docs/benchmarks.md). The client has no option to skip it,
 * so BatchConsumer wraps its `fetch`: the response (parsed by record-batch-fetch.ts, so its batches hold their
 * records still encoded, and already filtered of aborted transactions in read_committed) passes through here, and
 * the records of each data batch are decoded (record-batch-records.ts). The batches hold no decoded records (but
 * control batches, which the stream skips), so the stream still walks them, tracking the next offset to fetch and
 * the leader epochs from the batch headers exactly as before; it only finds no message to push.
 *
 * What the stream did per record and this does the same way: control batches (transaction markers) are skipped;
 * partitions the request did not ask for (left over in an incremental fetch session) are skipped; records before
 * the requested offset (a compressed batch starts before it) are skipped. The caller filters on ownership.
 *
 * The batches are decompressed and their records decoded only when the consumer hands them out (`FetchedBuffer`):
 * decoded at fetch time, a record's objects (the record, its value view, its offset) waited in the consumer's buffer
 * through young-generation collections, each of which copied them; decoded as they are handed out, they are made
 * just before the sink's put and die young. A third of the sink's CPU is V8's collector (docs/benchmarks.md, "Fifth
 * round: sink CPU"). The buffer holds the batches as fetched (compressed), and decompresses zstd batches into
 * buffers it reuses (reused-buffers.ts), given back once the records decoded from them are done with: the records
 * `take` hands out are valid until its next call ("Sixth round: consumer buffers").
 */

import type { Consumer } from '@platformatic/kafka';
import { CONSUMER_DEFAULTS } from '../config/kafka.ts';
import { TweetpipeError } from '../errors.ts';
import type { KafkaRecord } from '../types.ts';
import { decompressedBody, isRawRecordBatch, type RawRecordBatch } from './record-batch.ts';
import { IS_CONTROL } from './record-batch-layout.ts';
import { decodeRecords, safeOffset } from './record-batch-records.ts';
import { ReusedBuffers } from './reused-buffers.ts';

/** A decoded Fetch response (the client exports the type of its fetch, not of its response). */
export type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

/** What one fetch request asked for, per topic id: partition -> fetch offset. */
export type RequestedOffsets = ReadonlyMap<string, ReadonlyMap<number, bigint>>;

/** The client's request lists a topic once per partition (one entry each), so entries of one topic id merge. */
export function requestedOffsets(
  topics: readonly { topicId: string; partitions: readonly { partition: number; fetchOffset: bigint }[] }[],
): RequestedOffsets {
  const out = new Map<string, Map<number, bigint>>();
  for (const t of topics) {
    let offsets = out.get(t.topicId);
    if (!offsets) {
      offsets = new Map();
      out.set(t.topicId, offsets);
    }
    for (const p of t.partitions) offsets.set(p.partition, p.fetchOffset);
  }
  return out;
}

/** One data batch taken out of a response, as fetched (compressed): its records still encoded. */
export interface FetchedBatch {
  partition: number;
  batch: RawRecordBatch;
  /** Records at or after this offset are the ones to hand out. */
  from: number;
  /** Records at or after `from` if the batch's offsets are consecutive (at most that many otherwise). */
  records: number;
}

/** One partition's data batches taken out of a response, with the leader epoch of its last batch. */
export interface FetchedPartition {
  partition: number;
  leaderEpoch: number;
  batches: FetchedBatch[];
}

/**
 * Appends the records of `fetched` to `into`, as KafkaRecords of `topic`, and returns the decompressed body they
 * are views of: a buffer of `reused` when given and the batch is zstd (give it back there once they are done with).
 */
export function decodeFetchedBatch(
  fetched: FetchedBatch,
  topic: string,
  into: KafkaRecord[],
  reused?: ReusedBuffers,
): Buffer {
  const body = decompressedBody(fetched.batch, reused);
  decodeRecords(fetched.batch, topic, fetched.partition, fetched.from, into, body);
  return body;
}

/**
 * Takes every data batch of `response` into the returned partitions (in response order, which is offset order per
 * partition), still compressed.
 */
export function takeFetchedRecords(response: FetchResponse, requested: RequestedOffsets): FetchedPartition[] {
  const out: FetchedPartition[] = [];
  for (const topicResponse of response.responses) {
    const wanted = requested.get(topicResponse.topicId);
    for (const p of topicResponse.partitions) {
      const batches = p.records;
      if (!batches) continue;
      const fetchOffset = wanted?.get(p.partitionIndex);
      if (fetchOffset === undefined) continue;
      const from = safeOffset(fetchOffset);
      const taken: FetchedBatch[] = [];
      let leaderEpoch = -1;
      for (const batch of batches) {
        if (!isRawRecordBatch(batch))
          throw new TweetpipeError(
            'INTERNAL',
            'a fetch response was parsed by the Kafka client instead of record-batch-fetch.ts (useRawRecordBatches not installed on this consumer)',
          );
        leaderEpoch = batch.partitionLeaderEpoch;
        if ((batch.attributes & IS_CONTROL) !== 0) continue;
        const first = safeOffset(batch.firstOffset);
        const last = first + batch.lastOffsetDelta;
        if (last < from) continue;
        const records = Math.min(batch.recordCount, last - Math.max(first, from) + 1);
        taken.push({ partition: p.partitionIndex, batch, from, records });
      }
      if (taken.length > 0) out.push({ partition: p.partitionIndex, leaderEpoch, batches: taken });
    }
  }
  return out;
}

/**
 * The consumer's buffer of fetched batches, oldest first. Their records are decoded only as `take` hands them out;
 * the records of the last decoded batch that did not fit wait for the next call.
 *
 * The records `take` returns (their value, key and header bytes) are valid until the next `take`: a zstd batch is
 * decompressed into a reused buffer, which the next call gives back for reuse once every record decoded from it
 * was handed out. A record held past that reads as empty (reused-buffers.ts); whoever keeps bytes copies them.
 */
export class FetchedBuffer {
  readonly #topic: string;
  #batches: FetchedBatch[] = [];
  #decoded: KafkaRecord[] = [];
  /** Records in the batches (at most; see FetchedBatch.records) and the decoded ones waiting. */
  #records = 0;
  /** Bytes of the batches not yet decoded, as fetched (compressed): what the buffer holds of them. */
  #bytes = 0;
  readonly #reused = new ReusedBuffers(CONSUMER_DEFAULTS.reusedBatchBytes);
  /** The decompressed body the waiting decoded records are views of. */
  #waitingBody: Buffer | undefined;
  /** Decompressed bodies every record of which was handed out: given back by the next take. */
  #handedOut: Buffer[] = [];
  /**
   * Per response copy (RawRecordBatch.inOwnCopy) of the batches held, how many are not decoded yet: freed when none
   * is left rather than at V8's next major collection, which it starts only after ~64 MiB of new external memory
   * (these copies were a third of what a jsonl.gz sink allocated; docs/benchmarks.md, "Tenth round").
   */
  readonly #undecodedInCopy = new WeakMap<ArrayBuffer, number>();

  constructor(topic: string) {
    this.#topic = topic;
  }

  get records(): number {
    return this.#records;
  }

  get bytes(): number {
    return this.#bytes;
  }

  push(batch: FetchedBatch): void {
    this.#records += batch.records;
    this.#bytes += batch.batch.body.length;
    this.#batches.push(batch);
    if (batch.batch.inOwnCopy) {
      const memory = batch.batch.body.buffer as ArrayBuffer;
      this.#undecodedInCopy.set(memory, (this.#undecodedInCopy.get(memory) ?? 0) + 1);
    }
  }

  /**
   * Drops what it holds of partitions not in `owned` (after a rebalance). Called between two takes (a group join),
   * while records handed out may still be in use: a body is only given back by the next take.
   */
  keepOnly(owned: ReadonlySet<number>): void {
    this.#batches = this.#batches.filter((b) => owned.has(b.partition));
    this.#decoded = this.#decoded.filter((r) => owned.has(r.partition));
    if (this.#decoded.length === 0) this.#bodyHandedOut();
    this.#records = this.#decoded.length;
    this.#bytes = 0;
    for (const b of this.#batches) {
      this.#records += b.records;
      this.#bytes += b.batch.body.length;
    }
  }

  /** Up to `max` records in order, decoding the batches as far as needed; the previous call's records end here. */
  take(max: number): KafkaRecord[] {
    for (const body of this.#handedOut) this.#reused.giveBack(body);
    this.#handedOut = [];
    let out = this.#decoded.splice(0, max);
    this.#records -= out.length;
    if (this.#decoded.length === 0) this.#bodyHandedOut();
    let taken = 0;
    while (out.length < max && taken < this.#batches.length) {
      const b = this.#batches[taken++]!;
      this.#records -= b.records;
      this.#bytes -= b.batch.body.length;
      const records: KafkaRecord[] = [];
      const body = decodeFetchedBatch(b, this.#topic, records, this.#reused);
      this.#batchDecoded(b.batch, body);
      const room = max - out.length;
      if (records.length <= room) this.#handedOut.push(body);
      else {
        this.#decoded = records.slice(room);
        this.#records += this.#decoded.length;
        this.#waitingBody = body;
      }
      if (out.length === 0 && records.length <= max) {
        out = records;
        continue;
      }
      for (let i = 0; i < room && i < records.length; i++) out.push(records[i]!);
    }
    this.#batches.splice(0, taken);
    return out;
  }

  /**
   * `batch` was decoded from `body`: its copy is freed once no batch of it is left to decode, unless records are
   * views of it (an uncompressed batch), which leaves it to the collector. A batch dropped by keepOnly is never
   * decoded, so its copy is left to the collector too.
   */
  #batchDecoded(batch: RawRecordBatch, body: Buffer): void {
    const memory = batch.body.buffer as ArrayBuffer;
    const undecoded = this.#undecodedInCopy.get(memory);
    if (undecoded === undefined) return;
    if (body.buffer === memory) this.#undecodedInCopy.delete(memory);
    else if (undecoded > 1) this.#undecodedInCopy.set(memory, undecoded - 1);
    else {
      this.#undecodedInCopy.delete(memory);
      memory.transfer(0);
    }
  }

  /** The waiting records' body has no record left to hand out: given back by the next take. */
  #bodyHandedOut(): void {
    if (this.#waitingBody) this.#handedOut.push(this.#waitingBody);
    this.#waitingBody = undefined;
  }
}
