/**
 * Compaction with sink.hive against the shared stack's real HDFS (snapshots over WebHDFS) and Hive Metastore 3.1.3
 * (`tweetpipe stack up --hive`): many small committed files in a few partitions registered in the metastore, and a
 * catalog reader that, over and over, resolves every partition's location through the metastore, lists the files
 * there and counts their records. During the compaction it never counts anything but the exact total (it reads a
 * frozen snapshot meanwhile); afterwards the partitions point at their folders again, the snapshot and the catalog
 * manifest are gone. Spark, reading the table through the metastore while a merged file and its inputs are both in
 * the folder, counts the old set. A run cut off at a step of the catalog swap (the storage or the metastore failing from then
 * on, as after a kill -9) is undone by the next run: locations back, no snapshot, every record once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { catalogWalDir } from '../../../src/compact/catalog-swap.ts';
import { compact } from '../../../src/compact/compact.ts';
import { loadConfig } from '../../../src/config.ts';
import type { Storage } from '../../../src/hdfs/storage.ts';
import type { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';
import { WebHdfsStorage } from '../../../src/hdfs/webhdfs-storage.ts';
import { withMetastore } from '../../../src/hive/metastore-client.ts';
import {
  configuredPartitionLocations,
  type PartitionLocations,
} from '../../../src/hive/partition-locations.ts';
import { addPartitions, ensureTable } from '../../../src/hive/partition-sync.ts';
import { createLogger } from '../../../src/log.ts';
import { committedFileName, parseCommittedFileName } from '../../../src/sink/filenames.ts';
import { metastoreHealth } from '../../../src/stack/hive-server.ts';
import { tableSpec } from '../../../src/table/table-schema.ts';
import { testHdfsClient } from '../../helpers/hdfs-readback.ts';
import { ensurePySpark, sparkRead } from '../../helpers/pyspark.ts';
import { testConfig } from '../../helpers/topics.ts';

const base = testConfig();
const METASTORE = `thrift://localhost:${base.stack.metastorePort}`;
const RUN = `${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;
const HDFS_BASE = `/tmp/tweetpipe-catalog-it-${RUN}`;
const TOPIC = 'tweets';
const DIRS = ['dt=2026-11-25/hour=06', 'dt=2026-11-25/hour=07', 'dt=2026-11-26/hour=00'];
const log = createLogger({ level: process.env.TWEETPIPE_LOG_LEVEL ?? 'warn', format: 'json' });

let client: WebHdfsClient;
let storage: WebHdfsStorage;

/** A tree under its own root, its table registered with every partition; returns the config compact would load. */
async function registeredTree(label: string, filesPerDir: number, recordsPerFile: number) {
  const root = `${HDFS_BASE}/${label}`;
  const config = loadConfig({
    flags: {
      'hdfs.dir': root,
      'topic.name': TOPIC,
      'sink.format': 'jsonl',
      'sink.hive.enabled': true,
      'sink.hive.metastoreUri': METASTORE,
      'sink.hive.table': `tp_catalog_${RUN}_${label}`,
    },
  });
  let id = 0;
  await Promise.all(
    DIRS.flatMap((dir) =>
      Array.from({ length: filesPerDir }, (_, i) => {
        const first = BigInt(i * recordsPerFile);
        const lines = Array.from({ length: recordsPerFile }, () => JSON.stringify({ id: String(++id) }));
        const name = committedFileName(TOPIC, 0, first, first + BigInt(recordsPerFile - 1), 'jsonl');
        return storage.create(`${root}/${TOPIC}/${dir}/${name}`, Buffer.from(`${lines.join('\n')}\n`));
      }),
    ),
  );
  const spec = tableSpec(config);
  await withMetastore(METASTORE, 10_000, async (c) => {
    await ensureTable(c, spec);
    await addPartitions(c, spec, DIRS);
  });
  await sleep(5); // older than --older-than (1 ms)
  return { root, config, total: DIRS.length * filesPerDir * recordsPerFile, tableLocation: spec.location };
}

const runCompact = (root: string, s: Storage, catalog: PartitionLocations | null, readerGraceMs = 0) =>
  compact({
    storage: s,
    root,
    olderThanMs: 1,
    targetBytes: 256 * 1024 * 1024,
    catalog,
    readerGraceMs,
    logger: log,
  });

