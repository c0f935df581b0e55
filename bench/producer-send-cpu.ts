/**
 * The producer's own CPU per tweet, in process, against the running broker: N synthetic tweets (the bench's
 * generator and seed, made before the clock starts) sent in batches of the produce loop's size, a few in flight,
 * to a fresh topic of 3 partitions, by
 * - `client`: @platformatic/kafka's Producer.send with one message per tweet (what tweet-producer.ts did before
 *   the fourth round of the produce path: Buffer key, BigInt timestamp, the headers Map), and
 * - `encoded`: TweetProducer (record batches encoded by src/kafka/record-batch-encode.ts),
 * alternating, with the same options (idempotent, acks=all, zstd at the configured level 1). Reports
 * process.cpuUsage() (all threads) per tweet, and the calling thread's own share (process.threadCpuUsage()). The source, the mapping and the produce loop are left out; compare
 * CPU, not wall time, on a loaded machine.
 *
 *   node_modules/.bin/node bench/producer-send-cpu.ts [tweets=100000] [rounds=3] [brokers=localhost:9092]
 *     [senders=client,encoded]
 */
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { PRODUCER_DEFAULTS } from '../src/config/kafka.ts';
import { createAdmin, ensureTopic } from '../src/kafka/admin.ts';
import { keyPartition } from '../src/kafka/key-partitioner.ts';
import { TweetProducer } from '../src/kafka/tweet-producer.ts';
import { installZstdCodec } from '../src/kafka/zstd-codec.ts';
import { RECORD_SCHEMA_VERSION, type TweetRecord } from '../src/types.ts';
import { readSynthetic } from './synthetic-sample.ts';

const tweets = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const brokers = (process.argv[4] ?? 'localhost:9092').split(',');
const senders = (process.argv[5] ?? 'client,encoded').split(',') as ('client' | 'encoded')[];
/** The synthetic source's batch size, and the produce loop's batches in flight. */
const BATCH = 1000;
const IN_FLIGHT = 4;

type Send = (records: TweetRecord[]) => Promise<void>;

async function clientSender(topic: string): Promise<{ send: Send; close: () => Promise<void> }> {
  const producer = new Producer({
    clientId: 'bench-client-messages',
    bootstrapBrokers: brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression: 'zstd',
    timeout: PRODUCER_DEFAULTS.requestTimeoutMs,
    autocreateTopics: false,
    partitioner: keyPartition,
  });
  const headers = new Map([
    [Buffer.from('source'), Buffer.from('synthetic')],
    [Buffer.from('schema_version'), Buffer.from(String(RECORD_SCHEMA_VERSION))],
  ]);
  return {
    send: async (records) => {
      await producer.send({
        messages: records.map((r) => ({
          topic,
          key: Buffer.from(r.id),
          value: r.value,
          timestamp: BigInt(r.createdAtMs),
          headers,
        })),
      });
    },
    close: () => producer.close(),
  };
}

function encodedSender(topic: string): { send: Send; close: () => Promise<void> } {
  const producer = new TweetProducer({ clientId: 'bench-encoded', bootstrapBrokers: brokers }, 'synthetic', {
    topic,
    compression: 'zstd',
  });
  return { send: (records) => producer.send(records), close: () => producer.close() };
}

/** CPU us per tweet: all threads, and the calling thread alone (the one that also reads the source). */
async function run(send: Send, input: TweetRecord[]): Promise<{ all: number; main: number }> {
  // One batch first: connections, metadata and the producer id are not what is measured.
  await send(input.slice(0, BATCH));
  const before = process.cpuUsage();
  const mainBefore = process.threadCpuUsage();
  const inFlight: Promise<void>[] = [];
  for (let at = BATCH; at < input.length; at += BATCH) {
    inFlight.push(send(input.slice(at, at + BATCH)));
    if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const used = process.cpuUsage(before);
  const main = process.threadCpuUsage(mainBefore);
  const n = input.length - BATCH;
  return { all: (used.user + used.system) / n, main: (main.user + main.system) / n };
}

installZstdCodec(1);
const input: TweetRecord[] = [];
await readSynthetic(tweets, (batch) => {
  for (const t of batch) input.push(t);
});
const admin = createAdmin({ clientId: 'bench-admin', bootstrapBrokers: brokers });
const stamp = Date.now();
const figures: Record<string, { all: number; main: number }[]> = { client: [], encoded: [] };
for (let round = 0; round < rounds; round++) {
  for (const kind of senders) {
    const topic = `bench-producer-send-${stamp}-${round}-${kind}`;
    await ensureTopic(admin, { name: topic, partitions: 3, replication: 1, retentionMs: 3_600_000 });
    const sender = kind === 'client' ? await clientSender(topic) : encodedSender(topic);
    figures[kind]!.push(await run(sender.send, input));
    await sender.close();
    await admin.deleteTopics({ topics: [topic] });
  }
}
await admin.close();
for (const [kind, us] of Object.entries(figures).filter(([, us]) => us.length > 0))
  console.log(
    `${kind.padEnd(8)} ${us.map((u) => u.all.toFixed(1)).join(', ')} us CPU per tweet (calling thread ${us.map((u) => u.main.toFixed(1)).join(', ')})`,
  );
