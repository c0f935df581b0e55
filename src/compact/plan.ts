/**
 * Which committed files a compaction may merge, and into which groups.
 *
 * A folder is touched only when no sink can still be writing into it: its own modification time (HDFS updates
 * it on every rename into or delete from it) and every file's are older than --older-than. The current time
 * partition receives a file every rotation, so it never qualifies; a late tweet renamed into an old folder makes
 * that folder young again. Clocks: NameNode times are compared with this host's clock.
 *
 * Files named by a sink manifest still kept under `_wal/<topic>/<partition>/` are never inputs, however old: the
 * sink's recovery reads the newest manifests and checks each named file's size (src/sink/partition-writer.ts),
 * so those files must stay exactly as the sink wrote them.
 */
import type { FileStatus, Storage } from '../hdfs/storage.ts';
import { type CommittedFile, committedFileName, parseCommittedFileName } from '../sink/filenames.ts';
import { decodeManifest } from '../sink/manifest.ts';

export interface PlannedFile extends CommittedFile {
  path: string;
  bytes: number;
  modificationTime: number;
}

export interface MergeGroup {
  dir: string;
  inputs: PlannedFile[];
  /** Final path of the merged file: the committed name of the offsets hull, so it parses like the sink's. */
  output: string;
}

/** Committed files of the leaf folders under root's topic directories, folder by folder. */
export async function* committedFolders(
  storage: Storage,
  root: string,
): AsyncGenerator<{ dir: string; status: FileStatus | null; files: PlannedFile[] }> {
  const walk = async function* (
    dir: string,
    status: FileStatus | null,
  ): AsyncGenerator<{ dir: string; status: FileStatus | null; files: PlannedFile[] }> {
    const entries = await storage.list(dir);
    const files: PlannedFile[] = [];
    for (const e of entries) {
      if (e.name.startsWith('_') || e.name.startsWith('.')) continue;
      if (e.type === 'DIRECTORY') yield* walk(`${dir}/${e.name}`, e);
      else {
        const parsed = parseCommittedFileName(e.name);
        if (parsed)
          files.push({
            ...parsed,
            path: `${dir}/${e.name}`,
            bytes: e.length,
            modificationTime: e.modificationTime,
          });
      }
    }
    if (files.length > 0) yield { dir, status, files };
  };
  yield* walk(root, null);
}

/** Final paths named by the sink manifests that recovery may still read (every kept manifest). */
export async function sinkManifestFiles(storage: Storage, root: string): Promise<Set<string>> {
  const named = new Set<string>();
  for (const topic of await storage.list(`${root}/_wal`)) {
    if (topic.type !== 'DIRECTORY' || topic.name.startsWith('+')) continue;
    for (const partition of await storage.list(`${root}/_wal/${topic.name}`)) {
      const dir = `${root}/_wal/${topic.name}/${partition.name}`;
      for (const f of partition.type === 'DIRECTORY' ? await storage.list(dir) : []) {
        if (!/^\d{20}\.json$/.test(f.name)) continue;
        const m = await storage
          .read(`${dir}/${f.name}`)
          .then((b) => decodeManifest(b, `${dir}/${f.name}`))
          .catch(() => null);
        for (const file of m?.files ?? []) named.add(file.final);
      }
    }
  }
  return named;
}

export interface PlanOptions {
  olderThanMs: number;
  targetBytes: number;
  /** Extensions to compact; all three when undefined. */
  formats?: string[] | undefined;
  nowMs: number;
}

/** Whether nothing was written into the folder for olderThanMs. */
export function folderIsIdle(status: FileStatus | null, files: PlannedFile[], o: PlanOptions): boolean {
  const cutoff = o.nowMs - o.olderThanMs;
  return (status?.modificationTime ?? 0) < cutoff && files.every((f) => f.modificationTime < cutoff);
}

/**
 * Groups of one folder: files of the same Kafka partition and format, in offset order, packed up to the target
 * size. A group of one file changes nothing and is dropped.
 */
export function mergeGroups(dir: string, files: PlannedFile[], o: PlanOptions): MergeGroup[] {
  const byKey = new Map<string, PlannedFile[]>();
  for (const f of files) {
    if (o.formats && !o.formats.includes(f.extension)) continue;
    const key = `${f.topic}+${f.partition}.${f.extension}`;
    byKey.set(key, [...(byKey.get(key) ?? []), f]);
  }
  const groups: MergeGroup[] = [];
  for (const list of byKey.values()) {
    list.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
    let pack: PlannedFile[] = [];
    let size = 0;
    const close = () => {
      if (pack.length > 1) groups.push(group(dir, pack));
      pack = [];
      size = 0;
    };
    for (const f of list) {
      if (size > 0 && size + f.bytes > o.targetBytes) close();
      pack.push(f);
      size += f.bytes;
    }
    close();
  }
  return groups;
}

/** Inputs are in offset order and their ranges disjoint (one Kafka partition, one folder). */
function group(dir: string, inputs: PlannedFile[]): MergeGroup {
  const first = inputs[0] as PlannedFile;
  const last = inputs.at(-1) as PlannedFile;
  const name = committedFileName(
    first.topic,
    first.partition,
    first.firstOffset,
    last.lastOffset,
    first.extension,
  );
  return { dir, inputs, output: `${dir}/${name}` };
}
