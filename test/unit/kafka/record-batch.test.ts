import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CompressionAlgorithmValue,
  crc32c,
  createRecordsBatch,
  Reader,
  readRecordsBatches,
} from '@platformatic/kafka';
import { TweetpipeError } from '../../../src/errors.ts';
import { type RawRecordBatch, readRecordBatches } from '../../../src/kafka/record-batch.ts';
import { ATTRIBUTES_AT, batchCrc, CRC_AT, IS_CONTROL } from '../../../src/kafka/record-batch-layout.ts';
import { decodeRecords } from '../../../src/kafka/record-batch-records.ts';
import type { KafkaRecord } from '../../../src/types.ts';

const TOPIC = 'tweets';
const FIRST_TIMESTAMP = 1_764_000_000_000n;
const header = (pairs: [string, string][]) =>
  new Map(pairs.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]));
const SOURCE_HEADERS: [string, string][] = [
  ['source', 'synthetic'],
  ['schema_version', '2'],
];

/**
 * Tweets as the producer writes them, plus what the decoder must get right beyond them: a null key, records without
 * headers, runs of identical headers broken by different ones, multi-byte text, timestamps before the batch's first
 * (a negative delta) and more than 2^32 ms after it (a varlong past 32 bits).
 */
const messages = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    topic: TOPIC,
    partition: 0,
    ...(i % 5 === 4 ? {} : { key: Buffer.from(`18512345678901234${i}`) }),
    value: Buffer.from(JSON.stringify({ id: String(i), text: 'é🙂'.repeat(i % 7) })),
    timestamp: i === n - 1 ? FIRST_TIMESTAMP + 2n ** 40n : FIRST_TIMESTAMP + BigInt(i * 1000 - 500 * (i % 2)),
    headers: i % 4 === 3 ? new Map() : header(i % 6 === 5 ? [['source', `replay-${i}`]] : SOURCE_HEADERS),
  }));

type Options = Partial<Parameters<typeof createRecordsBatch>[1]>;

/** One batch encoded by the client's producer-side encoder, at `firstOffset` as a broker would store it. */
function encoded(n: number, firstOffset: bigint, options: Options = {}): Buffer {
  const bytes = createRecordsBatch(messages(n), {
    compression: 'none',
    partitionLeaderEpoch: 3,
    ...options,
  } as Parameters<typeof createRecordsBatch>[1]).buffer;
  bytes.writeBigInt64BE(firstOffset, 0); // outside the CRC, as the broker assigns it
  return bytes;
}

const decodeAll = (batches: RawRecordBatch[], from = 0): KafkaRecord[] => {
  const into: KafkaRecord[] = [];
  for (const b of batches) if ((b.attributes & IS_CONTROL) === 0) decodeRecords(b, TOPIC, 0, from, into);
  return into;
};

const shown = (b: Buffer | null | undefined) => (b == null ? null : b.toString('utf8'));

/** What the client's own decoder reads from the same bytes, in the shape of a KafkaRecord. */
function clientDecoded(bytes: Buffer) {
  return readRecordsBatches(Reader.from(bytes)).flatMap((batch) =>
    batch.records.map((r) => ({
      offset: batch.firstOffset + BigInt(r.offsetDelta),
      timestamp: Number(batch.firstTimestamp + r.timestampDelta),
      key: shown(r.key),
      value: shown(r.value),
      headers: r.headers.map(([k, v]) => [shown(k) ?? '', shown(v) ?? '']),
    })),
  );
}

const ours = (records: KafkaRecord[]) =>
  records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: shown(r.key),
    value: shown(r.value),
    headers: [...r.headers].map(([k, v]) => [k, shown(v)]),
  }));

/** The batch header fields, without the records the two decoders hold differently. */
const headerFields = ({ records: _r, body: _b, recordCount: _c, inOwnCopy: _o, ...fields }: RawRecordBatch) =>
  fields;

