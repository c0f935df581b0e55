/**
 * Makes a @platformatic/kafka Consumer parse Fetch responses with record-batch.ts instead of its own record decoder.
 *
 * The client's Fetch parsers call its `readRecordsBatches` through an ES module import, which nothing outside the
 * module can replace, and it exposes no raw record bytes. What it does expose: the symbol `kGetApi`, the method
 * through which every client call picks the API version both sides speak, `createAPI`, and each Fetch version's
 * `createRequest`. So `useRawRecordBatches` wraps `kGetApi` on one consumer: when the client asks for Fetch, it gets
 * an API with the client's own request encoder and the parser below, which reads the response exactly as the client's
 * does (same fields, same errors) except the records, which stay raw batches (record-batch.ts). Everything else the
 * consumer does with the response (fetch sessions, aborted transactions, offsets, leader epochs) is the client's
 * own code, unchanged. Rejected alternatives: a Node loader hook replacing the client's module (global and tied to
 * its file layout), and patching the record decoder of the client's module namespace (frozen).
 *
 * Fetch v13 to v17 (Kafka 3.1 and later; Kafka 4.1 speaks v17) share one response layout (v16 adds the
 * node_endpoints tagged field, harmless to look for in older versions). An older broker gets a clear error.
 */

import {
  type Consumer,
  createAPI,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  kGetApi,
  type Reader,
  ResponseError,
  readKnownTaggedFields,
} from '@platformatic/kafka';
import { TweetpipeError } from '../errors.ts';
import { readRecordBatches } from './record-batch.ts';

type FetchResponse = ReturnType<typeof fetchV17.parseResponse>;
type FetchPartition = FetchResponse['responses'][number]['partitions'][number];

/**
 * Whether `slice` of a response made of `chunks` (the socket's reads) is a copy in memory of its own: not a view of
 * a chunk (which holds other bytes of the response, or of the next one) nor of Node's shared pool of small buffers.
 */
function isOwnCopy(slice: Buffer, chunks: readonly Buffer[]): boolean {
  const memory = slice.buffer;
  return (
    slice.byteOffset === 0 &&
    memory.byteLength === slice.length &&
    !chunks.some((chunk) => chunk.buffer === memory)
  );
}

/** The Fetch response parser of v13 to v17, with the records of each partition as raw batches. */
export function parseFetchResponse(
  _correlationId: number,
  apiKey: number,
  apiVersion: number,
  reader: Reader,
): FetchResponse {
  const errors: [string, [number, null]][] = [];
  const throttleTimeMs = reader.readInt32();
  const errorCode = reader.readInt16();
  if (errorCode !== 0) errors.push(['', [errorCode, null]]);
  const response: FetchResponse = {
    throttleTimeMs,
    errorCode,
    sessionId: reader.readInt32(),
    nodeEndpoints: [],
    responses: reader.readArray((r, i) => ({
      topicId: r.readUUID(),
      partitions: r.readArray(
        (r, j) => {
          const partition: FetchPartition = {
            partitionIndex: r.readInt32(),
            errorCode: r.readInt16(),
            highWatermark: r.readInt64(),
            lastStableOffset: r.readInt64(),
            logStartOffset: r.readInt64(),
            divergingEpoch: { epoch: -1, endOffset: -1n },
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
            snapshotId: { endOffset: -1n, epoch: -1 },
            abortedTransactions: r.readNullableArray((r) => ({
              producerId: r.readInt64(),
              firstOffset: r.readInt64(),
            })),
            preferredReadReplica: r.readInt32(),
            records: [],
          };
          if (partition.errorCode !== 0)
            errors.push([`/responses/${i}/partitions/${j}`, [partition.errorCode, null]]);
          // COMPACT_RECORDS: the length plus one, 0 for null. The slice is a view of the response (a copy only when
          // the response arrived in several chunks and the records span two).
          const size = r.readUnsignedVarInt() - 1;
          if (size < 0) partition.records = null;
          else if (size > 0) {
            const records = r.buffer.slice(r.position, r.position + size);
            partition.records = readRecordBatches(records, isOwnCopy(records, r.buffer.buffers));
            r.skip(size);
          }
          readKnownTaggedFields(r, {
            0: (r) => {
              partition.divergingEpoch = { epoch: r.readInt32(), endOffset: r.readInt64() };
            },
            1: (r) => {
              partition.currentLeader = { leaderId: r.readInt32(), leaderEpoch: r.readInt32() };
            },
            2: (r) => {
              partition.snapshotId = { endOffset: r.readInt64(), epoch: r.readInt32() };
            },
          });
          return partition;
        },
        true,
        false,
      ),
    })),
  };
  readKnownTaggedFields(reader, {
    0: (r) => {
      response.nodeEndpoints = r.readArray((r) => ({
        nodeId: r.readInt32(),
        host: r.readString(),
        port: r.readInt32(),
        rack: r.readNullableString(),
      }));
    },
  });
  if (errors.length > 0) throw new ResponseError(apiKey, apiVersion, Object.fromEntries(errors), response);
  return response;
}

/** Fetch's API key in the Kafka protocol. */
const FETCH = 1;
const rawFetchApis = new Map(
  [fetchV13, fetchV14, fetchV15, fetchV16, fetchV17].map((v) => [
    v.api.version,
    createAPI(FETCH, v.api.version, v.createRequest, parseFetchResponse),
  ]),
);

type GetApi = (name: string, callback: (error: Error | null, api?: unknown) => void) => void;

/** From now on, `consumer` fetches with `parseFetchResponse`: its record batches are RawRecordBatches. */
export function useRawRecordBatches(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>): void {
  const target = consumer as unknown as Record<typeof kGetApi, GetApi>;
  const getApi = target[kGetApi].bind(consumer);
  target[kGetApi] = (name, callback) =>
    getApi(name, (error, api) => {
      if (error || name !== 'Fetch') return callback(error, api);
      const version = (api as { version: number }).version;
      const raw = rawFetchApis.get(version);
      if (raw) return callback(null, raw);
      callback(
        new TweetpipeError(
          'KAFKA',
          `the broker speaks Fetch v${version}; tweetpipe's consumer needs Fetch v13 or later (Kafka 3.1 or later)`,
        ),
      );
    });
}
