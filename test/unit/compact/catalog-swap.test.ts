/**
 * The catalog swap of compaction and compliance (src/compact/catalog-swap.ts) on in-memory doubles of HDFS (with
 * snapshots) and of the metastore's partition locations: a catalog reader that resolves each partition through the
 * catalog after every mutating call counts exactly the records stored, never an input and its merged output
 * together; the steps run in the protocol's order; a run cut off at any step is undone by the next (locations back
 * to the folders, no snapshot, no manifest, every record once); a torn manifest is deleted with its snapshot; a
 * root that cannot be made snapshottable fails the run naming the command that fixes it, having moved nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CatalogSwap, catalogWalDir, frozenLocation } from '../../../src/compact/catalog-swap.ts';
import { compact } from '../../../src/compact/compact.ts';
import { applyDeletions } from '../../../src/compact/compliance.ts';
import { rowCodec } from '../../../src/compact/file-rows.ts';
import { TweetpipeError } from '../../../src/errors.ts';
import { MemoryStorage } from '../../../src/hdfs/memory-storage.ts';
import type { Storage } from '../../../src/hdfs/storage.ts';
import type { LocationMove, PartitionLocations } from '../../../src/hive/partition-locations.ts';
import { silentLogger } from '../../../src/log.ts';
import { parseCommittedFileName } from '../../../src/sink/filenames.ts';
import { CrashingStorage, filesUnder, SimulatedCrash, tweetRecords } from '../sink/fixtures.ts';
import { committedOffsets, items, ROOT, range, TOPIC, writer } from '../sink/partition-writer-fixtures.ts';

const NN = 'hdfs://nn:9000';
const TOTAL = 150;

/** The metastore's partition locations, in memory; `dead()` fails every call, as a killed process makes none. */
class MemoryCatalog implements PartitionLocations {
  readonly name = 'memory db.tweets';
  readonly locationOf = new Map<string, string>();
  readonly events: string[];
  dead: () => boolean = () => false;
  onMove: () => Promise<void> = async () => {};

  constructor(events: string[]) {
    this.events = events;
  }

  async locations(folders: readonly string[]): Promise<Map<string, string>> {
    if (this.dead()) throw new SimulatedCrash(0, 'metastore call after the crash');
    return new Map(folders.flatMap((f) => (this.locationOf.has(f) ? [[f, this.locationOf.get(f)!]] : [])));
  }

  async move(moves: readonly LocationMove[]): Promise<number> {
    if (this.dead()) throw new SimulatedCrash(0, 'metastore call after the crash');
    let at = 0;
    for (const m of moves) {
      const now = this.locationOf.get(m.folder);
      if (now !== m.from && now !== m.to) continue;
      this.locationOf.set(m.folder, m.to);
      at++;
    }
    this.events.push(`move ${moves[0]?.to.includes('/.snapshot/') ? 'to snapshot' : 'back'} (${at})`);
    await this.onMove();
    return at;
  }
}

/** MemoryStorage that records its mutating calls and lets a reader look after each. */
class WatchedStorage extends MemoryStorage {
  readonly events: string[] = [];
  afterMutation: () => Promise<void> = async () => {};

  private async mutated(event: string): Promise<void> {
    this.events.push(event);
    await this.afterMutation();
  }
  override async create(...a: Parameters<MemoryStorage['create']>) {
    await super.create(...a);
    await this.mutated(`create ${a[0]}`);
  }
  override async rename(from: string, to: string) {
    const done = await super.rename(from, to);
    await this.mutated(`rename ${to}`);
    return done;
  }
  override async delete(path: string, recursive?: boolean) {
    const done = await super.delete(path, recursive);
    await this.mutated(`delete ${path}`);
    return done;
  }
  override async createSnapshot(dir: string, name: string) {
    await super.createSnapshot(dir, name);
    await this.mutated('createSnapshot');
  }
  override async deleteSnapshot(dir: string, name: string) {
    const done = await super.deleteSnapshot(dir, name);
    await this.mutated('deleteSnapshot');
    return done;
  }
}

