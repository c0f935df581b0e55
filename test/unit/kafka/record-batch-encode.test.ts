import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createRecordsBatch,
  type MessageRecord,
  produceV3,
  produceV11,
  Reader,
  readRecordsBatch,
} from '@platformatic/kafka';
import {
  type BatchCompression,
  batchProducer,
  encodeRecordBatch,
  nextSequence,
  stampProducer,
} from '../../../src/kafka/record-batch-encode.ts';
import { BatchSequences, produceRequest } from '../../../src/kafka/record-batch-encode-produce.ts';
import { installZstdCodec } from '../../../src/kafka/zstd-codec.ts';
import type { TweetRecord } from '../../../src/types.ts';

const HEADERS: [Buffer, Buffer][] = [
  [Buffer.from('source'), Buffer.from('replay')],
  [Buffer.from('schema_version'), Buffer.from('1')],
];
const BASE = Date.UTC(2026, 10, 25, 6);

/**
 * Varied records: out-of-order timestamps, values from 0 B to past 2^21 B. `farApart` adds timestamps 35 days
 * apart: a delta past 2^31 ms, which @platformatic/kafka 2.12.1's encoder gets wrong (its int64 zigzag shifts by
 * 31, not 63: it writes 3,000,000,000 ms as -3,000,000,001), so the byte comparisons leave them out.
 */
function records(farApart = false): TweetRecord[] {
  const sizes = [0, 1, 63, 64, 127, 128, 8191, 8192, 300_000, 2_200_000];
  const far = farApart ? 3_000_000_000 : 2_000_000_000;
  const offsets = [0, -1, 1, -5_000, 60_000, far, -far, 7, 0, 86_400_000];
  return sizes.map((size, i) => ({
    id: String(1_800_000_000_000_000_000n + BigInt(i * 7919)),
    createdAtMs: BASE + offsets[i]!,
    value: Buffer.from(`{"i":${i},"t":"${'é✓x'.repeat(size).slice(0, size)}"}`),
  }));
}

/** The same records as the client's messages (what tweet-producer.ts sent before). */
const asMessages = (rs: TweetRecord[], partition = 0): MessageRecord[] =>
  rs.map((r) => ({
    topic: 'tweets',
    partition,
    key: Buffer.from(r.id),
    value: r.value,
    timestamp: BigInt(r.createdAtMs),
    headers: new Map(HEADERS),
  }));

const STAMP = { producerId: 4242n, producerEpoch: 3, baseSequence: 1000 };
const clientOptions = (compression: BatchCompression) => ({
  compression,
  producerId: STAMP.producerId,
  producerEpoch: STAMP.producerEpoch,
  sequences: { getWithDefault: () => STAMP.baseSequence } as never,
});

