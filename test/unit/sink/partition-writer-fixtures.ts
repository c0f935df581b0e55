/**
 * The PartitionWriter under test as the sink tests build it (one partition of topic `tweets` under `/d`), what the
 * sink hands it, and what a reader finds in the committed files afterwards; plus storage doubles that pause or
 * replace single calls, for the race tests.
 */
import assert from 'node:assert/strict';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { TweetpipeError } from '../../../src/errors.ts';
import type { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import type { Storage } from '../../../src/hdfs/storage.ts';
import { silentLogger } from '../../../src/log.ts';
import { parseCommittedFileName, SinkPaths } from '../../../src/sink/filenames.ts';
import type { FormatName } from '../../../src/sink/formats/format.ts';
import { createFormat } from '../../../src/sink/formats/index.ts';
import { decodeManifest, type Manifest } from '../../../src/sink/manifest.ts';
import { PartitionWriter, type RotationPolicy, type WriteItem } from '../../../src/sink/partition-writer.ts';
import { createPartitioner } from '../../../src/sink/partitioner.ts';
import { classify } from '../../../src/sink/sink-record.ts';
import type { KafkaRecord } from '../../../src/types.ts';
import { filesUnder } from './fixtures.ts';

export const ROOT = '/d';
export const TOPIC = 'tweets';
const FIRST_ID = 1_993_000_000_000_000_000n;

export interface Setup {
  storage: Storage;
  format?: FormatName;
  rotation?: Partial<RotationPolicy>;
  flushBytes?: number;
  writerId?: string;
  clock?: () => number;
  uploadIdleMs?: number;
}

export function writer(s: Setup): PartitionWriter {
  return new PartitionWriter({
    storage: s.storage,
    paths: new SinkPaths(ROOT),
    topic: TOPIC,
    partition: 0,
    format: createFormat(s.format ?? 'jsonl', {
      flushBytes: s.flushBytes ?? 4096,
      parquet: { rowGroupRows: 8 },
    }),
    partitioner: createPartitioner({ granularity: 'hour' }),
    rotation: { maxRecords: 1_000_000, maxBytes: 1 << 30, maxAgeMs: 60_000, ...s.rotation },
    writerId: s.writerId ?? 'w1',
    keepManifests: 2,
    clock: s.clock ?? (() => 0),
    logger: silentLogger,
    ...(s.uploadIdleMs === undefined ? {} : { uploadIdleMs: s.uploadIdleMs }),
  });
}

/** What the sink does before calling the writer: poison records become offset-only items. */
export const items = (records: KafkaRecord[]): WriteItem[] =>
  records.map((r) => {
    const c = classify(r);
    return c.ok ? c.record : r.offset;
  });

/** Offsets found inside the committed files (from the tweet ids), checked against each file's name. */
export async function committedOffsets(storage: MemoryStorage): Promise<bigint[]> {
  const out: bigint[] = [];
  for (const { path, data } of filesUnder(storage, `${ROOT}/${TOPIC}`)) {
    const name = parseCommittedFileName(path.slice(path.lastIndexOf('/') + 1));
    assert.ok(name, `not a committed file name: ${path}`);
    let offsets: bigint[];
    if (name.extension === 'parquet') {
      const file = data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer;
      const rows = await parquetReadObjects({
        file,
        columns: ['kafka_offset'],
        compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) },
      });
      offsets = rows.map((r) => r.kafka_offset as bigint);
    } else {
      const text = (name.extension === 'jsonl.gz' ? gunzipSync(data) : data).toString();
      offsets = text
        .split('\n')
        .filter(Boolean)
        .map((l) => BigInt(JSON.parse(l).id) - FIRST_ID);
    }
    assert.equal(offsets[0], name.firstOffset, path);
    assert.equal(offsets.at(-1), name.lastOffset, path);
    out.push(...offsets);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export const range = (from: number, to: number, except: number[] = []): bigint[] =>
  Array.from({ length: to - from }, (_, i) => BigInt(from + i)).filter((o) => !except.includes(Number(o)));

export const manifests = (storage: MemoryStorage): Manifest[] =>
  filesUnder(storage, `${ROOT}/_wal/${TOPIC}/0`).map((f) => decodeManifest(f.data, f.path) as Manifest);

export const isCode = (code: string) => (e: unknown) => e instanceof TweetpipeError && e.code === code;

/** A storage that passes every call to `memory` except the methods given. */
export const overriding = (memory: MemoryStorage, overrides: Partial<Storage>): Storage =>
  Object.assign(Object.create(memory) as MemoryStorage, overrides);

export function deferred<T = void>() {
  let resolve: (v: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A storage whose renames wait for release(); renameRequested resolves at the first one. */
export function blockingRenames(memory: MemoryStorage) {
  const requested = deferred();
  const released = deferred();
  const storage = overriding(memory, {
    rename: async (from: string, to: string) => {
      requested.resolve();
      await released.promise;
      return memory.rename(from, to);
    },
  });
  return { storage, renameRequested: requested.promise, release: released.resolve };
}