async function treeIn<S extends MemoryStorage>(storage: S): Promise<S> {
  const w = writer({ storage, format: 'jsonl', writerId: 'w1', rotation: { maxRecords: 10 } });
  await w.recover();
  await w.write(items(tweetRecords(0, TOTAL, { msPerRecord: 60_000 })));
  await w.close(false);
  await storage.allowSnapshots(ROOT);
  await sleep(3); // older than --older-than (1 ms)
  return storage;
}

const partitionFolders = (s: MemoryStorage): string[] => [
  ...new Set(filesUnder(s, `${ROOT}/${TOPIC}`).map((f) => f.path.slice(0, f.path.lastIndexOf('/')))),
];

/** Every partition folder registered, at its own folder. */
function registered(storage: MemoryStorage, events: string[] = []): MemoryCatalog {
  const catalog = new MemoryCatalog(events);
  for (const folder of partitionFolders(storage)) catalog.locationOf.set(folder, `${NN}${folder}`);
  return catalog;
}

/** A reader through the catalog: each partition's location, its committed files, their records. */
async function catalogCount(storage: MemoryStorage, catalog: MemoryCatalog): Promise<number> {
  let records = 0;
  for (const location of catalog.locationOf.values()) {
    const dir = new URL(location).pathname;
    for (const f of await storage.list(dir)) {
      const name = parseCommittedFileName(f.name);
      if (f.type === 'FILE' && name)
        records += (await rowCodec(name.extension).read(await storage.read(`${dir}/${f.name}`), f.name)).ids
          .length;
    }
  }
  return records;
}

const run = (storage: Storage, catalog: PartitionLocations | null) =>
  compact({ storage, root: ROOT, olderThanMs: 1, targetBytes: 1024 * 1024, catalog, logger: silentLogger });

function assertThawed(storage: MemoryStorage, catalog: MemoryCatalog, label: string): void {
  for (const [folder, location] of catalog.locationOf) assert.equal(location, `${NN}${folder}`, label);
  const paths = (dir: string) => filesUnder(storage, dir).map((f) => f.path);
  assert.deepEqual(paths(`${ROOT}/.snapshot`), [], `${label}: no snapshot left`);
  assert.deepEqual(paths(catalogWalDir(ROOT)), [], `${label}: no catalog manifest left`);
}

/** A registered tree whose catalog reader counts the records after every mutating call and every move. */
async function watchedTree() {
  const storage = await treeIn(new WatchedStorage());
  const catalog = registered(storage);
  const seen = new Set<number>();
  storage.afterMutation = async () => {
    seen.add(await catalogCount(storage, catalog));
  };
  catalog.onMove = storage.afterMutation;
  return { storage, catalog, seen };
}

