/**
 * `tweetpipe compact`: merges the committed files of idle partition folders into files near the target size,
 * through the rewrite-job protocol (src/compact/rewrite-job.ts), one group at a time, each written one input at a
 * time (src/compact/merge-files.ts).
 */
import { performance } from 'node:perf_hooks';
import { TweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import type { PartitionLocations } from '../hive/partition-locations.ts';
import type { Logger } from '../log.ts';
import { CatalogSwap } from './catalog-swap.ts';
import { mergeFiles } from './merge-files.ts';
import {
  committedFolders,
  folderIsIdle,
  type MergeGroup,
  mergeGroups,
  type PlanOptions,
  sinkManifestFiles,
} from './plan.ts';
import { newJobId, REWRITE_MANIFEST_VERSION, RewriteJobs, rewriteTmpDir } from './rewrite-job.ts';
import { RewriteLock } from './rewrite-lock.ts';

export interface CompactOptions {
  storage: Storage;
  /** The sink's output root (hdfs.dir). */
  root: string;
  olderThanMs: number;
  targetBytes: number;
  formats?: string[] | undefined;
  /** The table's partitions in a Hive Metastore (sink.hive): its readers are kept on a snapshot meanwhile. */
  catalog?: PartitionLocations | null;
  /** compact.readerGrace in ms, with a catalog. */
  readerGraceMs?: number;
  logger: Logger;
}

export interface CompactReport {
  /** Jobs of a killed run that this run finished. */
  recovered: number;
  folders: number;
  filesBefore: number;
  filesAfter: number;
  records: number;
  /** Longest time a file-listing reader could see a job's inputs and outputs together. */
  maxDoubleVisibleMs: number;
  tookMs: number;
}

export async function compact(o: CompactOptions): Promise<CompactReport> {
  const started = performance.now();
  const lock = new RewriteLock({ storage: o.storage, root: o.root, purpose: 'compact', logger: o.logger });
  await lock.acquire();
  try {
    const jobs = new RewriteJobs({ storage: o.storage, root: o.root, logger: o.logger });
    const catalog = new CatalogSwap({ ...o, catalog: o.catalog ?? null });
    const report: CompactReport = {
      recovered: await jobs.recover(),
      folders: 0,
      filesBefore: 0,
      filesAfter: 0,
      records: 0,
      maxDoubleVisibleMs: 0,
      tookMs: 0,
    };
    const plan: PlanOptions = {
      olderThanMs: o.olderThanMs,
      targetBytes: o.targetBytes,
      formats: o.formats,
      nowMs: Date.now(),
    };
    await catalog.recover();
    const pinned = await sinkManifestFiles(o.storage, o.root);
    // Planned before the first swap: the catalog swap names every folder the run rewrites.
    const planned = new Map<string, MergeGroup[]>();
    for await (const folder of committedFolders(o.storage, o.root)) {
      if (!folderIsIdle(folder.status, folder.files, plan)) continue;
      const groups = mergeGroups(
        folder.dir,
        folder.files.filter((f) => !pinned.has(f.path)),
        plan,
      );
      if (groups.length > 0) planned.set(folder.dir, groups);
    }
    report.folders = planned.size;
    await catalog.around([...planned.keys()], async () => {
      for (const g of [...planned.values()].flat()) {
        const { records, swapMs } = await mergeGroup(jobs, o, g);
        report.filesBefore += g.inputs.length;
        report.filesAfter++;
        report.records += records;
        report.maxDoubleVisibleMs = Math.max(report.maxDoubleVisibleMs, swapMs);
      }
    });
    report.tookMs = performance.now() - started;
    o.logger.info(report, 'compaction finished');
    return report;
  } finally {
    await lock.release();
  }
}

async function mergeGroup(jobs: RewriteJobs, o: CompactOptions, g: MergeGroup) {
  if (await o.storage.status(g.output))
    throw new TweetpipeError(
      'INTERNAL',
      `${g.output} exists already: its offsets overlap files not compacted`,
      {
        details: { output: g.output },
      },
    );
  const id = newJobId();
  const extension = g.inputs[0]!.extension;
  const tmp = `${rewriteTmpDir(o.root, id)}/0.${extension}`;
  const inputs = g.inputs.map((f) => f.path);
  const { records, bytes } = await mergeFiles(o.storage, inputs, extension, tmp);
  const swapMs = await jobs.commit({
    version: REWRITE_MANIFEST_VERSION,
    kind: 'compact',
    id,
    inputs,
    outputs: [{ tmp, final: g.output, records, bytes }],
    createdAt: new Date().toISOString(),
  });
  o.logger.debug({ output: g.output, inputs: inputs.length, records }, 'files merged');
  return { records, swapMs };
}
