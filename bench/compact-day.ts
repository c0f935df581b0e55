/**
 * `node bench/compact-day.ts [--rate 0.5] [--hours 24] [--format jsonl.gz] [--keep]`: the "Done when" figure of
 * issue 17, and the memory a merge takes (`--hours 1 --rate 20`: few, large groups).
 *
 * A day of synthetic traffic (created_at spread over 24 hours of yesterday, `--rate` tweets/s over 3 Kafka
 * partitions) is written to the shared HDFS by the sink's own PartitionWriter with the default settings (hourly
 * folders, rotation after 60 s / 500k records / 128 MB, 2 kept manifests), on a clock that follows the tweets'
 * time, so a day of 60 s windows commits in minutes. Then `compact` runs as it would the next day (every folder
 * older than --older-than), and the bench reports files before and after, NameNode objects (inodes and blocks),
 * the time taken, the longest double-visibility window, the process's resident memory before and during the
 * compaction (sampled every 20 ms), and checks every id exactly once. `--hours` writes only the first hours of the
 * day, so that a high rate makes large merge groups in little time.
 */
import { parseArgs } from 'node:util';
import { compact } from '../src/compact/compact.ts';
import { rowCodec } from '../src/compact/file-rows.ts';
import { committedFolders } from '../src/compact/plan.ts';
import { loadConfig } from '../src/config.ts';
import type { Storage } from '../src/hdfs/storage.ts';
import { createLogger } from '../src/log.ts';
import { hdfsStorage } from '../src/pipeline/hdfs-storage.ts';
import { SinkPaths } from '../src/sink/filenames.ts';
import type { FormatName } from '../src/sink/formats/format.ts';
import { createFormat } from '../src/sink/formats/index.ts';
import { PartitionWriter } from '../src/sink/partition-writer.ts';
import { createPartitioner } from '../src/sink/partitioner.ts';
import { classify } from '../src/sink/sink-record.ts';
import { generateBatch } from '../src/sources/synthetic-batch.ts';
import { SyntheticTweets } from '../src/sources/synthetic-payloads.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '0.5' },
    format: { type: 'string', default: 'jsonl.gz' },
    keep: { type: 'boolean', default: false },
    hours: { type: 'string', default: '24' },
  },
});
const PARTITIONS = 3;
const DAY_MS = 86_400_000;
const TOPIC = 'twitter_data';

const config = loadConfig();
const log = createLogger({ level: 'warn', format: 'json' });
const { storage, client } = hdfsStorage(config, log);
const root = `/tmp/tweetpipe-bench-compact-${Date.now().toString(36)}`;
const paths = new SinkPaths(root);
const { sink } = config;

/** Inodes (files and directories) and blocks under root, as the NameNode holds them. */
async function namenodeObjects(
  s: Storage,
  dir: string,
): Promise<{ files: number; dirs: number; blocks: number }> {
  const out = { files: 0, dirs: 0, blocks: 0 };
  for (const e of await s.list(dir)) {
    if (e.type === 'DIRECTORY') {
      const sub = await namenodeObjects(s, `${dir}/${e.name}`);
      out.files += sub.files;
      out.dirs += sub.dirs + 1;
      out.blocks += sub.blocks;
    } else {
      out.files++;
      out.blocks += Math.ceil(e.length / (128 * 1024 * 1024));
    }
  }
  return out;
}

async function committedFileCount(): Promise<number> {
  let n = 0;
  for await (const folder of committedFolders(storage, root)) n += folder.files.length;
  return n;
}

async function committedBytes(): Promise<number> {
  let n = 0;
  for await (const folder of committedFolders(storage, root)) for (const f of folder.files) n += f.bytes;
  return n;
}

