/**
 * Commit manifests: the write-ahead record that makes a window's files part of the dataset (the role of
 * kafka-connect-hdfs's FSWAL). One manifest per committed window, under `_wal/<topic>/<partition>/`, named by
 * the window's start offset (20 digits, so names sort like offsets):
 *
 * - Recovery costs one list and one or two reads however many windows were ever committed: the newest name is
 *   the newest window, and only the last few manifests are kept.
 * - Fencing without leases: a window starts right after the newest committed one, so two writers of the same
 *   partition (a zombie after a rebalance) compete for the same name and exclusive create (overwrite=false)
 *   lets only one win. Because old names are pruned, a writer that is far behind could still create a name
 *   that no longer exists; so after its create a writer lists the directory and proceeds only if its manifest
 *   is the newest and its predecessor ends before it starts. Recovery applies the same rule.
 * - A manifest that a new owner may create again after its removal (a torn or a void window's) is not deleted by
 *   name but first renamed to a unique name, then checked and deleted there. A DELETE retried after a lost reply
 *   could remove the manifest that another writer put under that name meanwhile; a retried rename onto a unique
 *   name that now exists changes nothing. And a file that looked torn may only have been under construction
 *   (HDFS shows a file being created, empty): if it is a whole manifest once set aside, it is put back.
 */
import { randomUUID } from 'node:crypto';
import { TweetpipeError } from '../errors.ts';
import type { FileStatus, Storage } from '../hdfs/storage.ts';
import type { Logger } from '../log.ts';
import { manifestFileName, parseManifestFileName, type SinkPaths } from './filenames.ts';

export const MANIFEST_VERSION = 1;

/** One file of a window. Offsets are decimal strings (int64 does not fit a JSON number). */
export interface ManifestFile {
  tmp: string;
  final: string;
  records: number;
  bytes: number;
  firstOffset: string;
  lastOffset: string;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  topic: string;
  partition: number;
  /** First offset the window covers: the previous window's end + 1 (or the first offset ever consumed). */
  startOffset: string;
  /** Last offset the window covers, written or dead-lettered; Kafka may resume at endOffset + 1. */
  endOffset: string;
  files: ManifestFile[];
  createdAt: string;
  writerId: string;
}