describe('catalog swap', () => {
  it('keeps catalog readers on the old set until the new one is complete: never a count but the total', async () => {
    for (const withCatalogSwap of [true, false]) {
      const { storage, catalog, seen } = await watchedTree();
      // Without the swap, the same reader of the same catalog sees the in-place swap: the test can tell.
      const report = await run(storage, withCatalogSwap ? catalog : null);
      assert.ok(report.filesBefore > report.filesAfter, JSON.stringify(report));
      if (withCatalogSwap) {
        assert.deepEqual([...seen], [TOTAL]);
        assertThawed(storage, catalog, 'after the run');
      } else
        assert.ok(
          [...seen].some((n) => n !== TOTAL),
          'a reader of the folders sees the swap',
        );
    }
  });

  it('compliance apply: catalog readers see the old set, then the new one, never a file missing', async () => {
    const deleted = new Set(
      tweetRecords(0, TOTAL)
        .filter((r) => [5n, 77n, 140n].includes(BigInt(r.offset)))
        .map((r) => (JSON.parse(String(r.value)) as { id: string }).id),
    );
    for (const withCatalogSwap of [true, false]) {
      const { storage, catalog, seen } = await watchedTree();
      const report = await applyDeletions({
        storage,
        root: ROOT,
        ids: deleted,
        catalog: withCatalogSwap ? catalog : null,
        logger: silentLogger,
      });
      assert.equal(report.removedRecords + report.deferred.length, 3, JSON.stringify(report));
      const removed = report.removedRecords;
      assert.ok(removed > 0, JSON.stringify(report));
      if (withCatalogSwap) {
        assert.deepEqual([...seen].sort(), [TOTAL - removed, TOTAL].sort());
        assertThawed(storage, catalog, 'after compliance apply');
      } else
        assert.ok(
          [...seen].some((n) => n !== TOTAL && n !== TOTAL - removed),
          `a reader of the folders sees a rewritten file missing: ${[...seen]}`,
        );
    }
  });

  it('runs its steps in order: manifest, snapshot, move, rewrites, move back, snapshot and manifest deleted', async () => {
    const storage = await treeIn(new WatchedStorage());
    const catalog = registered(storage, storage.events);
    storage.events.length = 0;
    const report = await run(storage, catalog);
    const steps = storage.events
      .map((e) =>
        e.startsWith(`create ${catalogWalDir(ROOT)}`)
          ? 'create catalog manifest'
          : e.startsWith(`delete ${catalogWalDir(ROOT)}`)
            ? 'delete catalog manifest'
            : e.startsWith(`rename ${ROOT}/${TOPIC}/`)
              ? 'rewrite'
              : e,
      )
      .filter((e) => !/^(create|delete) \//.test(e))
      .filter((e, i, all) => e !== 'rewrite' || all[i - 1] !== 'rewrite');
    assert.ok(report.folders > 0);
    assert.deepEqual(steps, [
      'create catalog manifest',
      'createSnapshot',
      `move to snapshot (${report.folders})`,
      'rewrite',
      `move back (${report.folders})`,
      'deleteSnapshot',
      'delete catalog manifest',
    ]);
  });

  it('undoes a run cut off at any step: locations back, no snapshot, no manifest, every record once', async () => {
    const probe = new CrashingStorage(await treeIn(new MemoryStorage()));
    await run(probe, registered(probe.inner));
    const steps = probe.mutations;
    for (let crashAt = 1; crashAt <= steps; crashAt++) {
      const memory = await treeIn(new MemoryStorage());
      const crashing = new CrashingStorage(memory, crashAt);
      const catalog = registered(memory);
      catalog.dead = () => crashing.mutations >= crashAt;
      await assert.rejects(run(crashing, catalog), SimulatedCrash);
      catalog.dead = () => false;
      await run(memory, catalog);
      assert.deepEqual(await committedOffsets(memory), range(0, TOTAL), `cut off at step ${crashAt}`);
      assertThawed(memory, catalog, `cut off at step ${crashAt}`);
    }
  });

  it('undoes a run whose metastore call failed, moving there or back', async () => {
    for (const failingMove of [1, 2]) {
      const memory = await treeIn(new MemoryStorage());
      const catalog = registered(memory);
      let moves = 0;
      const move = catalog.move.bind(catalog);
      catalog.move = async (m) => {
        if (++moves >= failingMove)
          throw new TweetpipeError('METASTORE', 'connection closed', { retryable: true });
        return move(m);
      };
      await assert.rejects(run(memory, catalog), /connection closed/);
      catalog.move = move;
      await run(memory, catalog);
      assert.deepEqual(await committedOffsets(memory), range(0, TOTAL), `move ${failingMove} failed`);
      assertThawed(memory, catalog, `move ${failingMove} failed`);
    }
  });

  it('a leftover manifest is undone by the next compliance run too, after the rewrite jobs are finished', async () => {
    const memory = await treeIn(new MemoryStorage());
    const catalog = registered(memory);
    const crashing = new CrashingStorage(memory);
    const moves: string[] = [];
    let rewriteManifestsAtMoveBack = -1;
    catalog.onMove = async () => {
      const frozen = [...catalog.locationOf.values()].some((l) => l.includes('/.snapshot/'));
      moves.push(frozen ? 'frozen' : 'back');
      if (!frozen)
        rewriteManifestsAtMoveBack = filesUnder(memory, `${ROOT}/_wal/+rewrite`).filter((f) =>
          f.path.endsWith('.json'),
        ).length;
      // Cut off at the first rewrite's rename (temp file, job manifest and mkdirs before it): a decided job left.
      if (moves.length === 1) {
        crashing.crashAt = crashing.mutations + 4;
        catalog.dead = () => crashing.mutations >= crashing.crashAt;
      }
    };
    await assert.rejects(run(crashing, catalog), SimulatedCrash);
    assert.equal(
      filesUnder(memory, `${ROOT}/_wal/+rewrite`).filter((f) => f.path.endsWith('.json')).length,
      1,
    );
    assert.ok([...catalog.locationOf.values()].some((l) => l.includes('/.snapshot/')));
    catalog.dead = () => false;
    await applyDeletions({ storage: memory, root: ROOT, ids: new Set(), catalog, logger: silentLogger });
    assert.deepEqual(moves, ['frozen', 'back']);
    assert.equal(rewriteManifestsAtMoveBack, 0, 'the rewrite job was finished before readers moved back');
    assert.deepEqual(await committedOffsets(memory), range(0, TOTAL));
    assertThawed(memory, catalog, 'after compliance apply');
  });

  it('deletes a torn manifest and the snapshot named after it, moving nothing', async () => {
    const memory = await treeIn(new MemoryStorage());
    const catalog = registered(memory);
    const job = '20261206T000000000Z-deadbeef';
    await memory.create(`${catalogWalDir(ROOT)}/${job}.json`, Buffer.from('{"version":1,"jo'));
    await memory.createSnapshot(ROOT, `tp-${job}`);
    const before = new Map(catalog.locationOf);
    const swap = new CatalogSwap({ storage: memory, root: ROOT, catalog, logger: silentLogger });
    assert.equal(await swap.recover(), 1);
    assert.deepEqual(catalog.locationOf, before);
    assertThawed(memory, catalog, 'after recovery');
  });

  it('fails naming the root and `hdfs dfsadmin -allowSnapshot` when the root cannot be made snapshottable', async () => {
    const memory = new MemoryStorage();
    await treeIn(memory);
    const refusing = Object.assign(Object.create(memory) as MemoryStorage, {
      createSnapshot: async () => {
        throw new TweetpipeError('HDFS_NOT_SNAPSHOTTABLE', `${ROOT} is not a snapshottable directory`);
      },
      allowSnapshots: async () => {
        throw new TweetpipeError('HDFS_REMOTE', 'AccessControlException: Superuser privilege is required');
      },
    });
    const catalog = registered(memory);
    const before = new Map(catalog.locationOf);
    await assert.rejects(
      run(refusing, catalog),
      (err: unknown) =>
        err instanceof TweetpipeError &&
        err.code === 'HDFS_NOT_SNAPSHOTTABLE' &&
        err.message.includes(`hdfs dfsadmin -allowSnapshot ${ROOT}`),
    );
    assert.deepEqual(catalog.locationOf, before);
    assert.deepEqual(
      filesUnder(memory, catalogWalDir(ROOT)).map((f) => f.path),
      [],
    );
  });

  it('refuses to run over a manifest it cannot undo: no metastore configured, or another table', async () => {
    const memory = await treeIn(new MemoryStorage());
    const crashing = new CrashingStorage(memory);
    const catalog = registered(memory);
    catalog.onMove = async () => {
      crashing.crashAt = crashing.mutations + 1;
    };
    await assert.rejects(run(crashing, catalog), SimulatedCrash);
    const other = Object.assign(registered(memory), { name: 'memory db.other' });
    for (const configured of [null, other])
      await assert.rejects(
        run(memory, configured),
        (err: unknown) =>
          err instanceof TweetpipeError &&
          err.code === 'CONFIG_INVALID' &&
          err.message.includes(catalog.name),
      );
    await run(memory, catalog);
    assertThawed(memory, catalog, 'once run with the table');
  });

  it('maps a location to its twin inside the snapshot of the root, and refuses one outside the root', () => {
    assert.equal(
      frozenLocation(`${NN}/d/t/dt=2026-11-25/hour=06`, '/d', 'tp-1'),
      `${NN}/d/.snapshot/tp-1/t/dt=2026-11-25/hour=06`,
    );
    assert.equal(frozenLocation('/d/t/dt=x', '/d', 'tp-1'), '/d/.snapshot/tp-1/t/dt=x');
    assert.equal(frozenLocation(`${NN}/elsewhere/t/dt=x`, '/d', 'tp-1'), null);
    assert.equal(frozenLocation(`${NN}/dd/t/dt=x`, '/d', 'tp-1'), null);
  });
});
