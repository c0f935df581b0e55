import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c, createRecordsBatch } from '@platformatic/kafka';
import { TweetpipeError } from '../../../src/errors.ts';
import {
  decodeFetchedBatch,
  FetchedBuffer,
  type FetchedPartition,
  type FetchResponse,
  requestedOffsets,
  takeFetchedRecords,
} from '../../../src/kafka/fetched-records.ts';
import { readRecordBatches } from '../../../src/kafka/record-batch.ts';
import { ATTRIBUTES_AT, CRC_AT, IS_CONTROL } from '../../../src/kafka/record-batch-layout.ts';
import type { KafkaRecord } from '../../../src/types.ts';

const TOPIC = 'tweets';
const TOPIC_ID = 'topic-uuid';
/** Kafka's RecordBatch attribute bit of control batches. */

/**
 * Record batches as a broker returns them: encoded by the client's producer-side encoder (zstd, like tweetpipe's
 * producer), with their base offset set, then framed as record-batch-fetch.ts frames a Fetch response's records.
 */
function fetchedBatches(
  batches: {
    firstOffset: bigint;
    values: string[];
    control?: boolean;
    headers?: boolean;
    compression?: 'zstd' | 'none';
  }[],
  inOwnCopy = false,
) {
  const bytes = batches.map(({ firstOffset, values, control, headers, compression = 'zstd' }) => {
    const encoded = createRecordsBatch(
      values.map((v, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.from(v),
        timestamp: 1_700_000_000_000n + BigInt(i),
        headers: headers ? new Map([[Buffer.from('source'), Buffer.from('synthetic')]]) : new Map(),
        topic: TOPIC,
        partition: 0,
      })),
      { compression, partitionLeaderEpoch: 7 },
    ).buffer;
    encoded.writeBigInt64BE(firstOffset, 0);
    // The CRC covers the attributes.
    if (control) {
      encoded.writeInt16BE(encoded.readInt16BE(ATTRIBUTES_AT) | IS_CONTROL, ATTRIBUTES_AT);
      encoded.writeUInt32BE(crc32c(encoded.subarray(ATTRIBUTES_AT)), CRC_AT);
    }
    return encoded;
  });
  if (!inOwnCopy) return readRecordBatches(Buffer.concat(bytes));
  // Memory of its own, as record-batch-fetch.ts's copy of a partition's records: not Node's shared pool.
  const copy = Buffer.allocUnsafeSlow(bytes.reduce((n, b) => n + b.length, 0));
  Buffer.concat(bytes).copy(copy);
  return readRecordBatches(copy, true);
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

/** The records of a partition taken out of a response, decoded as the consumer hands them out. */
function recordsOf(taken: FetchedPartition | undefined): KafkaRecord[] {
  const records: KafkaRecord[] = [];
  for (const b of taken!.batches) decodeFetchedBatch(b, TOPIC, records);
  return records;
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
    const [taken, ...rest] = takeFetchedRecords(response([{ index: 2, batches }]), requested({ 2: 10n }));
    assert.equal(rest.length, 0);
    assert.equal(taken!.partition, 2);
    assert.equal(taken!.leaderEpoch, 7);
    assert.deepEqual(
      recordsOf(taken).map((r) => [
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
    assert.equal(String(recordsOf(taken)[0]!.headers.get('source')), 'synthetic');
    assert.equal(recordsOf(taken)[2]!.headers.size, 0);
  });

  test('leaves the batches the stream walks without records, so it pushes no message but reads their headers', () => {
    const batches = fetchedBatches([{ firstOffset: 0n, values: ['{"id":"a"}'] }]);
    takeFetchedRecords(response([{ index: 0, batches }]), requested({ 0: 0n }));
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
    const [taken] = takeFetchedRecords(response([{ index: 0, batches }]), requested({ 0: 1n }));
    assert.deepEqual(
      recordsOf(taken).map((r) => r.offset),
      [1n, 2n, 4n],
    );
  });

  test('takes every partition of a request that lists the topic once per partition', () => {
    const taken = takeFetchedRecords(
      response(
        [0, 1, 2].map((index) => ({ index, batches: fetchedBatches([{ firstOffset: 0n, values: ['{}'] }]) })),
      ),
      requested({ 0: 0n, 1: 0n, 2: 0n }),
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
    );
    assert.deepEqual(
      taken.map((p) => [p.partition, recordsOf(p).length]),
      [[1, 1]],
    );
  });
});

