/**
 * The atomic swap for catalog readers: while a rewrite run (compact, compliance apply) swaps files inside the
 * partition folders, readers that resolve partitions through the Hive Metastore read a frozen copy of them, so
 * they see the old set of files, then the new one, never both. With `sink.hive` enabled, around a run's jobs:
 *
 *   a. ONE catalog manifest `_wal/+catalog/<job>.json` names the snapshot and, per folder the run rewrites that
 *      the table has as a partition, the partition's location and its frozen twin
 *   b. an HDFS snapshot of the output root, `<root>/.snapshot/tp-<job>` (O(1): no data is copied)
 *   c. each such partition is pointed at its folder in the snapshot (alter_partitions, per table batch)
 *   d. the rewrite jobs swap files in place, as without a catalog
 *   e. each partition is pointed back at its folder, which holds the new set, and any late commits of the sink
 *   f. the snapshot, then the manifest, are deleted
 *
 * The partitions are not moved to a new folder: the sink keeps committing late tweets into the original one, and
 * a new folder would hide them for good. Here they are hidden from catalog readers for one run at most.
 *
 * A kill -9 anywhere is undone by the next run (compact and compliance share the rewrite lock), after it has
 * finished the rewrite jobs the killed run left, so catalog readers stay on the snapshot until the folders hold
 * only the new set: every partition a manifest names is pointed back (only if it still points at the snapshot, so
 * repeating this is harmless), the snapshot is deleted, then the manifest. A torn manifest means its creator died
 * in step a: nothing was moved; the snapshot named after the file, if any, and the manifest are deleted.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { TweetpipeError } from '../errors.ts';
import { type Storage, snapshotPath } from '../hdfs/storage.ts';
import type { PartitionLocations } from '../hive/partition-locations.ts';
import type { Logger } from '../log.ts';
import { newJobId } from './rewrite-job.ts';

export const CATALOG_MANIFEST_VERSION = 1;

interface FrozenPartition {
  folder: string;
  /** Its location before the run, where it goes back to. */
  location: string;
  /** Its location during the run: the same folder inside the snapshot. */
  frozen: string;
}

interface CatalogManifest {
  version: typeof CATALOG_MANIFEST_VERSION;
  job: string;
  /** Snapshot name of the output root. */
  snapshot: string;
  /** The metastore and table the partitions are in. */
  catalog: string;
  partitions: FrozenPartition[];
  createdAt: string;
}

export const catalogWalDir = (root: string): string => `${root}/_wal/+catalog`;
const snapshotName = (job: string): string => `tp-${job}`;

/**
 * The location of the same folder inside the root's snapshot: `hdfs://nn:9000/<root>/t/dt=..` ->
 * `hdfs://nn:9000/<root>/.snapshot/<name>/t/dt=..`; null for a location outside the root.
 */
export function frozenLocation(location: string, root: string, snapshot: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)?(\/.*)$/i.exec(location);
  const path = m?.[2];
  if (!path?.startsWith(`${root}/`)) return null;
  return `${m?.[1] ?? ''}${snapshotPath(root, snapshot)}${path.slice(root.length)}`;
}

export class CatalogSwap {
  private readonly storage: Storage;
  private readonly root: string;
  private readonly catalog: PartitionLocations | null;
  private readonly log: Logger;
  private readonly readerGraceMs: number;

  constructor(o: {
    storage: Storage;
    root: string;
    catalog: PartitionLocations | null;
    /** compact.readerGrace: the wait after each move of the catalog readers (0: none). */
    readerGraceMs?: number | undefined;
    logger: Logger;
  }) {
    this.storage = o.storage;
    this.root = o.root.replace(/\/+$/, '');
    this.catalog = o.catalog;
    this.readerGraceMs = o.readerGraceMs ?? 0;
    this.log = o.logger;
  }

  /**
   * Runs `work` (the run's rewrite jobs) with catalog readers of these folders on a snapshot. Without a catalog,
   * or when the table has none of the folders, `work` simply runs.
   */
  async around<T>(folders: readonly string[], work: () => Promise<T>): Promise<T> {
    const catalog = this.catalog;
    if (!catalog || folders.length === 0) return work();
    const job = newJobId();
    const snapshot = snapshotName(job);
    const partitions: FrozenPartition[] = [];
    for (const [folder, location] of await catalog.locations(folders)) {
      const frozen = frozenLocation(location, this.root, snapshot);
      if (frozen) partitions.push({ folder, location, frozen });
      else
        this.log.warn(
          { partition: folder, location, catalog: catalog.name },
          `the partition points outside ${this.root}: catalog readers of it see the rewrite in place`,
        );
    }
    if (partitions.length === 0) return work();
    const m: CatalogManifest = {
      version: CATALOG_MANIFEST_VERSION,
      job,
      snapshot,
      catalog: catalog.name,
      partitions,
      createdAt: new Date().toISOString(),
    };
    const path = `${catalogWalDir(this.root)}/${job}.json`;
    await this.storage.create(path, Buffer.from(`${JSON.stringify(m, null, 1)}\n`), { overwrite: false });
    let result: T;
    let frozenAt = performance.now();
    try {
      await this.freeze(snapshot);
      const moveStart = performance.now();
      const snapshotMs = Math.round(moveStart - frozenAt);
      const moved = await catalog.move(
        partitions.map((p) => ({ folder: p.folder, from: p.location, to: p.frozen })),
      );
      this.log.info(
        {
          partitions: moved,
          snapshot: snapshotPath(this.root, snapshot),
          catalog: catalog.name,
          snapshotMs,
          moveMs: Math.round(performance.now() - moveStart),
        },
        'catalog readers moved to a snapshot of the partitions being rewritten',
      );
      frozenAt = performance.now();
      // A query that resolved the folders before the move may still be reading the files the work replaces.
      await sleep(this.readerGraceMs);
      result = await work();
    } catch (err) {
      await this.thaw(m, path, frozenAt).catch((thawErr: unknown) =>
        this.log.error(
          { err: thawErr, manifest: path },
          'could not move catalog readers back to the partition folders; the next compact or compliance run does',
        ),
      );
      throw err;
    }
    await this.thaw(m, path, frozenAt);
    return result;
  }