async function writeDay(rate: number): Promise<Set<string>> {
  const now = { ms: 0 };
  const writers = Array.from({ length: PARTITIONS }, (_, partition) => {
    return new PartitionWriter({
      storage,
      paths,
      topic: TOPIC,
      partition,
      format: createFormat(args.format as FormatName, { flushBytes: 1 << 20, gzipLevel: sink.gzipLevel }),
      partitioner: createPartitioner({ granularity: sink.granularity, timeZone: sink.timezone, fields: [] }),
      rotation: { maxRecords: sink.maxRecords, maxBytes: sink.maxBytes, maxAgeMs: sink.maxAgeS * 1000 },
      writerId: `bench.${partition}`,
      keepManifests: 2,
      clock: () => now.ms,
      logger: log,
    });
  });
  for (const w of writers) await w.recover();
  const tweets = new SyntheticTweets({ seed: 1 });
  const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const count = Math.round((DAY_MS / 1000) * rate * (Number(args.hours) / 24));
  const offsets = new Array<bigint>(PARTITIONS).fill(0n);
  const ids = new Set<string>();
  for (let i = 0; i < count; i++) {
    now.ms = dayStart + Math.floor((i * DAY_MS * Number(args.hours)) / 24 / count);
    const [record] = generateBatch(tweets, 1, now.ms, 'synthetic').records;
    if (!record) continue;
    ids.add(record.id);
    const partition = i % PARTITIONS;
    // The sink's rotation timer: every writer rotates a window older than maxAge, quiet or not.
    for (const w of writers) await w.maybeRotate(now.ms);
    const classified = classify({
      topic: TOPIC,
      partition,
      offset: offsets[partition]!,
      timestamp: record.createdAtMs,
      key: Buffer.from(record.id),
      value: record.value,
      headers: new Map(),
    });
    if (!classified.ok) throw new Error(classified.reason);
    await writers[partition]!.write([classified.record]);
    offsets[partition]!++;
    if (i % 5000 === 0) process.stderr.write(`# ${i}/${count} tweets written\n`);
  }
  for (const w of writers) await w.close(false);
  return ids;
}

async function readIds(): Promise<string[]> {
  const ids: string[] = [];
  for await (const folder of committedFolders(storage, root)) {
    for (const f of folder.files)
      ids.push(...(await rowCodec(f.extension).read(await storage.read(f.path), f.path)).ids);
  }
  return ids;
}

try {
  const t0 = performance.now();
  const written = await writeDay(Number(args.rate));
  const writeS = (performance.now() - t0) / 1000;
  const filesBefore = await committedFileCount();
  const bytesBefore = await committedBytes();
  const objectsBefore = await namenodeObjects(storage, root);
  await new Promise((r) => setTimeout(r, 1500));
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 20);
  const report = await compact({
    storage,
    root,
    olderThanMs: 1000,
    targetBytes: 256 * 1024 * 1024,
    logger: log,
  }).finally(() => clearInterval(sampler));
  const filesAfter = await committedFileCount();
  const objectsAfter = await namenodeObjects(storage, root);
  const ids = await readIds();
  const distinct = new Set(ids);
  const lost = [...written].filter((id) => !distinct.has(id)).length;
  const result = {
    format: args.format,
    tweets: written.size,
    writeDaySeconds: Number(writeS.toFixed(1)),
    filesBefore,
    filesAfter,
    reduction: Number((filesBefore / filesAfter).toFixed(1)),
    namenodeObjectsBefore: objectsBefore,
    namenodeObjectsAfter: objectsAfter,
    compactSeconds: Number((report.tookMs / 1000).toFixed(1)),
    maxDoubleVisibleMs: Number(report.maxDoubleVisibleMs.toFixed(1)),
    rssBeforeCompactMiB: Math.round(rssBefore / 2 ** 20),
    rssPeakCompactMiB: Math.round(rssPeak / 2 ** 20),
    committedMiBBefore: Number((bytesBefore / 2 ** 20).toFixed(1)),
    lost,
    doubled: ids.length - distinct.size,
  };
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
} finally {
  if (!args.keep) await storage.delete(root, true).catch(() => {});
  await client.close();
}
