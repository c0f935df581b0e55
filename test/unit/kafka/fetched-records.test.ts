import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c, createRecordsBatch } from '@platformatic/kafka';
import {
  type FetchResponse,
  requestedOffsets,
  takeFetchedRecords,
} from '../../../src/kafka/fetched-records.ts';
import { readRecordBatches } from '../../../src/kafka/record-batch.ts';
import { ATTRIBUTES_AT, CRC_AT, IS_CONTROL } from '../../../src/kafka/record-batch-layout.ts';

const TOPIC = 'tweets';
const TOPIC_ID = 'topic-uuid';
/** Kafka's RecordBatch attribute bit of control batches. */

/**
 * Record batches as a broker returns them: encoded by the client's producer-side encoder (zstd, like tweetpipe's
 * producer), with their base offset set, then framed as record-batch-fetch.ts frames a Fetch response's records.
 */
function fetchedBatches(
  batches: { firstOffset: bigint; values: string[]; control?: boolean; headers?: boolean }[],
) {
  const bytes = batches.map(({ firstOffset, values, control, headers }) => {
    const encoded = createRecordsBatch(
      values.map((v, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.from(v),
        timestamp: 1_700_000_000_000n + BigInt(i),
        headers: headers ? new Map([[Buffer.from('source'), Buffer.from('synthetic')]]) : new Map(),
        topic: TOPIC,
        partition: 0,
      })),
      { compression: 'zstd', partitionLeaderEpoch: 7 },
    ).buffer;
    encoded.writeBigInt64BE(firstOffset, 0);
    // The CRC covers the attributes.
    if (control) {
      encoded.writeInt16BE(encoded.readInt16BE(ATTRIBUTES_AT) | IS_CONTROL, ATTRIBUTES_AT);
      encoded.writeUInt32BE(crc32c(encoded.subarray(ATTRIBUTES_AT)), CRC_AT);
    }
    return encoded;
  });
  return readRecordBatches(Buffer.concat(bytes));
}

function response(partitions: { index: number; batches: ReturnType<typeof fetchedBatches> }[]) {
  return {
    responses: [
      {
        topicId: TOPIC_ID,
        partitions: partitions.map((p) => ({ partitionIndex: p.index, records: p.batches })),
      },
    ],
  } as unknown as FetchResponse;
}

/** As the client's MessagesStream builds a fetch request: the topic once per partition. */
const requested = (offsets: Record<number, bigint>) =>
  requestedOffsets(
    Object.entries(offsets).map(([p, fetchOffset]) => ({
      topicId: TOPIC_ID,
      partitions: [{ partition: Number(p), fetchOffset }],
    })),
  );

describe('records taken out of a fetch response', () => {
  test('every data record of every batch, in order, with offset, timestamp, key, value and headers', () => {
    const batches = fetchedBatches([
      { firstOffset: 10n, values: ['{"id":"a"}', '{"id":"b"}'], headers: true },
      { firstOffset: 12n, values: ['{"id":"c"}'] },
    ]);
    const [taken, ...rest] = takeFetchedRecords(
      response([{ index: 2, batches }]),
      requested({ 2: 10n }),
      TOPIC,
    );
    assert.equal(rest.length, 0);
    assert.equal(taken!.partition, 2);
    assert.equal(taken!.leaderEpoch, 7);
    assert.deepEqual(
      taken!.records.map((r) => [
        r.topic,
        r.partition,
        r.offset,
        r.timestamp,
        String(r.key),
        String(r.value),
      ]),
      [
        [TOPIC, 2, 10n, 1_700_000_000_000, 'k0', '{"id":"a"}'],
        [TOPIC, 2, 11n, 1_700_000_000_001, 'k1', '{"id":"b"}'],
        [TOPIC, 2, 12n, 1_700_000_000_000, 'k0', '{"id":"c"}'],
      ],
    );
    assert.equal(String(taken!.records[0]!.headers.get('source')), 'synthetic');
    assert.equal(taken!.records[2]!.headers.size, 0);
  });

  test('leaves the batches the stream walks without records, so it pushes no message but reads their headers', () => {
    const batches = fetchedBatches([{ firstOffset: 0n, values: ['{"id":"a"}'] }]);
    takeFetchedRecords(response([{ index: 0, batches }]), requested({ 0: 0n }), TOPIC);
    assert.deepEqual(
      batches.map((b) => [b.records.length, b.firstOffset, b.lastOffsetDelta]),
      [[0, 0n, 0]],
    );
  });

  test('skips control batches (transaction markers) and records before the fetch offset', () => {
    const batches = fetchedBatches([
      { firstOffset: 0n, values: ['{"id":"a"}', '{"id":"b"}', '{"id":"c"}'] },
      { firstOffset: 3n, values: ['marker'], control: true },
      { firstOffset: 4n, values: ['{"id":"d"}'] },
    ]);
    const [taken] = takeFetchedRecords(response([{ index: 0, batches }]), requested({ 0: 1n }), TOPIC);
    assert.deepEqual(
      taken!.records.map((r) => r.offset),
      [1n, 2n, 4n],
    );
  });

  test('takes every partition of a request that lists the topic once per partition', () => {
    const taken = takeFetchedRecords(
      response(
        [0, 1, 2].map((index) => ({ index, batches: fetchedBatches([{ firstOffset: 0n, values: ['{}'] }]) })),
      ),
      requested({ 0: 0n, 1: 0n, 2: 0n }),
      TOPIC,
    );
    assert.deepEqual(
      taken.map((p) => p.partition),
      [0, 1, 2],
    );
  });

  test('skips partitions the request did not ask for (left over in an incremental fetch session)', () => {
    const stale = fetchedBatches([{ firstOffset: 0n, values: ['{"id":"a"}'] }]);
    const fresh = fetchedBatches([{ firstOffset: 5n, values: ['{"id":"b"}'] }]);
    const taken = takeFetchedRecords(
      response([
        { index: 0, batches: stale },
        { index: 1, batches: fresh },
      ]),
      requested({ 1: 5n }),
      TOPIC,
    );
    assert.deepEqual(
      taken.map((p) => [p.partition, p.records.length]),
      [[1, 1]],
    );
  });
});
