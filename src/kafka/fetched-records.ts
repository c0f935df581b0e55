/**
 * Takes the records out of a Fetch response, as the sink's KafkaRecords, before @platformatic/kafka's
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
 */

import type { Consumer } from '@platformatic/kafka';
import { TweetpipeError } from '../errors.ts';
import type { KafkaRecord } from '../types.ts';
import { isRawRecordBatch } from './record-batch.ts';
import { IS_CONTROL } from './record-batch-layout.ts';
import { decodeRecords, safeOffset } from './record-batch-records.ts';

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

/** One partition's records taken out of a response, with the leader epoch of its last batch. */
export interface FetchedPartition {
  partition: number;
  leaderEpoch: number;
  records: KafkaRecord[];
}

/**
 * Decodes every data record of `response` into the returned partitions (in response order, which is offset order
 * per partition).
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
      const fetchOffset = wanted?.get(p.partitionIndex);
      if (fetchOffset === undefined) continue;
      const from = safeOffset(fetchOffset);
      const records: KafkaRecord[] = [];
      let leaderEpoch = -1;
      for (const batch of batches) {
        if (!isRawRecordBatch(batch))
          throw new TweetpipeError(
            'INTERNAL',
            'a fetch response was parsed by the Kafka client instead of record-batch-fetch.ts (useRawRecordBatches not installed on this consumer)',
          );
        leaderEpoch = batch.partitionLeaderEpoch;
        if ((batch.attributes & IS_CONTROL) === 0)
          decodeRecords(batch, topic, p.partitionIndex, from, records);
      }
      if (records.length > 0) out.push({ partition: p.partitionIndex, leaderEpoch, records });
    }
  }
  return out;
}