describe('record batch encoding', () => {
  for (const compression of ['none', 'zstd', 'gzip', 'lz4', 'snappy'] as const) {
    test(`the client's decoder reads back every record (${compression})`, () => {
      const rs = records(true);
      const batch = encodeRecordBatch(rs, HEADERS, compression);
      const decoded = readRecordsBatch(Reader.from(batch));
      assert.equal(decoded.length, batch.length - 12);
      assert.equal(decoded.magic, 2);
      assert.equal(decoded.attributes & 7, { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[compression]);
      assert.equal(decoded.lastOffsetDelta, rs.length - 1);
      assert.equal(decoded.producerId, -1n, 'no producer until stamped');
      assert.equal(decoded.firstSequence, -1);
      assert.equal(decoded.firstTimestamp, BigInt(BASE));
      assert.equal(decoded.maxTimestamp, BigInt(BASE + 3_000_000_000));
      // The client's decoder reads zigzag varlongs right, so the far-apart timestamps come back exact.
      assert.equal(decoded.records.length, rs.length);
      decoded.records.forEach((r, i) => {
        assert.equal(r.offsetDelta, i);
        assert.equal(decoded.firstTimestamp + r.timestampDelta, BigInt(rs[i]!.createdAtMs));
        assert.equal(r.key?.toString(), rs[i]!.id);
        assert.ok(r.value?.equals(rs[i]!.value), `value ${i}`);
        assert.deepEqual(
          r.headers.map(([k, v]) => [k?.toString(), v?.toString()]),
          HEADERS.map(([k, v]) => [k.toString(), v.toString()]),
        );
      });
    });
  }

  for (const compression of ['none', 'zstd', 'gzip'] as const) {
    test(`once stamped, the bytes are the client's own encoder's (${compression})`, () => {
      const rs = records();
      const batch = encodeRecordBatch(rs, HEADERS, compression);
      stampProducer(batch, STAMP);
      const client = createRecordsBatch(asMessages(rs), clientOptions(compression)).buffer;
      assert.equal(batch.toString('hex'), client.toString('hex'));
    });
  }

  test('a record of one byte of value and a batch of one record', () => {
    const r = [{ id: '1', createdAtMs: 0, value: Buffer.from('x') }];
    const batch = encodeRecordBatch(r, [], 'none');
    stampProducer(batch, STAMP);
    const client = createRecordsBatch(
      r.map((x) => ({ topic: 't', partition: 0, key: Buffer.from(x.id), value: x.value, timestamp: 0n })),
      clientOptions('none'),
    ).buffer;
    assert.ok(batch.equals(client));
    assert.throws(() => encodeRecordBatch([], [], 'none'), /at least one record/);
  });

  test("with the codec installed, zstd batches are the client's bytes at its level, with no output chunk per batch", () => {
    installZstdCodec(1);
    const rs = records();
    const recordBytes = rs.reduce((n, r) => n + r.value.length, 0);
    // The first batch sizes the scratch buffers the next one reuses.
    encodeRecordBatch(rs, HEADERS, 'zstd');
    // node:zlib takes each call's output chunk from Buffer.allocUnsafe: one as large as the records.
    const allocUnsafe = Buffer.allocUnsafe;
    const large: number[] = [];
    Buffer.allocUnsafe = (size: number) => {
      if (size >= recordBytes) large.push(size);
      return allocUnsafe(size);
    };
    let batch: Buffer;
    try {
      batch = encodeRecordBatch(rs, HEADERS, 'zstd');
    } finally {
      Buffer.allocUnsafe = allocUnsafe;
    }
    assert.deepEqual(large, [], 'no buffer the size of the records per batch');
    stampProducer(batch, STAMP);
    const client = createRecordsBatch(asMessages(rs), clientOptions('zstd')).buffer;
    assert.ok(batch.equals(client), "the client's encoder's bytes with the installed codec (level 1)");
  });
});

describe('idempotent producer sequences of encoded batches', () => {
  const batchOf = (n: number) => encodeRecordBatch(records().slice(0, n), HEADERS, 'none');

  test('each partition counts records from 0; a retry of a stamped batch keeps its sequence', () => {
    const seq = new BatchSequences();
    const a = batchOf(3);
    const b = batchOf(5);
    const c = batchOf(2);
    seq.stamp('t', 0, a, 7n, 0);
    seq.stamp('t', 1, c, 7n, 0);
    seq.stamp('t', 0, b, 7n, 0);
    // The client retries the request of `a` after a broker error: same producer, the batch goes again unchanged.
    const before = Buffer.from(a);
    seq.stamp('t', 0, a, 7n, 0);
    assert.ok(a.equals(before), 'a retried batch is byte for byte the first attempt');
    assert.deepEqual(batchProducer(a), { producerId: 7n, producerEpoch: 0, baseSequence: 0 });
    assert.equal(batchProducer(b).baseSequence, 3);
    assert.equal(batchProducer(c).baseSequence, 0, 'partitions count apart');
    // The CRC covers the stamp: the client's decoder reads what the broker checks.
    assert.equal(readRecordsBatch(Reader.from(b)).firstSequence, 3);
  });

  test('after the client re-initialises the producer, the batch and every partition start again at 0', () => {
    const seq = new BatchSequences();
    const a = batchOf(4);
    seq.stamp('t', 0, a, 7n, 0);
    seq.stamp('t', 0, batchOf(2), 7n, 0);
    // OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID: the client gets a new producer id and retries `a`.
    seq.stamp('t', 0, a, 8n, 0);
    assert.deepEqual(batchProducer(a), { producerId: 8n, producerEpoch: 0, baseSequence: 0 });
    const next = batchOf(1);
    seq.stamp('t', 0, next, 8n, 0);
    assert.equal(batchProducer(next).baseSequence, 4);
  });

  test('sequences wrap to 0 after 2^31 - 1, as Kafka counts them', () => {
    assert.equal(nextSequence(0x7fffffff, 1), 0);
    assert.equal(nextSequence(0x7ffffffe, 5), 3);
    assert.equal(nextSequence(10, 5), 15);
  });
});

describe('Produce request of encoded batches', () => {
  for (const [version, api] of [
    [3, produceV3],
    [11, produceV11],
  ] as const) {
    test(`is the client's own Produce v${version} request for the same records`, () => {
      const rs = records().slice(0, 6);
      const p0 = encodeRecordBatch(rs.slice(0, 4), HEADERS, 'zstd');
      const p2 = encodeRecordBatch(rs.slice(4), HEADERS, 'zstd');
      stampProducer(p0, STAMP);
      stampProducer(p2, STAMP);
      const ours = produceRequest(
        version,
        -1,
        30_000,
        [
          { topic: 'tweets', partition: 0, value: p0 },
          { topic: 'tweets', partition: 2, value: p2 },
        ],
        null,
      ).buffer;
      const client = api.createRequest(
        -1,
        30_000,
        [...asMessages(rs.slice(0, 4), 0), ...asMessages(rs.slice(4), 2)],
        clientOptions('zstd'),
      ).buffer;
      assert.equal(ours.toString('hex'), client.toString('hex'));
    });
  }
});
