/**
 * Takes the records out of a decoded Fetch response, as the sink's KafkaRecords, before @platformatic/kafka's
 * MessagesStream sees them.
 *
 * Why: for every record, the stream builds a spread copy of it, a diagnostics context, a bound commit closure, a
 * headers Map plus an entries array, a message object with metadata, and pushes that object through a Node
 * Readable; the consumer then copied it into a KafkaRecord. That bookkeeping cost more CPU than decompressing and
 * decoding the batch (the profile of the sink process, docs/benchmarks.md). The client has no option to skip it,
 * so BatchConsumer wraps its `fetch`: the response (already filtered of aborted transactions in read_committed)
 * passes through here, and each record batch is left with an empty `records` array. The stream still walks the
 * batches, and so still tracks the next offset to fetch and the leader epochs from the batch headers, exactly as
 * before; it only finds no message to push.
 *
 * What the stream did per record and this does the same way: control batches (transaction markers) are skipped;
 * partitions the request did not ask for (left over in an incremental fetch session) are skipped; records before
 * the requested offset (a compressed batch starts before it) are skipped. The caller filters on ownership.
 */

import type { Consumer, RecordsBatch } from '@platformatic/kafka';
import type { KafkaRecord } from '../types.ts';

/** A decoded Fetch response (the client exports the type of its fetch, not of its response). */
export type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

/** Kafka's RecordBatch attribute bit of control batches (transaction markers). */
const IS_CONTROL = 0x20;

/** Shared by every record without headers: the sink only reads headers, never writes them. */
const NO_HEADERS: Map<string, Buffer> = new Map();
const EMPTY = Buffer.alloc(0);

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

/** One partition's records taken out of a response, with the leader epoch of its last batch. */
export interface FetchedPartition {
  partition: number;
  leaderEpoch: number;
  records: KafkaRecord[];
}

/**
 * Moves every data record of `response` into the returned partitions (in response order, which is offset order per
 * partition) and empties each batch's `records`.
 */
export function takeFetchedRecords(
  response: FetchResponse,
  requested: RequestedOffsets,
  topic: string,
): FetchedPartition[] {
  const out: FetchedPartition[] = [];
  for (const topicResponse of response.responses) {
    const wanted = requested.get(topicResponse.topicId);
    for (const p of topicResponse.partitions) {
      const batches = p.records;
      if (!batches) continue;
      const from = wanted?.get(p.partitionIndex);
      if (from === undefined) {
        for (const b of batches) b.records = [];
        continue;
      }
      const records: KafkaRecord[] = [];
      let leaderEpoch = -1;
      for (const batch of batches) {
        leaderEpoch = batch.partitionLeaderEpoch;
        if ((batch.attributes & IS_CONTROL) === 0) takeBatch(batch, topic, p.partitionIndex, from, records);
        batch.records = [];
      }
      if (records.length > 0) out.push({ partition: p.partitionIndex, leaderEpoch, records });
    }
  }
  return out;
}

function takeBatch(
  batch: RecordsBatch,
  topic: string,
  partition: number,
  from: bigint,
  into: KafkaRecord[],
): void {
  const { firstOffset } = batch;
  // In numbers: a BigInt sum is a heap object per record (epoch ms are far below 2^53, so exact).
  const firstTimestamp = Number(batch.firstTimestamp);
  for (const r of batch.records) {
    const offset = firstOffset + BigInt(r.offsetDelta);
    if (offset < from) continue;
    into.push({
      topic,
      partition,
      offset,
      timestamp: firstTimestamp + Number(r.timestampDelta),
      key: r.key,
      value: r.value,
      headers: r.headers.length === 0 ? NO_HEADERS : headerMap(r.headers),
    });
  }
}

function headerMap(headers: readonly [Buffer | null, Buffer | null][]): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (const [k, v] of headers) map.set(k === null ? '' : k.toString('utf8'), v ?? EMPTY);
  return map;
}