describe('RecordBatch v2 decoding (record-batch.ts, record-batch-records.ts)', () => {
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as CompressionAlgorithmValue[]) {
    test(`${compression}: the same records and batch headers as the client's decoder reads`, () => {
      const bytes = Buffer.concat([encoded(40, 1000n, { compression }), encoded(7, 1040n, { compression })]);
      const batches = readRecordBatches(bytes);
      assert.deepEqual(ours(decodeAll(batches)), clientDecoded(bytes));
      const client = readRecordsBatches(Reader.from(bytes));
      assert.deepEqual(
        batches.map(headerFields),
        client.map(({ records: _r, ...fields }) => fields),
      );
      assert.equal(decodeAll(batches).length, 47);
    });
  }

  test('transactional batches keep the producer id, epoch, sequence and the transactional bit', () => {
    const bytes = encoded(3, 50n, {
      compression: 'zstd',
      transactionalId: 'tx',
      producerId: 4242n,
      producerEpoch: 7,
    });
    const [batch] = readRecordBatches(bytes);
    const [client] = readRecordsBatches(Reader.from(bytes));
    assert.deepEqual(headerFields(batch!), (({ records: _r, ...f }) => f)(client!));
    assert.equal(batch!.producerId, 4242n);
    assert.notEqual(batch!.attributes & 0x10, 0);
    assert.deepEqual(ours(decodeAll([batch!])), clientDecoded(bytes));
  });

  test('control batches: their records decoded as the client decodes them (it reads the marker key), none taken', () => {
    const bytes = encoded(1, 9n);
    bytes.writeInt16BE(bytes.readInt16BE(ATTRIBUTES_AT) | IS_CONTROL, ATTRIBUTES_AT);
    bytes.writeUInt32BE(crc32c(bytes.subarray(ATTRIBUTES_AT)), CRC_AT);
    const [batch] = readRecordBatches(bytes);
    const [client] = readRecordsBatches(Reader.from(bytes));
    assert.deepEqual(batch!.records, client!.records);
    assert.equal(decodeAll([batch!]).length, 0);
  });

  test('records before the fetch offset are skipped', () => {
    const records = decodeAll(readRecordBatches(encoded(5, 100n, { compression: 'zstd' })), 103);
    assert.deepEqual(
      records.map((r) => r.offset),
      [103n, 104n],
    );
  });

  test('key and value are views of the decompressed batch, not copies', () => {
    const [first, second] = decodeAll(readRecordBatches(encoded(2, 0n, { compression: 'zstd' })));
    assert.equal(first!.value!.buffer, second!.value!.buffer);
    assert.equal(first!.key!.buffer, first!.value!.buffer);
  });

  test('the key is made a view only when read: a decoded record holds no key Buffer of its own', () => {
    const [withKey, , , , nullKey] = decodeAll(readRecordBatches(encoded(5, 0n, { compression: 'zstd' })));
    assert.equal(Object.hasOwn(withKey!, 'key'), false);
    assert.equal(shown(withKey!.key), '185123456789012340');
    assert.equal(nullKey!.key, null);
  });

  test('consecutive records with identical header bytes share one Map; different headers get their own', () => {
    const records = decodeAll(readRecordBatches(encoded(12, 0n, { compression: 'zstd' })));
    // Records 0, 1, 2 carry the source headers, 3 none, 4 the source headers again, 5 a replay header.
    assert.equal(records[0]!.headers, records[1]!.headers);
    assert.equal(records[1]!.headers, records[4]!.headers);
    assert.equal(records[3]!.headers.size, 0);
    assert.notEqual(records[5]!.headers, records[4]!.headers);
    assert.equal(shown(records[5]!.headers.get('source')), 'replay-5');
    assert.equal(shown(records[6]!.headers.get('source')), 'synthetic');
    assert.equal(shown(records[6]!.headers.get('schema_version')), '2');
  });

  test('a batch whose bytes do not match its CRC-32C is refused with an error that says so', () => {
    const bytes = encoded(3, 77n);
    bytes[bytes.length - 5]! ^= 0x01; // a bit of the last record's value
    assert.throws(
      () => readRecordBatches(bytes),
      (err: unknown) =>
        err instanceof TweetpipeError &&
        err.code === 'KAFKA' &&
        /corrupt record batch at offset 77: CRC-32C is 0x[0-9a-f]{8}, the batch says 0x[0-9a-f]{8}/.test(
          err.message,
        ),
    );
  });

  test('a batch cut short at the end of the fetched bytes is left for the next fetch, as the client does', () => {
    const whole = encoded(3, 0n);
    const bytes = Buffer.concat([whole, encoded(3, 3n).subarray(0, 40)]);
    assert.equal(readRecordBatches(bytes).length, 1);
    assert.equal(readRecordsBatches(Reader.from(bytes)).length, 1);
  });

  test('a batch length shorter than a batch header is refused, not read past', () => {
    const bytes = encoded(1, 5n);
    bytes.writeInt32BE(-1, 8);
    assert.throws(
      () => readRecordBatches(bytes),
      /corrupt record batch at offset 5: its length -1 is shorter than a batch header/,
    );
  });

  test('an offset beyond 2^53 is refused rather than rounded', () => {
    const [batch] = readRecordBatches(encoded(2, 2n ** 53n));
    assert.throws(() => decodeAll([batch!]), /offset 9007199254740992 is beyond 2\^53/);
  });

  test('a record that claims more bytes than its batch holds is refused', () => {
    const bytes = encoded(1, 0n);
    // The record's length varint, over its attributes byte: 8191 bytes, more than the batch holds.
    bytes[61] = 0xfe;
    bytes[62] = 0x7f;
    bytes.writeUInt32BE(crc32c(bytes.subarray(ATTRIBUTES_AT)), CRC_AT);
    assert.throws(() => decodeAll(readRecordBatches(bytes)), /record 0 of 1: runs past the end of the batch/);
  });
});

describe('batchCrc (record-batch-layout.ts)', () => {
  test('is the CRC-32C of the bytes from attributes to the end', () => {
    const batch = Buffer.concat([Buffer.alloc(ATTRIBUTES_AT, 0xff), Buffer.from('123456789')]);
    assert.equal(batchCrc(batch), 0xe3069283); // the standard check value of CRC-32C (Castagnoli)
  });

  test('hashes the batch in place: no copy of its bytes is allocated (one per batch sent or read)', () => {
    const batch = Buffer.alloc(ATTRIBUTES_AT + 32 * 2 ** 20, 7);
    const before = process.memoryUsage().arrayBuffers;
    batchCrc(batch);
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 2 ** 20, `hashing a 32 MiB batch allocated ${grown} bytes of array buffers`);
  });
});
