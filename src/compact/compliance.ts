/**
 * `tweetpipe compliance apply`: rewrites every committed file that holds a deleted tweet id without it, one file
 * per rewrite job (src/compact/rewrite-job.ts), so a crash leaves each file old or new and the next run finishes
 * what a manifest names. The removal log under `_compliance/` holds, per rewritten file, the count and the ids
 * removed (never content); it is written when the swap completes, also when a recovery completes it.
 *
 * Files still named by a kept sink manifest cannot change (the sink's recovery checks their sizes): they are
 * reported as deferred, and a later run, once the sink has committed newer windows, rewrites them.
 */
import { TweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import type { PartitionLocations } from '../hive/partition-locations.ts';
import type { Logger } from '../log.ts';
import { CatalogSwap } from './catalog-swap.ts';
import { rowCodec } from './file-rows.ts';
import { committedFolders, type PlannedFile, sinkManifestFiles } from './plan.ts';
import {
  newJobId,
  REWRITE_MANIFEST_VERSION,
  RewriteJobs,
  type RewriteManifest,
  rewriteTmpDir,
} from './rewrite-job.ts';
import { RewriteLock } from './rewrite-lock.ts';

export interface ComplianceReport {
  scannedFiles: number;
  rewrittenFiles: number;
  removedRecords: number;
  /** Files holding deleted ids that a sink manifest still names: run again later. */
  deferred: string[];
}

const complianceLogPath = (root: string, jobId: string): string => `${root}/_compliance/${jobId}.json`;

/** Tweet ids from a file: one per line, bare or as a JSON object with `id` (X's compliance result lines). */
export function parseIdList(text: string, source: string): Set<string> {
  const ids = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let id: unknown = line;
    if (line.startsWith('{')) {
      try {
        id = (JSON.parse(line) as { id?: unknown }).id;
      } catch {
        id = undefined;
      }
    }
    if (typeof id !== 'string' || !/^\d{1,19}$/.test(id))
      throw new TweetpipeError(
        'USAGE',
        `${source} line ${i + 1}: expected a tweet id (digits) or a JSON object with a string "id", got ${JSON.stringify(line.slice(0, 60))}`,
      );
    ids.add(id);
  });
  return ids;
}

/**
 * Tweet ids held by the committed files of the folders whose `dt=` lies in [from, to] (YYYY-MM-DD, inclusive):
 * what an X compliance job must check.
 */
export async function storedIds(
  storage: Storage,
  root: string,
  from: string,
  to: string,
): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const folder of committedFolders(storage, root)) {
    const dt = /\/dt=(\d{4}-\d{2}-\d{2})(\/|$)/.exec(folder.dir)?.[1];
    if (!dt || dt < from || dt > to) continue;
    for (const f of folder.files)
      for (const id of (await rowCodec(f.extension).read(await storage.read(f.path), f.path)).ids)
        ids.add(id);
  }
  return ids;
}

/** The removal log of a completed compliance job. */
async function writeRemovalLog(storage: Storage, root: string, m: RewriteManifest): Promise<void> {
  if (m.kind !== 'compliance') return;
  const files = Object.entries(m.removed ?? {}).map(([path, ids]) => ({ path, removed: ids.length, ids }));
  const body = { job: m.id, appliedAt: new Date().toISOString(), files };
  await storage.create(complianceLogPath(root, m.id), Buffer.from(`${JSON.stringify(body)}\n`), {
    overwrite: true,
  });
}

export async function applyDeletions(o: {
  storage: Storage;
  root: string;
  ids: Set<string>;
  /** The table's partitions in a Hive Metastore (sink.hive): its readers are kept on a snapshot meanwhile. */
  catalog?: PartitionLocations | null;
  /** compact.readerGrace in ms, with a catalog. */
  readerGraceMs?: number;
  logger: Logger;
}): Promise<ComplianceReport> {
  const { storage, root, ids, logger } = o;
  const lock = new RewriteLock({ storage, root, purpose: 'compliance apply', logger });
  await lock.acquire();
  try {
    const jobs = new RewriteJobs({
      storage,
      root,
      logger,
      onSwapped: (m) => writeRemovalLog(storage, root, m),
    });
    await jobs.recover();
    const catalog = new CatalogSwap({ ...o, catalog: o.catalog ?? null });
    await catalog.recover();
    const pinned = await sinkManifestFiles(storage, root);
    const report: ComplianceReport = { scannedFiles: 0, rewrittenFiles: 0, removedRecords: 0, deferred: [] };
    // Found before the first swap, each file's folder with it: the catalog swap names every folder rewritten.
    const toRewrite = new Map<PlannedFile, string>();
    for await (const folder of committedFolders(storage, root)) {
      for (const f of folder.files) {
        report.scannedFiles++;
        const rows = await rowCodec(f.extension).read(await storage.read(f.path), f.path);
        if (!rows.ids.some((id) => ids.has(id))) continue;
        if (pinned.has(f.path)) report.deferred.push(f.path);
        else toRewrite.set(f, folder.dir);
      }
    }
    await catalog.around([...new Set(toRewrite.values())], async () => {
      for (const f of toRewrite.keys()) {
        const codec = rowCodec(f.extension);
        const rows = await codec.read(await storage.read(f.path), f.path);
        const hits = rows.ids.filter((id) => ids.has(id));
        const kept = rows.pick((i) => !ids.has(rows.ids[i]!));
        const id = newJobId();
        const tmp = `${rewriteTmpDir(root, id)}/0.${f.extension}`;
        const outputs = [];
        // A file left with no record is deleted rather than replaced by an empty one.
        if (kept.length > 0) {
          const bytes = await codec.write(kept);
          await storage.create(tmp, bytes, { overwrite: true });
          outputs.push({ tmp, final: f.path, records: kept.length, bytes: bytes.length });
        }
        await jobs.commit({
          version: REWRITE_MANIFEST_VERSION,
          kind: 'compliance',
          id,
          inputs: [f.path],
          outputs,
          removed: { [f.path]: hits },
          createdAt: new Date().toISOString(),
        });
        report.rewrittenFiles++;
        report.removedRecords += hits.length;
      }
    });
    if (report.deferred.length > 0)
      logger.warn(
        { deferred: report.deferred },
        "files named by the sink's newest manifests still hold deleted ids: run `compliance apply` again once the sink has committed newer windows",
      );
    logger.info({ ...report, deferred: report.deferred.length }, 'compliance deletions applied');
    return report;
  } finally {
    await lock.release();
  }
}