/** Every partition's location, in one metastore call (one alter_partitions moves them all at once). */
async function locations(table: string): Promise<string[]> {
  return withMetastore(METASTORE, 10_000, async (c) =>
    (await c.get_partitions_by_names('default', table, DIRS)).map((p) => p.sd.location).sort(),
  );
}

/** What a reader through the catalog counts: each partition's location, its committed files, their lines. */
async function catalogRead(table: string): Promise<{ records: number; onSnapshot: boolean }> {
  let records = 0;
  const at = await locations(table);
  for (const location of at) {
    const dir = new URL(location).pathname;
    const files = (await storage.list(dir)).filter(
      (f) => f.type === 'FILE' && parseCommittedFileName(f.name),
    );
    for (const f of files)
      records += (await storage.read(`${dir}/${f.name}`)).toString().split('\n').length - 1;
  }
  return { records, onSnapshot: at.some((l) => l.includes('/.snapshot/')) };
}

async function assertThawed(
  root: string,
  table: string,
  tableLocation: string,
  total: number,
  label: string,
) {
  assert.deepEqual(
    await locations(table),
    DIRS.map((d) => `${tableLocation}/${d}`).sort(),
    `${label}: partitions point at their folders`,
  );
  assert.deepEqual(await storage.list(`${root}/.snapshot`), [], `${label}: no snapshot left`);
  assert.deepEqual(await storage.list(catalogWalDir(root)), [], `${label}: no catalog manifest left`);
  assert.equal((await catalogRead(table)).records, total, `${label}: every record once`);
}

/** Storage whose mutating calls fail from the first matching `cutAt` on (and every call after), as after a kill. */
function cutOff(inner: WebHdfsStorage, cutAt: (op: string, path: string) => boolean) {
  const state = { dead: false };
  const cut =
    <A extends unknown[], R>(op: string, call: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      if (state.dead || cutAt(op, String(a[0]))) {
        state.dead = true;
        throw new Error(`cut off at ${op} ${String(a[0])}`);
      }
      return call.apply(inner, a);
    };
  const reads = <A extends unknown[], R>(call: (...a: A) => Promise<R>) => cut('read', call);
  const s: Storage = {
    create: cut('create', inner.create),
    append: cut('append', inner.append),
    rename: cut('rename', inner.rename),
    delete: cut('delete', inner.delete),
    mkdirs: cut('mkdirs', inner.mkdirs),
    allowSnapshots: cut('allowSnapshots', inner.allowSnapshots),
    createSnapshot: cut('createSnapshot', inner.createSnapshot),
    deleteSnapshot: cut('deleteSnapshot', inner.deleteSnapshot),
    read: reads(inner.read),
    list: reads(inner.list),
    status: reads(inner.status),
  };
  return { storage: s, state };
}

/** The metastore side, failing from its `cutAtMove`-th move on, or once the storage is cut off. */
function dyingCatalog(inner: PartitionLocations, dead: { dead: boolean }, cutAtMove = 0): PartitionLocations {
  let moves = 0;
  const alive = () => {
    if (dead.dead) throw new Error('cut off: metastore call after the kill');
  };
  return {
    name: inner.name,
    locations: async (folders) => {
      alive();
      return inner.locations(folders);
    },
    move: async (m) => {
      alive();
      if (++moves === cutAtMove) {
        dead.dead = true;
        throw new Error(`cut off at metastore move ${moves}`);
      }
      return inner.move(m);
    },
  };
}

