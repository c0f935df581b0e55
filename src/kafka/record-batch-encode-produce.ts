/**
 * Gets record batches encoded by record-batch-encode.ts to the broker through @platformatic/kafka's Producer,
 * which keeps everything but the encoding: metadata, leaders, connections, InitProducerId, retries, recovery of a
 * lost producer state, response parsing and errors.
 *
 * How: `PreEncodedProducer.sendBatches` hands `send` one message per partition whose value is an encoded batch.
 * The client treats it as one record of that partition (its per-message work runs once per partition, not once per
 * tweet) and calls its Produce API for each leader; this class replaces that API (the client looks it up through
 * `kGetApi`, the hook its own subclasses use) by one that writes the batches into the Produce request as they are.
 * Messages that are not encoded batches take the client's own request (TweetProducer encodes all of its own).
 *
 * Idempotence: the client counts one sequence number per message, so it would count one per batch; the sequences
 * of encoded batches are kept here instead, per partition, for the client's current producer id and epoch, and
 * written into the batch when its request is built (the client builds a connection's requests in order). A retry
 * of the same request finds the batch already stamped with the current producer and sends it unchanged, so the
 * broker deduplicates it; after the client re-initialises the producer (UNKNOWN_PRODUCER_ID,
 * OUT_OF_ORDER_SEQUENCE_NUMBER, or a failed send), the new id starts every partition at sequence 0 again, as the
 * client's own counters do.
 */

import {
  type Callback,
  type Connection,
  kGetApi,
  ProduceAcks,
  Producer,
  produceV3,
  produceV4,
  produceV5,
  produceV6,
  produceV7,
  produceV8,
  produceV9,
  produceV10,
  produceV11,
  Writer,
} from '@platformatic/kafka';
import {
  type BatchProducer,
  batchProducer,
  batchRecordCount,
  nextSequence,
  stampProducer,
} from './record-batch-encode.ts';

/** One partition's encoded batch for `sendBatches`. */
export interface PartitionBatch {
  partition: number;
  batch: Buffer;
}

/** The Produce versions the client implements, by version: their response parsers are the client's. */
const PRODUCE_VERSIONS = new Map(
  [produceV3, produceV4, produceV5, produceV6, produceV7, produceV8, produceV9, produceV10, produceV11].map(
    (v) => [v.api.version, v],
  ),
);
/** From v9 on, the request uses compact (flexible) encodings and tagged fields (KIP-482). */
const FIRST_FLEXIBLE_VERSION = 9;

/** What the client passes its Produce API: (connection, acks, timeout, messages, options, callback). */
interface ProduceMessage {
  topic: string;
  partition: number;
  value: unknown;
}
interface ProduceOptions {
  producerId?: bigint;
  producerEpoch?: number;
  transactionalId?: string | null;
}
type ProduceCall = (
  connection: Connection,
  acks: number,
  timeout: number,
  messages: ProduceMessage[],
  options: ProduceOptions,
  callback: Callback<unknown>,
) => void;
type ProduceApi = ProduceCall & { version: number };

/** Per-partition sequence numbers of the encoded batches, for one producer id and epoch. */
export class BatchSequences {
  #producerId = -1n;
  #producerEpoch = -1;
  readonly #next = new Map<string, number>();

  /** Stamps `batch` of `topic`/`partition` for this producer unless a previous attempt already did. */
  stamp(topic: string, partition: number, batch: Buffer, producerId: bigint, producerEpoch: number): void {
    const current = batchProducer(batch);
    if (current.producerId === producerId && current.producerEpoch === producerEpoch) return;
    if (producerId !== this.#producerId || producerEpoch !== this.#producerEpoch) {
      this.#producerId = producerId;
      this.#producerEpoch = producerEpoch;
      this.#next.clear();
    }
    const key = `${topic}:${partition}`;
    const stamp: BatchProducer = { producerId, producerEpoch, baseSequence: this.#next.get(key) ?? 0 };
    this.#next.set(key, nextSequence(stamp.baseSequence, batchRecordCount(batch)));
    stampProducer(batch, stamp);
  }
}

/** The Produce request of `version` for messages that all carry encoded batches. */
export function produceRequest(
  version: number,
  acks: number,
  timeout: number,
  messages: readonly ProduceMessage[],
  transactionalId: string | null,
): Writer {
  const compact = version >= FIRST_FLEXIBLE_VERSION;
  const byTopic = new Map<string, ProduceMessage[]>();
  for (const m of messages) {
    const list = byTopic.get(m.topic);
    if (list) list.push(m);
    else byTopic.set(m.topic, [m]);
  }
  const writer = Writer.create()
    .appendString(transactionalId, compact)
    .appendInt16(acks)
    .appendInt32(timeout)
    .appendArray(
      [...byTopic],
      (w, [topic, partitions]) => {
        w.appendString(topic, compact).appendArray(
          partitions,
          (w, m) => {
            const batch = m.value as Buffer;
            w.appendInt32(m.partition);
            if (compact) w.appendUnsignedVarInt(batch.length + 1);
            else w.appendInt32(batch.length);
            w.append(batch);
          },
          compact,
          compact,
        );
      },
      compact,
      compact,
    );
  if (compact) writer.appendTaggedFields();
  if (acks === ProduceAcks.NO_RESPONSE) writer.context.noResponse = true;
  return writer;
}

/** A Producer that also sends batches encoded by record-batch-encode.ts (see the file comment). */
export class PreEncodedProducer extends Producer {
  readonly #batches = new WeakSet<Buffer>();
  readonly #sequences = new BatchSequences();

  /** Resolves once the broker acknowledged every batch (with the producer's acks). */
  async sendBatches(topic: string, batches: readonly PartitionBatch[]): Promise<void> {
    for (const b of batches) this.#batches.add(b.batch);
    await this.send({ messages: batches.map((b) => ({ topic, partition: b.partition, value: b.batch })) });
  }

  override [kGetApi]<RequestArguments extends Array<unknown>, ResponseType>(
    name: string,
    callback: Callback<never>,
  ): void {
    super[kGetApi]<RequestArguments, ResponseType>(name, (error, api) => {
      if (error || name !== 'Produce' || !api) callback(error, api as never);
      else callback(null, this.#batchAwareProduce(api as unknown as ProduceApi) as never);
    });
  }

  #batchAwareProduce(clientApi: ProduceApi): ProduceApi {
    const version = clientApi.version;
    const parseResponse = PRODUCE_VERSIONS.get(version)?.parseResponse;
    const compact = version >= FIRST_FLEXIBLE_VERSION;
    const api: ProduceCall = (connection, acks, timeout, messages, options, callback) => {
      const encoded = messages.filter((m) => this.#batches.has(m.value as Buffer)).length;
      if (encoded === 0) {
        clientApi(connection, acks, timeout, messages, options, callback);
        return;
      }
      if (encoded !== messages.length || !parseResponse) {
        callback(
          new Error(
            parseResponse
              ? 'a Produce request mixes encoded record batches with messages; send them apart'
              : `no response parser for Produce v${version}`,
          ),
        );
        return;
      }
      connection.send(
        0,
        version,
        () => {
          if (options.producerId !== undefined && options.producerEpoch !== undefined)
            for (const m of messages)
              this.#sequences.stamp(
                m.topic,
                m.partition,
                m.value as Buffer,
                options.producerId,
                options.producerEpoch,
              );
          return produceRequest(version, acks, timeout, messages, options.transactionalId ?? null);
        },
        parseResponse as never,
        compact,
        compact,
        callback,
      );
    };
    return Object.assign(api, { version });
  }
}
