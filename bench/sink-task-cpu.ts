/**
 * The sink task's own CPU per tweet, in process: N synthetic tweets (the bench's generator and seed) as Kafka
 * records of 3 partitions, put through SinkTask in fetch-sized batches into MemoryStorage, every window committed
 * at the end. Reports process.cpuUsage() (all threads: zlib's pool and workers count) per tweet per format.
 * Kafka, HDFS and the consumer loop are left out, so this isolates what the sink's own code costs; compare CPU,
 * not wall time, on a loaded machine.
 *
 *   node_modules/.bin/node bench/sink-task-cpu.ts [tweets=200000] [formats=jsonl,jsonl.gz,parquet] [rounds=3]
 */
import { MemoryStorage } from '../src/hdfs/memory-storage.ts';
import type { FormatName } from '../src/sink/formats/format.ts';
import { SinkTask } from '../src/sink/sink-task.ts';
import type { KafkaRecord } from '../src/types.ts';
import { readSynthetic } from './synthetic-sample.ts';

const TOPIC = 'twitter_data';
const PARTITIONS = 3;
/** Records per put(), about what one fetch of the consumer hands the loop. */
const BATCH = 5_000;

const tweets = Number(process.argv[2] ?? 200_000);
const formats = (process.argv[3] ?? 'jsonl,jsonl.gz,parquet').split(',') as FormatName[];
const rounds = Number(process.argv[4] ?? 3);

async function records(): Promise<KafkaRecord[]> {
  const out: KafkaRecord[] = [];
  const headers = new Map([['source', Buffer.from('synthetic')]]);
  const next = new Array<bigint>(PARTITIONS).fill(0n);
  await readSynthetic(tweets, (batch) => {
    for (const t of batch) {
      const partition = out.length % PARTITIONS;
      const offset = next[partition]!;
      next[partition] = offset + 1n;
      out.push({
        topic: TOPIC,
        partition,
        offset,
        timestamp: t.createdAtMs,
        key: Buffer.from(t.id),
        value: t.value,
        headers,
      });
    }
  });
  // A fetch hands out runs of one partition, as the consumer does.
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
}

async function run(format: FormatName, input: KafkaRecord[]): Promise<number> {
  const storage = new MemoryStorage();
  const task = new SinkTask({
    topic: TOPIC,
    storage,
    dir: '/bench',
    format,
    granularity: 'hour',
    timeZone: 'UTC',
    partitionFields: [],
    maxRecords: 1_000_000,
    maxBytes: 512 * 1024 * 1024,
    maxAgeMs: 3_600_000,
    flushBytes: 4 * 1024 * 1024,
    writerId: 'bench',
    deadLetter: async () => {},
  });
  await task.open([...Array(PARTITIONS).keys()]);
  const start = process.cpuUsage();
  for (let i = 0; i < input.length; i += BATCH) await task.put(input.slice(i, i + BATCH));
  await task.maybeRotate(Number.POSITIVE_INFINITY);
  const used = process.cpuUsage(start);
  await task.close([...Array(PARTITIONS).keys()], { abort: false });
  return (used.user + used.system) / input.length;
}

const input = await records();
const bytes = input.reduce((n, r) => n + (r.value?.length ?? 0), 0);
console.log(`${input.length} tweets, ${Math.round(bytes / input.length)} B average, ${rounds} rounds`);
for (let round = 1; round <= rounds; round++)
  for (const format of formats) {
    const us = await run(format, input);
    console.log(`round ${round} ${format.padEnd(8)} ${us.toFixed(1)} us CPU per tweet`);
  }
