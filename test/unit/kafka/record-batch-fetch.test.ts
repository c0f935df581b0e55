import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  Consumer,
  createRecordsBatch,
  fetchV17,
  kGetApi,
  kListApis,
  Reader,
  type RecordsBatch,
  ResponseError,
  Writer,
} from '@platformatic/kafka';
import { isRawRecordBatch, type RawRecordBatch } from '../../../src/kafka/record-batch.ts';
import { parseFetchResponse, useRawRecordBatches } from '../../../src/kafka/record-batch-fetch.ts';

const TOPIC_ID = '0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9';

const batch = (firstOffset: bigint, n: number): Buffer => {
  const bytes = createRecordsBatch(
    Array.from({ length: n }, (_, i) => ({
      topic: 't',
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`{"id":"${i}"}`),
      timestamp: 1_764_000_000_000n + BigInt(i),
    })),
    { compression: 'zstd', partitionLeaderEpoch: 5 } as Parameters<typeof createRecordsBatch>[1],
  ).buffer;
  bytes.writeBigInt64BE(firstOffset, 0);
  return bytes;
};

interface PartitionSpec {
  index: number;
  errorCode?: number;
  records: Buffer | null;
  aborted?: { producerId: bigint; firstOffset: bigint }[] | null;
}

/** A Fetch v17 response as a broker writes it: tagged fields included (current leader, node endpoints). */
function fetchResponseBytes(partitions: PartitionSpec[]): Buffer {
  const endpoints = Writer.create().appendArray([{ nodeId: 1, host: 'localhost', port: 9092 }], (w, e) =>
    w.appendInt32(e.nodeId).appendString(e.host).appendInt32(e.port).appendString('rack-a'),
  );
  return Writer.create()
    .appendInt32(0)
    .appendInt16(0)
    .appendInt32(77)
    .appendArray([TOPIC_ID], (w, id) =>
      w.appendUUID(id).appendArray(
        partitions,
        (w, p) => {
          w.appendInt32(p.index)
            .appendInt16(p.errorCode ?? 0)
            .appendInt64(100n)
            .appendInt64(90n)
            .appendInt64(0n)
            .appendArray(p.aborted ?? null, (w, a) => w.appendInt64(a.producerId).appendInt64(a.firstOffset))
            .appendInt32(-1);
          if (p.records === null) w.appendUnsignedVarInt(0);
          else w.appendUnsignedVarInt(p.records.length + 1).append(p.records);
          // One tagged field: current_leader (tag 1), leader 2 at epoch 5.
          w.appendUnsignedVarInt(1)
            .appendUnsignedVarInt(1)
            .appendUnsignedVarInt(8)
            .appendInt32(2)
            .appendInt32(5);
        },
        true,
        false,
      ),
    )
    .appendUnsignedVarInt(1)
    .appendUnsignedVarInt(0)
    .appendUnsignedVarInt(endpoints.length)
    .appendFrom(endpoints).buffer;
}

/** A response with each batch reduced to its header fields, which both parsers must read alike. */
function comparable(response: ReturnType<typeof fetchV17.parseResponse>) {
  return {
    ...response,
    responses: response.responses.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) => ({
        ...p,
        records:
          p.records?.map((b: RecordsBatch) => {
            const { records: _r, ...fields } = b;
            const {
              body: _b,
              recordCount: _c,
              inOwnCopy: _o,
              ...header
            } = fields as typeof fields & {
              body?: Buffer;
              recordCount?: number;
              inOwnCopy?: boolean;
            };
            return header;
          }) ?? null,
      })),
    })),
  };
}

const parse = (bytes: Buffer) => ({
  ours: parseFetchResponse(0, 1, 17, Reader.from(bytes)),
  client: fetchV17.parseResponse(0, 1, 17, Reader.from(bytes)),
});