  /**
   * Undoes what a killed run left: call while holding the rewrite lock, after RewriteJobs.recover(). Returns the
   * number of manifests undone.
   */
  async recover(): Promise<number> {
    const dir = catalogWalDir(this.root);
    let undone = 0;
    for (const f of await this.storage.list(dir)) {
      if (f.type !== 'FILE' || !f.name.endsWith('.json')) continue;
      const path = `${dir}/${f.name}`;
      const m = await this.readManifest(path);
      if (m) {
        this.log.warn(
          { manifest: path, catalog: m.catalog },
          'moving back the partitions a previous run moved',
        );
        await this.thaw(m, path, null);
      } else {
        this.log.warn(
          { manifest: path },
          'deleting a torn catalog manifest: its run never moved a partition',
        );
        await this.storage.deleteSnapshot(this.root, snapshotName(f.name.slice(0, -'.json'.length)));
        await this.storage.delete(path);
      }
      undone++;
    }
    return undone;
  }

  /** Takes the snapshot; a root not yet snapshottable is made so once, or the run fails saying how to. */
  private async freeze(snapshot: string): Promise<void> {
    try {
      await this.storage.createSnapshot(this.root, snapshot);
      return;
    } catch (err) {
      if (!(err instanceof TweetpipeError && err.code === 'HDFS_NOT_SNAPSHOTTABLE')) throw err;
    }
    try {
      await this.storage.allowSnapshots(this.root);
    } catch (err) {
      throw new TweetpipeError(
        'HDFS_NOT_SNAPSHOTTABLE',
        `${this.root} is not snapshottable and making it so was refused (${(err as Error).message}). With sink.hive enabled, compact and compliance apply move catalog readers to a snapshot of it while they rewrite: run \`hdfs dfsadmin -allowSnapshot ${this.root}\` as the HDFS superuser once`,
        { cause: err, details: { root: this.root } },
      );
    }
    this.log.info({ root: this.root }, 'the output root made snapshottable');
    await this.storage.createSnapshot(this.root, snapshot);
  }

  /** Steps e and f, also of a recovery (`frozenAt` null): each is harmless to repeat. */
  private async thaw(m: CatalogManifest, path: string, frozenAt: number | null): Promise<void> {
    const catalog = this.catalog;
    // Another table's partitions would be left pointing at a deleted snapshot.
    if (catalog?.name !== m.catalog)
      throw new TweetpipeError(
        'CONFIG_INVALID',
        `${path}: a previous run moved partitions of ${m.catalog} to the snapshot ${m.snapshot} and did not move them back; run with sink.hive enabled for that metastore and table (${catalog ? `not ${catalog.name}` : 'it is disabled'}) so that this run does (catalog readers see the snapshot until then)`,
        { details: { manifest: path } },
      );
    const moveStart = performance.now();
    const back = await catalog.move(
      m.partitions.map((p) => ({ folder: p.folder, from: p.frozen, to: p.location })),
    );
    this.log.info(
      {
        partitions: back,
        catalog: catalog.name,
        moveMs: Math.round(performance.now() - moveStart),
        ...(frozenAt === null ? {} : { onSnapshotMs: Math.round(performance.now() - frozenAt) }),
      },
      'catalog readers moved back to the partition folders',
    );
    // A query that resolved the snapshot before the move back may still be reading it.
    if (frozenAt !== null) await sleep(this.readerGraceMs);
    await this.storage.deleteSnapshot(this.root, m.snapshot);
    await this.storage.delete(path);
  }

  /** The manifest, or null when torn (its create died: cut short, or still under construction). */
  private async readManifest(path: string): Promise<CatalogManifest | null> {
    let m: CatalogManifest;
    try {
      m = JSON.parse((await this.storage.read(path)).toString('utf8')) as CatalogManifest;
    } catch (err) {
      if (err instanceof SyntaxError || (err instanceof TweetpipeError && err.code === 'HDFS_UNFINISHED'))
        return null;
      throw err;
    }
    if (m?.version !== CATALOG_MANIFEST_VERSION || !Array.isArray(m.partitions))
      throw new TweetpipeError('INTERNAL', `${path} is not a tweetpipe catalog manifest of version 1`, {
        details: { path },
      });
    return m;
  }
}
