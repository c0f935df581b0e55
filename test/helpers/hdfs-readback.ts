/**
 * Reads back what `tweetpipe sink` committed to HDFS the way a downstream reader does, and checks it against the
 * topic it came from. Files are found by walking the layout through WebHDFS and skipping `_`- and `.`-prefixed
 * names (what Spark and Hive skip), never through the sink's manifests: a bug in the manifests must not hide
 * itself. JSON Lines are downloaded, gunzipped and parsed here; Parquet (and, for comparison, JSON Lines too) is
 * read by DuckDB from local copies, an independent reader.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { Consumer } from '@platformatic/kafka';
import { TweetpipeError } from '../../src/errors.ts';
import { WebHdfsClient } from '../../src/hdfs/webhdfs.ts';
import type { HdfsFileStatus } from '../../src/hdfs/webhdfs-types.ts';
import { kafkaConnection } from '../../src/kafka/client-options.ts';
import { type CommittedFile, parseCommittedFileName } from '../../src/sink/filenames.ts';
import { testConfig } from './topics.ts';

/** A WebHDFS client for the cluster the tests use (TWEETPIPE_WEBHDFS). Close it when done. */
export function testHdfsClient(): WebHdfsClient {
  const config = testConfig();
  return new WebHdfsClient({
    urls: config.hdfs.webhdfs,
    user: config.hdfs.user,
    timeoutMs: 30_000,
    retry: { attempts: 4, baseMs: 200, capMs: 2000 },
  });
}

export interface HdfsFile {
  path: string;
  length: number;
}

/** Every file under `dir`, recursively; [] when `dir` does not exist. `hidden: false` skips `_` and `.` names. */
export async function listFiles(
  client: WebHdfsClient,
  dir: string,
  opts: { hidden: boolean },
): Promise<HdfsFile[]> {
  let statuses: HdfsFileStatus[];
  try {
    statuses = await client.listStatus(dir);
  } catch (err) {
    if (err instanceof TweetpipeError && err.code === 'HDFS_NOT_FOUND') return [];
    throw err;
  }
  const out: HdfsFile[] = [];
  for (const s of statuses) {
    if (!opts.hidden && (s.pathSuffix.startsWith('_') || s.pathSuffix.startsWith('.'))) continue;
    const path = `${dir}/${s.pathSuffix}`;
    if (s.type === 'DIRECTORY') out.push(...(await listFiles(client, path, opts)));
    else out.push({ path, length: s.length });
  }
  return out;
}

/** A file a reader of the layout sees: `<root>/<topic>/<partitionPath>/<name>`. */
export interface CommittedFileEntry extends HdfsFile {
  /** The path below the root. */
  relPath: string;
  /** Directories between the topic directory and the file, e.g. `dt=2026-11-25/hour=06`. */
  partitionPath: string;
  /** The parsed file name; null when the name is not a committed file name. */
  name: CommittedFile | null;
}

/** The files a reader sees under `root` (anything outside `<root>/<topic>/` is reported too, with name null). */
export async function listCommitted(
  client: WebHdfsClient,
  root: string,
  topic: string,
): Promise<CommittedFileEntry[]> {
  return (await listFiles(client, root, { hidden: false })).map((f) => {
    const relPath = f.path.slice(root.length + 1);
    const parts = relPath.split('/');
    const base = parts.pop() ?? '';
    const inTopic = parts[0] === topic && parts.length > 1;
    const name = parseCommittedFileName(base);
    return {
      ...f,
      relPath,
      partitionPath: parts.slice(1).join('/'),
      name: inTopic && name?.topic === topic ? name : null,
    };
  });
}

/** One record as a reader gets it back. */
export interface ReadBackRecord {
  id: string;
  /** created_at as epoch ms. */
  createdAtMs: number;
  file: CommittedFileEntry;
}