describe('Fetch v13-v17 responses parsed with raw record batches (record-batch-fetch.ts)', () => {
  test("reads every field the client's parser reads, batches left raw", () => {
    const bytes = fetchResponseBytes([
      {
        index: 0,
        records: Buffer.concat([batch(0n, 3), batch(3n, 2)]),
        aborted: [{ producerId: 9n, firstOffset: 1n }],
      },
      { index: 1, records: null },
      { index: 2, records: Buffer.alloc(0) },
      // A last batch cut short at the fetch's byte limit.
      { index: 3, records: Buffer.concat([batch(10n, 1), batch(11n, 1).subarray(0, 30)]) },
    ]);
    const { ours, client } = parse(bytes);
    assert.deepEqual(comparable(ours), comparable(client));
    const batches = ours.responses[0]!.partitions[0]!.records!;
    assert.ok(batches.every(isRawRecordBatch));
    assert.ok(batches.every((b) => b.records.length === 0));
    assert.equal(ours.responses[0]!.partitions[3]!.records!.length, 1);
    assert.deepEqual(ours.nodeEndpoints, [{ nodeId: 1, host: 'localhost', port: 9092, rack: 'rack-a' }]);
  });

  test("records that span two of the socket's reads are a copy of their own (freed once decoded); others are views", () => {
    // Records of tens of KiB (random bytes do not compress), as the sink's: Buffer.allocUnsafe serves those under
    // half of Buffer.poolSize (32 KiB in Node 24) from a shared pool, which the parser must never take for its own.
    const large = (firstOffset: bigint) => {
      const bytes = createRecordsBatch(
        [0, 1, 2].map(() => ({ topic: 't', value: randomBytes(12_000) })),
        { compression: 'zstd' } as Parameters<typeof createRecordsBatch>[1],
      ).buffer;
      bytes.writeBigInt64BE(firstOffset, 0);
      return bytes;
    };
    const second = large(3n);
    const bytes = fetchResponseBytes([
      { index: 0, records: Buffer.concat([large(0n), second]) },
      { index: 1, records: large(0n) },
      { index: 2, records: batch(0n, 2) },
    ]);
    // Three reads: the first ends inside partition 0's records, the second inside partition 2's (small) ones;
    // partition 1's lie within the second.
    const cut = bytes.indexOf(second);
    const small2 = bytes.indexOf(batch(0n, 2)) + 20;
    const reads = [bytes.subarray(0, cut), bytes.subarray(cut, small2), bytes.subarray(small2)].map(
      (read) => {
        const memory = Buffer.allocUnsafeSlow(read.length);
        read.copy(memory);
        return memory;
      },
    );
    const response = Reader.from(reads[0]!).buffer.append(reads[1]!).append(reads[2]!);
    const [spanning, within, small] = parseFetchResponse(
      0,
      1,
      17,
      new Reader(response),
    ).responses[0]!.partitions.map((p) => p.records as RawRecordBatch[]);
    assert.deepEqual(
      spanning!.map((b) => b.inOwnCopy),
      [true, true],
    );
    assert.equal(
      spanning![0]!.body.buffer.byteLength,
      spanning!.reduce((bytes, b) => bytes + b.length + 12, 0),
      'memory of just the records (each batch: its length plus the 12 bytes of offset and length)',
    );
    assert.deepEqual(
      within!.map((b) => [b.inOwnCopy, b.body.buffer === reads[1]!.buffer]),
      [[false, true]],
    );
    assert.deepEqual(
      small!.map((b) => b.inOwnCopy),
      [false],
    );
    const whole = parseFetchResponse(0, 1, 17, Reader.from(bytes)).responses[0]!.partitions;
    assert.ok(whole.every((p) => (p.records as RawRecordBatch[]).every((b) => !b.inOwnCopy)));
  });

  test('a partition error throws the ResponseError the client throws, with the parsed response', () => {
    const bytes = fetchResponseBytes([{ index: 0, errorCode: 1, records: null }]);
    const thrown = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err as ResponseError;
      }
      assert.fail('no error');
    };
    const ours = thrown(() => parseFetchResponse(0, 1, 17, Reader.from(bytes)));
    const client = thrown(() => fetchV17.parseResponse(0, 1, 17, Reader.from(bytes)));
    assert.ok(ours instanceof ResponseError);
    assert.equal(ours.message, client.message);
    assert.deepEqual(
      ours.errors.map((e) => [e.message, (e as { path?: string }).path]),
      client.errors.map((e) => [e.message, (e as { path?: string }).path]),
    );
  });
});

describe('useRawRecordBatches', () => {
  /** A consumer that never connects, told which API versions the broker speaks. */
  function consumerSpeaking(fetchMaxVersion: number) {
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      clientId: 'test',
      groupId: 'test',
      bootstrapBrokers: ['localhost:1'],
    });
    (consumer as unknown as Record<typeof kListApis, unknown>)[kListApis] = (
      callback: (error: null, apis: unknown) => void,
    ) =>
      callback(null, [
        { name: 'Fetch', minVersion: 4, maxVersion: fetchMaxVersion },
        { name: 'Metadata', minVersion: 0, maxVersion: 12 },
      ]);
    useRawRecordBatches(consumer);
    const getApi = (name: string) =>
      new Promise<{ version: number; key: number }>((resolve, reject) =>
        consumer[kGetApi](name, (error, api) => (error ? reject(error) : resolve(api as never))),
      );
    return { consumer, getApi };
  }

  test("the consumer's Fetch API is v17 with this parser; other APIs are the client's", async () => {
    const { consumer, getApi } = consumerSpeaking(17);
    const fetch = await getApi('Fetch');
    assert.deepEqual([fetch.key, fetch.version], [1, 17]);
    assert.notEqual(fetch, fetchV17.api);
    assert.equal((await getApi('Metadata')).version, 12);
    await consumer.close();
  });

  test('a broker older than Fetch v13 gets an error naming the versions', async () => {
    const { consumer, getApi } = consumerSpeaking(12);
    await assert.rejects(
      getApi('Fetch'),
      /the broker speaks Fetch v12; tweetpipe's consumer needs Fetch v13 or later/,
    );
    await consumer.close();
  });
});