export function encodeManifest(m: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 1)}\n`);
}

const isOffset = (v: unknown): v is string => typeof v === 'string' && /^\d{1,19}$/.test(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function isManifestFile(f: unknown): f is ManifestFile {
  const o = f as Record<string, unknown> | null;
  return (
    !!o &&
    typeof o.tmp === 'string' &&
    typeof o.final === 'string' &&
    isCount(o.records) &&
    isCount(o.bytes) &&
    isOffset(o.firstOffset) &&
    isOffset(o.lastOffset)
  );
}

/**
 * Parses a manifest. Null for a torn file (empty or cut-off JSON: its writer died while creating it, so the
 * window never got past that point); a complete file that is not a valid manifest is an error.
 */
export function decodeManifest(bytes: Buffer, path: string): Manifest | null {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  const m = raw as Record<string, unknown> | null;
  const valid =
    !!m &&
    m.version === MANIFEST_VERSION &&
    typeof m.topic === 'string' &&
    Number.isSafeInteger(m.partition) &&
    isOffset(m.startOffset) &&
    isOffset(m.endOffset) &&
    Array.isArray(m.files) &&
    m.files.every(isManifestFile) &&
    typeof m.writerId === 'string';
  if (!valid)
    throw new TweetpipeError(
      'INTERNAL',
      `${path} is not a tweetpipe manifest of version ${MANIFEST_VERSION}`,
      {
        details: { path },
      },
    );
  return raw as Manifest;
}

interface Entry {
  name: string;
  start: bigint;
  /** NameNode time of creation: one clock for all writers, unlike createdAt. */
  modificationTime: number;
}

function entries(listing: FileStatus[]): Entry[] {
  const out: Entry[] = [];
  for (const f of listing) {
    const start = f.type === 'FILE' ? parseManifestFileName(f.name) : null;
    if (start !== null) out.push({ name: f.name, start, modificationTime: f.modificationTime });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The listing that latest() works from is out of date. */
class ListAgain extends Error {}

interface Loaded {
  entry: Entry;
  manifest: Manifest;
}

/** The manifests of one Kafka partition. */
export class ManifestLog {
  private readonly storage: Storage;
  private readonly dir: string;
  private readonly keep: number;
  private readonly log: Logger;

  constructor(opts: {
    storage: Storage;
    paths: SinkPaths;
    topic: string;
    partition: number;
    keep: number;
    logger: Logger;
  }) {
    this.storage = opts.storage;
    this.dir = opts.paths.walDir(opts.topic, opts.partition);
    this.keep = Math.max(2, opts.keep);
    this.log = opts.logger;
  }

  /**
   * The newest committed manifest, or null when the partition never committed: one list call and normally
   * two reads (the newest and its predecessor, to check that they do not overlap).
   *
   * Leftovers of writers that died or lost a race are removed on the way: torn manifests, and of two
   * overlapping manifests the one created later, which can never have passed the fencing check in commit().
   */
  async latest(): Promise<Manifest | null> {
    // A listed manifest can be pruned by a newer writer before it is read: list again, the newer one is there.
    // The same when a manifest taken for torn was complete after all (it was put back).
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.latestOfListing();
      } catch (err) {
        const vanished = err instanceof TweetpipeError && err.code === 'HDFS_NOT_FOUND';
        if (!(vanished || err instanceof ListAgain) || attempt >= 5) throw err;
        this.log.info(
          { dir: this.dir, err },
          'a manifest changed while reading the newest ones: listing again',
        );
      }
    }
  }

  private async latestOfListing(): Promise<Manifest | null> {
    const list = entries(await this.storage.list(this.dir));
    let newer: Loaded | null = null;
    for (let i = list.length - 1; i >= 0; i--) {
      const current = await this.load(list[i] as Entry);
      if (!current) continue;
      if (!newer) {
        newer = current;
        continue;
      }
      if (BigInt(current.manifest.endOffset) < BigInt(newer.manifest.startOffset)) return newer.manifest;
      if (current.entry.modificationTime === newer.entry.modificationTime)
        throw new TweetpipeError(
          'FENCED',
          `${this.dir}: two overlapping manifests, a commit is in progress elsewhere`,
          {
            retryable: true,
            details: { manifests: [current.entry.name, newer.entry.name] },
          },
        );
      const stale = current.entry.modificationTime > newer.entry.modificationTime ? current : newer;
      this.log.warn(
        { manifest: `${this.dir}/${stale.entry.name}` },
        'deleting a manifest that lost a fencing race',
      );
      await this.storage.delete(`${this.dir}/${stale.entry.name}`);
      if (stale === newer) newer = current;
    }
    return newer?.manifest ?? null;
  }

  /** Reads a listed manifest; a torn one is deleted and gives null. */
  private async load(entry: Entry): Promise<Loaded | null> {
    const manifest = await this.read(entry.name);
    if (manifest) return { entry, manifest };
    this.log.warn({ manifest: `${this.dir}/${entry.name}` }, 'deleting a torn manifest');
    if (await this.remove(entry.name, 'torn')) return null;
    throw new ListAgain(`${this.dir}/${entry.name} was still being written`);
  }

  private async read(name: string): Promise<Manifest | null> {
    const path = `${this.dir}/${name}`;
    const bytes = await this.bytesOf(path);
    const m = bytes && decodeManifest(bytes, path);
    if (m && m.startOffset !== parseManifestFileName(name)?.toString())
      throw new TweetpipeError('INTERNAL', `${path} holds a window that starts at ${m.startOffset}`, {
        details: { path },
      });
    return m;
  }

  /**
   * Writes the manifest of a window and checks that this writer owns the window (see the module comment).
   * Returns the names to prune once the window's files are renamed. Throws FENCED when another writer
   * committed this range; the manifest is then removed again.
   */
  async commit(m: Manifest): Promise<string[]> {
    const start = BigInt(m.startOffset);
    const name = manifestFileName(start);
    const path = `${this.dir}/${name}`;
    try {
      await this.storage.create(path, encodeManifest(m), { overwrite: false });
    } catch (err) {
      if (!(err instanceof TweetpipeError && err.code === 'HDFS_ALREADY_EXISTS')) throw err;
      // A create retried after a lost reply finds its own manifest: that is a success.
      const existing = await this.read(name);
      if (existing?.writerId !== m.writerId || existing.endOffset !== m.endOffset)
        throw fenced(m, `another writer committed a window starting at offset ${start}`, err);
    }
    for (let attempt = 1; ; attempt++) {
      const list = entries(await this.storage.list(this.dir));
      const own = list.findIndex((e) => e.name === name);
      const newest = list[list.length - 1];
      let reason: string | null = null;
      if (own === -1) reason = 'its manifest was removed by a newer writer';
      else if (newest && newest.start > start) reason = `a newer writer committed offset ${newest.start}`;
      else if (own > 0) {
        const before = await this.read((list[own - 1] as Entry).name).catch((err: unknown) => {
          if (err instanceof TweetpipeError && err.code === 'HDFS_NOT_FOUND' && attempt < 5)
            return 'vanished' as const;
          throw err;
        });
        // Deleted since the listing (pruned, or removed by a recovery as a loser of a race): look again.
        if (before === 'vanished') continue;
        if (before && BigInt(before.endOffset) >= start)
          reason = `its window overlaps the committed window ${before.startOffset}..${before.endOffset}`;
      }
      if (reason !== null) {
        if (own !== -1) await this.storage.delete(path);
        throw fenced(m, reason);
      }
      return list.slice(0, Math.max(0, own - (this.keep - 1))).map((e) => e.name);
    }
  }

  /** Removes a manifest whose window is void (recovery found none of its files). */
  async discard(m: Manifest): Promise<void> {
    if (!(await this.remove(manifestFileName(BigInt(m.startOffset)), m)))
      throw new TweetpipeError(
        'FENCED',
        `${this.dir}: the void manifest of ${m.startOffset}..${m.endOffset} was replaced meanwhile`,
        { retryable: true, details: { startOffset: m.startOffset } },
      );
  }

  /**
   * Removes the manifest `name` that the caller judged torn, or void (`judged`), the retry-safe way described in
   * the module comment. False when the file set aside is not what the caller judged: it is put back then.
   */
  private async remove(name: string, judged: Manifest | 'torn'): Promise<boolean> {
    const path = `${this.dir}/${name}`;
    const aside = `${path}.removed-${randomUUID()}`;
    // False with nothing set aside: someone else removed it first.
    if (!(await this.storage.rename(path, aside)) && !(await this.storage.status(aside))) return true;
    const movedBytes = await this.bytesOf(aside);
    const moved = movedBytes && decodeManifest(movedBytes, aside);
    const same =
      judged === 'torn'
        ? moved === null
        : moved?.writerId === judged.writerId && moved.endOffset === judged.endOffset;
    if (!same) {
      this.log.warn({ manifest: path }, 'a manifest changed before its removal: putting it back');
      if (await this.storage.rename(aside, path)) return false;
      throw new TweetpipeError(
        'INTERNAL',
        `${path} was replaced while it was being removed and cannot be put back: it is at ${aside}`,
        { details: { manifest: path, aside } },
      );
    }
    await this.storage.delete(aside);
    return true;
  }

  /**
   * A manifest's bytes, or null (torn) when HDFS cannot read its length: its create died with the DataNode
   * writing it, and the file stays under construction until the NameNode recovers its lease. That create failed,
   * so no writer went on to rename the window's files: like a torn manifest, it committed nothing.
   */
  private async bytesOf(path: string): Promise<Buffer | null> {
    try {
      return await this.storage.read(path);
    } catch (err) {
      if (err instanceof TweetpipeError && err.code === 'HDFS_UNFINISHED') return null;
      throw err;
    }
  }

  /** Deletes manifests older than the retained ones; failures only leave extra manifests behind. */
  async prune(names: string[]): Promise<void> {
    for (const name of names) {
      try {
        await this.storage.delete(`${this.dir}/${name}`);
      } catch (err) {
        this.log.warn({ err, manifest: `${this.dir}/${name}` }, 'could not delete an old manifest');
      }
    }
  }
}

function fenced(m: Manifest, why: string, cause?: unknown): TweetpipeError {
  return new TweetpipeError('FENCED', `${m.topic}/${m.partition}: fenced, ${why}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { topic: m.topic, partition: m.partition, startOffset: m.startOffset, endOffset: m.endOffset },
  });
}