describe('compaction with sink.hive: catalog readers see one set of files', { timeout: 600_000 }, () => {
  before(async () => {
    const health = await metastoreHealth(base);
    assert.ok(
      health.ok,
      `no Hive Metastore at ${METASTORE} (${health.detail}): start it with tweetpipe stack up --hive`,
    );
    client = testHdfsClient();
    storage = new WebHdfsStorage(client);
  });

  after(async () => {
    await client?.delete(HDFS_BASE, { recursive: true }).catch(() => {});
    await client?.close();
  });

  test('a catalog reader counts the exact total before, during and after the compaction', async () => {
    const { root, config, total, tableLocation } = await registeredTree('reader', 20, 5);
    const table = config.sink.hive.table as string;
    assert.equal((await catalogRead(table)).records, total);
    const counts = new Map<number, number>();
    let readsOnSnapshot = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        const seen = await catalogRead(table).catch((err: Error) => ({
          records: -1,
          onSnapshot: false,
          err,
        }));
        counts.set(seen.records, (counts.get(seen.records) ?? 0) + 1);
        if (seen.onSnapshot) readsOnSnapshot++;
      }
    })();
    // The reader's pass over 60 files takes well under this: one that resolved the folders (or the snapshot) just
    // before a move finishes before the files it listed change (without the grace it fails on a vanished file).
    const report = await runCompact(root, storage, configuredPartitionLocations(config), 5000);
    stop = true;
    await reader;
    assert.equal(report.filesBefore, 60);
    assert.equal(report.filesAfter, 3);
    assert.deepEqual(
      [...counts.keys()],
      [total],
      `counts seen (count -> reads): ${JSON.stringify([...counts])}`,
    );
    assert.ok(readsOnSnapshot > 0, 'the reader read while the partitions pointed at the snapshot');
    await assertThawed(root, table, tableLocation, total, 'after the compaction');
  });

  test('Spark, reading the table through the metastore in the middle of a swap, counts the old set', async () => {
    const python = await ensurePySpark((line) => process.stderr.write(`# ${line}\n`));
    const { root, config, total } = await registeredTree('spark', 4, 5);
    const table = config.sink.hive.table as string;
    let during: Promise<unknown> | null = null;
    // Between the first merged file's rename and the deletes of its inputs: where a file-listing reader double counts.
    const pausing = Object.assign(Object.create(storage) as WebHdfsStorage, {
      delete: async (path: string, recursive?: boolean) => {
        if (!during && path.startsWith(`${root}/${TOPIC}/`))
          during = sparkRead(python, METASTORE, [{ name: 'table', kind: 'table', table }]).then(
            (r) => r.reads.table,
          );
        await during;
        return storage.delete(path, recursive);
      },
    });
    await runCompact(root, pausing, configuredPartitionLocations(config));
    const seen = await during;
    assert.equal((seen as { rows?: number } | null)?.rows, total, JSON.stringify(seen));
  });

  const storageCuts: [string, (op: string, path: string) => boolean][] = [
    ['the catalog manifest', (op, path) => op === 'create' && path.includes('/_wal/+catalog/')],
    ['the snapshot', (op) => op === 'createSnapshot'],
    ['the first rewrite rename', (op) => op === 'rename'],
    ['the snapshot deletion', (op) => op === 'deleteSnapshot'],
    ['the catalog manifest deletion', (op, path) => op === 'delete' && path.includes('/_wal/+catalog/')],
  ];
  for (const [i, [step, cutAt]] of storageCuts.entries())
    test(`a run cut off at ${step} is undone by the next run`, async () => {
      const { root, config, total, tableLocation } = await registeredTree(`cut${i}`, 3, 2);
      const table = config.sink.hive.table as string;
      const real = configuredPartitionLocations(config);
      assert.ok(real);
      const cut = cutOff(storage, cutAt);
      await assert.rejects(runCompact(root, cut.storage, dyingCatalog(real, cut.state)), /cut off/);
      await runCompact(root, storage, real);
      await assertThawed(root, table, tableLocation, total, `cut off at ${step}`);
    });

  for (const move of [1, 2])
    test(`a run cut off at metastore move ${move} (${move === 1 ? 'to the snapshot' : 'back'}) is undone by the next run`, async () => {
      const { root, config, total, tableLocation } = await registeredTree(`move${move}`, 3, 2);
      const table = config.sink.hive.table as string;
      const real = configuredPartitionLocations(config);
      assert.ok(real);
      const cut = cutOff(storage, () => false);
      await assert.rejects(runCompact(root, cut.storage, dyingCatalog(real, cut.state, move)), /cut off/);
      if (move === 2) {
        assert.ok((await locations(table)).every((l) => l.includes('/.snapshot/')));
        // The sink's registrar (and `table sync`) adds partitions if not exists: it never moves one back early.
        await withMetastore(METASTORE, 10_000, (c) => addPartitions(c, tableSpec(config), DIRS));
        assert.ok((await locations(table)).every((l) => l.includes('/.snapshot/')));
      }
      await runCompact(root, storage, real);
      await assertThawed(root, table, tableLocation, total, `cut off at move ${move}`);
    });
});