describe('the buffer of fetched batches', () => {
  const take = (partitions: number[], offsets: Record<number, bigint> = {}) =>
    takeFetchedRecords(
      response(
        partitions.map((index) => ({
          index,
          batches: fetchedBatches([
            { firstOffset: 0n, values: ['{"id":"a"}', '{"id":"b"}', '{"id":"c"}'] },
            { firstOffset: 3n, values: ['{"id":"d"}', '{"id":"e"}', '{"id":"f"}'] },
          ]),
        })),
      ),
      requested(Object.fromEntries(partitions.map((p) => [p, offsets[p] ?? 0n]))),
    );

  test('hands out at most max records at a time, in order, across batches and partitions', () => {
    const buffer = new FetchedBuffer(TOPIC);
    for (const p of take([0, 1], { 1: 4n })) for (const b of p.batches) buffer.push(b);
    assert.equal(buffer.records, 8);
    const got: string[] = [];
    for (const max of [4, 1, 2, 10]) {
      const records = buffer.take(max);
      assert.ok(records.length <= max);
      got.push(...records.map((r) => `${r.partition}:${r.offset}`));
    }
    assert.deepEqual(got, ['0:0', '0:1', '0:2', '0:3', '0:4', '0:5', '1:4', '1:5']);
    assert.equal(buffer.records, 0);
    assert.equal(buffer.bytes, 0);
  });

  test('keepOnly drops the batches and the decoded records of partitions no longer owned', () => {
    const buffer = new FetchedBuffer(TOPIC);
    for (const p of take([0, 1])) for (const b of p.batches) buffer.push(b);
    assert.deepEqual(
      buffer.take(2).map((r) => r.offset),
      [0n, 1n],
    );
    buffer.keepOnly(new Set([1]));
    assert.equal(buffer.records, 6);
    assert.deepEqual(
      buffer.take(100).map((r) => `${r.partition}:${r.offset}`),
      ['1:0', '1:1', '1:2', '1:3', '1:4', '1:5'],
    );
  });

  test('records are decoded when handed out, not when fetched: a bad record fails take(), not the fetch', () => {
    // An uncompressed batch whose first record claims more bytes than the batch holds, with a CRC that matches.
    const encoded = createRecordsBatch(
      [{ key: Buffer.from('k'), value: Buffer.from('{"id":"a"}'), topic: TOPIC, partition: 0 }],
      {
        compression: 'none',
      },
    ).buffer;
    const RECORDS_AT = 61;
    encoded[RECORDS_AT] = 0x7e; // zigzag varint 63
    encoded.writeUInt32BE(crc32c(encoded.subarray(ATTRIBUTES_AT)), CRC_AT);
    const taken = takeFetchedRecords(
      response([{ index: 0, batches: readRecordBatches(encoded) }]),
      requested({ 0: 0n }),
    );
    const buffer = new FetchedBuffer(TOPIC);
    for (const b of taken[0]!.batches) buffer.push(b);
    assert.throws(
      () => buffer.take(10),
      (err: unknown) => err instanceof TweetpipeError && /runs past the end of the batch/.test(err.message),
    );
  });
});

describe('FetchedBuffer: decompressed batches reused', () => {
  test('records keep their bytes until the next take; held past it they read empty, never another batch', () => {
    const valueAt = (offset: number) => `{"id":"${offset}","text":"${String(offset).repeat(50)}"}`;
    const batches = [];
    for (let first = 0; first < 60; first += 6)
      batches.push({
        firstOffset: BigInt(first),
        values: Array.from({ length: 6 }, (_, i) => valueAt(first + i)),
        headers: true,
      });
    const [taken] = takeFetchedRecords(
      response([{ index: 0, batches: fetchedBatches(batches) }]),
      requested({ 0: 0n }),
    );
    const buffer = new FetchedBuffer(TOPIC);
    for (const b of taken!.batches) buffer.push(b);
    const held: KafkaRecord[] = [];
    let next = 0;
    // Takes that end inside a batch, at its end, and span several: records of one batch span two takes.
    for (const max of [4, 2, 5, 7, 1, 12, 3, 9, 20]) {
      const records = buffer.take(max);
      for (const r of held) {
        assert.ok(
          r.value?.length === 0 || r.value?.toString() === valueAt(Number(r.offset)),
          `record ${r.offset}, held past a take, reads ${r.value?.toString()}`,
        );
      }
      for (const r of records) {
        assert.equal(r.offset, BigInt(next++));
        assert.equal(r.value?.toString(), valueAt(Number(r.offset)));
        assert.equal(r.key?.toString().startsWith('k'), true);
        assert.equal(r.headers.get('source')?.toString(), 'synthetic');
      }
      held.push(...records);
    }
    assert.equal(next, 60);
    buffer.take(1);
    assert.ok(
      held.every((r) => r.value?.length === 0),
      'every batch handed out whole was given back for reuse',
    );
  });
});

describe('FetchedBuffer: copies of fetched records freed once decoded', () => {
  const values = (first: number) => Array.from({ length: 3 }, (_, i) => `{"id":"${first + i}"}`);
  const buffered = (compression: 'zstd' | 'none', inOwnCopy: boolean) => {
    const [taken] = takeFetchedRecords(
      response([
        {
          index: 0,
          batches: fetchedBatches(
            [
              { firstOffset: 0n, values: values(0), compression },
              { firstOffset: 3n, values: values(3), compression },
            ],
            inOwnCopy,
          ),
        },
      ]),
      requested({ 0: 0n }),
    );
    const buffer = new FetchedBuffer(TOPIC);
    for (const b of taken!.batches) buffer.push(b);
    return { buffer, memory: taken!.batches[0]!.batch.body.buffer };
  };

  test('a copy of zstd batches is freed when its last batch is decoded, not before', () => {
    const { buffer, memory } = buffered('zstd', true);
    const size = memory.byteLength;
    assert.ok(size > 0);
    assert.deepEqual(
      buffer.take(3).map((r) => r.value?.toString()),
      values(0),
    );
    assert.equal(memory.byteLength, size, 'a batch of it is still to be decoded');
    assert.deepEqual(
      buffer.take(3).map((r) => r.value?.toString()),
      values(3),
    );
    assert.equal(memory.byteLength, 0, 'freed');
  });

  test('a copy whose records are views of it (uncompressed) is kept, and memory not copied is never freed', () => {
    const uncompressed = buffered('none', true);
    const kept = uncompressed.buffer.take(6);
    assert.deepEqual(
      kept.map((r) => r.value?.toString()),
      [...values(0), ...values(3)],
    );
    assert.ok(uncompressed.memory.byteLength > 0);
    const view = buffered('zstd', false);
    view.buffer.take(6);
    assert.ok(view.memory.byteLength > 0, 'a view of the response is never freed');
  });
});