/** Downloads a JSON Lines file (gunzipping `.jsonl.gz`) and parses every line. */
export async function readJsonLines(
  client: WebHdfsClient,
  file: CommittedFileEntry,
): Promise<Record<string, unknown>[]> {
  const ext = file.name?.extension;
  if (ext !== 'jsonl' && ext !== 'jsonl.gz') throw new Error(`${file.path} is not JSON Lines`);
  const raw = await client.readAll(file.path);
  const text = (ext === 'jsonl.gz' ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Copies files to `localDir`, keeping their path below `root` (so DuckDB sees the dt=/hour= directories). */
export async function download(
  client: WebHdfsClient,
  files: CommittedFileEntry[],
  localDir: string,
): Promise<void> {
  await eachLimited(files, async (f) => {
    const local = join(localDir, f.relPath);
    await mkdir(dirname(local), { recursive: true });
    await writeFile(local, await client.readAll(f.path));
  });
}

/** Runs `fn` over `items`, a few at a time (hundreds of small files read one by one take long). */
async function eachLimited<T>(items: T[], fn: (item: T) => Promise<void>, limit = 8): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface DuckRow {
  id: string;
  createdAtMs: number;
  /** Path below the local directory, which is the path below the HDFS root. */
  relPath: string;
  /** Parquet only (the kafka_offset column); null for JSON Lines. */
  kafkaOffset: bigint | null;
}

/** Every row of the local copies of one format, read by DuckDB. */
export async function duckdbRows(localDir: string, extension: string): Promise<DuckRow[]> {
  const glob = `${localDir}/**/*.${extension}`;
  const source =
    extension === 'parquet'
      ? `read_parquet('${glob}', filename = true, hive_partitioning = false)`
      : `read_json('${glob}', format = 'newline_delimited', filename = true, hive_partitioning = false,
           columns = {id: 'VARCHAR', created_at: 'TIMESTAMPTZ'})`;
  const offset = extension === 'parquet' ? 'kafka_offset' : 'NULL::BIGINT';
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT id, epoch_ms(created_at)::BIGINT AS ms, filename, ${offset} AS kafka_offset FROM ${source}`,
    );
    return reader.getRowObjects().map((r) => ({
      id: String(r.id),
      createdAtMs: Number(r.ms),
      relPath: String(r.filename).slice(localDir.length + 1),
      kafkaOffset: r.kafka_offset === null ? null : BigInt(r.kafka_offset as bigint),
    }));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** The given columns of every row of the local Parquet copies, as DuckDB reads them (BIGINT as bigint). */
export async function parquetColumns(
  localDir: string,
  columns: readonly string[],
): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT ${columns.join(', ')} FROM read_parquet('${localDir}/**/*.parquet', hive_partitioning = false)`,
    );
    return reader.getRowObjects();
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/**
 * Every record of the given committed files, with the file it is in (files whose name does not parse are left
 * out). JSON Lines are read here; Parquet by DuckDB from copies in `localDir` (required for Parquet).
 */
export async function readBack(
  client: WebHdfsClient,
  files: CommittedFileEntry[],
  localDir?: string,
): Promise<ReadBackRecord[]> {
  const out: ReadBackRecord[] = [];
  const parquet = files.filter((f) => f.name?.extension === 'parquet');
  const jsonl = files.filter((f) => f.name !== null && f.name.extension !== 'parquet');
  await eachLimited(jsonl, async (f) => {
    for (const doc of await readJsonLines(client, f))
      out.push({ id: String(doc.id), createdAtMs: Date.parse(String(doc.created_at)), file: f });
  });
  if (parquet.length > 0) {
    if (localDir === undefined) throw new Error('reading Parquet needs a local directory for DuckDB');
    await download(client, parquet, localDir);
    const byRel = new Map(parquet.map((f) => [f.relPath, f]));
    for (const row of await duckdbRows(localDir, 'parquet')) {
      const file = byRel.get(row.relPath);
      if (!file) throw new Error(`DuckDB read ${row.relPath}, which was not downloaded`);
      out.push({ id: row.id, createdAtMs: row.createdAtMs, file });
    }
  }
  return out;
}

/** End offset (next offset to be written) of every partition of `topic`, by partition index. */
export async function topicEndOffsets(topic: string): Promise<bigint[]> {
  const config = testConfig();
  const consumer = new Consumer({
    ...kafkaConnection(config, 'test'),
    groupId: `tweetpipe-test-ends-${randomUUID()}`,
    timeout: 10_000,
    retries: 3,
  });
  try {
    return (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
  } finally {
    await consumer.close(true).catch(() => {});
  }
}

/** `dt=YYYY-MM-DD/hour=HH` of an instant, in UTC. */
export function utcHourPath(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/** `dt=YYYY-MM-DD/hour=HH/minute=MM` of an instant, in UTC (sink.granularity minute). */
export function utcMinutePath(ms: number): string {
  return `${utcHourPath(ms)}/minute=${new Date(ms).toISOString().slice(14, 16)}`;
}

export interface ExactlyOnceReport {
  records: number;
  distinctIds: number;
  files: number;
  /** Every violation found, as a sentence; empty when the layout holds each record exactly once. */
  problems: string[];
}

/**
 * Checks committed files against the topic: file names parse; per Kafka partition the files' offset ranges
 * tile [0, end) without gap or overlap (offsets in `skipped`, dead-lettered records, may only appear inside or
 * between ranges without a record); each file holds one record per offset of its range; every record sits in
 * the hour directory of its created_at (UTC; `timePath` for another granularity); ids are exactly
 * `expectedIds`, each once.
 */
export function checkExactlyOnce(input: {
  files: CommittedFileEntry[];
  records: ReadBackRecord[];
  ends: bigint[];
  expectedIds: Iterable<string>;
  skipped?: Map<number, Set<bigint>>;
  timePath?: (ms: number) => string;
}): ExactlyOnceReport {
  const problems: string[] = [];
  const { files, records, ends } = input;
  const skipped = input.skipped ?? new Map<number, Set<bigint>>();
  const isSkipped = (p: number, o: bigint) => skipped.get(p)?.has(o) ?? false;
  const say = (what: string) => {
    if (problems.length < 50) problems.push(what);
  };

  for (const f of files) if (!f.name) say(`a reader sees ${f.relPath}, which is not a committed file name`);
  const perFile = new Map<CommittedFileEntry, number>();
  for (const r of records) perFile.set(r.file, (perFile.get(r.file) ?? 0) + 1);

  const byPartition = new Map<number, CommittedFileEntry[]>();
  for (const f of files) {
    if (!f.name) continue;
    const list = byPartition.get(f.name.partition) ?? [];
    list.push(f);
    byPartition.set(f.name.partition, list);
  }
  for (const p of byPartition.keys())
    if (p >= ends.length) say(`files for partition ${p}, which the topic does not have`);
  ends.forEach((end, p) => {
    const list = (byPartition.get(p) ?? []).sort((a, b) => Number(a.name!.firstOffset - b.name!.firstOffset));
    let next = 0n;
    for (const f of list) {
      const { firstOffset: first, lastOffset: last } = f.name!;
      if (first < next) say(`partition ${p}: ${f.relPath} overlaps offsets below ${next}`);
      for (let o = next; o < first; o++)
        if (!isSkipped(p, o)) {
          say(`partition ${p}: offset ${o} is in no file (gap before ${f.relPath})`);
          break;
        }
      let expected = Number(last - first + 1n);
      for (const o of skipped.get(p) ?? []) if (o >= first && o <= last) expected--;
      const got = perFile.get(f) ?? 0;
      if (got !== expected) say(`${f.relPath} holds ${got} records where its name says ${expected}`);
      if (last + 1n > next) next = last + 1n;
    }
    for (let o = next; o < end; o++)
      if (!isSkipped(p, o)) {
        say(`partition ${p}: offsets ${o}..${end - 1n} are in no file`);
        break;
      }
    if (next > end) say(`partition ${p}: files go up to offset ${next - 1n}, past the end ${end}`);
  });

  const timePath = input.timePath ?? utcHourPath;
  const misplaced = records.filter((r) => r.file.partitionPath !== timePath(r.createdAtMs));
  if (misplaced.length > 0)
    say(
      `${misplaced.length} records are outside the time directory of their created_at (UTC), e.g. ${misplaced
        .slice(0, 3)
        .map((r) => `${r.id} created ${new Date(r.createdAtMs).toISOString()} in ${r.file.relPath}`)
        .join('; ')}`,
    );

  const seen = new Map<string, number>();
  for (const r of records) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
  const duplicates = [...seen].filter(([, n]) => n > 1);
  if (duplicates.length > 0)
    say(
      `${duplicates.length} ids are committed more than once, e.g. ${duplicates
        .slice(0, 5)
        .map(([id, n]) => `${id} x${n}`)
        .join(', ')}`,
    );
  const expected = new Set(input.expectedIds);
  const missing = [...expected].filter((id) => !seen.has(id));
  const extra = [...seen.keys()].filter((id) => !expected.has(id));
  if (missing.length > 0)
    say(
      `${missing.length} of ${expected.size} expected ids are missing, e.g. ${missing.slice(0, 5).join(', ')}`,
    );
  if (extra.length > 0)
    say(`${extra.length} ids were never in the topic, e.g. ${extra.slice(0, 5).join(', ')}`);

  return { records: records.length, distinctIds: seen.size, files: files.length, problems };
}

/** Everything a test asserts about one sink output: the exactly-once report and the files left in `_tmp`. */
export interface SinkOutput extends ExactlyOnceReport {
  committed: CommittedFileEntry[];
  tmpFiles: string[];
}

/** Reads back the layout under `root` and checks it against `topic` (see checkExactlyOnce). */
export async function verifySinkOutput(
  client: WebHdfsClient,
  opts: {
    root: string;
    topic: string;
    expectedIds: Iterable<string>;
    skipped?: Map<number, Set<bigint>>;
    /** Where Parquet files are copied for DuckDB. */
    localDir?: string;
    timePath?: (ms: number) => string;
  },
): Promise<SinkOutput> {
  const committed = await listCommitted(client, opts.root, opts.topic);
  const records = await readBack(client, committed, opts.localDir);
  const report = checkExactlyOnce({
    files: committed,
    records,
    ends: await topicEndOffsets(opts.topic),
    expectedIds: opts.expectedIds,
    ...(opts.skipped ? { skipped: opts.skipped } : {}),
    ...(opts.timePath ? { timePath: opts.timePath } : {}),
  });
  const tmpFiles = (await listFiles(client, `${opts.root}/_tmp`, { hidden: true })).map((f) => f.path);
  return { ...report, committed, tmpFiles };
}
