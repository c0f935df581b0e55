/**
 * The swap protocol shared by compaction and compliance: a rewrite job replaces committed input files by output
 * files, and a kill -9 at any step is finished by the next run (the sink's window commit, src/sink/manifest.ts,
 * applied to files that are already committed):
 *
 *   1. outputs are written complete under `_tmp/+rewrite/<job id>/`        crash: orphan temp files, deleted later
 *   2. ONE job manifest naming inputs and outputs under `_wal/+rewrite/`    from here the job IS decided
 *   3. each output is renamed to its final name (an output that replaces   crash: finished by recover()
 *      an input of the same name, as compliance does, deletes it first)
 *   4. the other inputs are deleted, all at once                          crash: finished by recover()
 *   5. the manifest and the temp directory are deleted
 *
 * A temp file that still exists is an output not yet renamed (a rename is atomic), so recovery needs no sizes:
 * it renames what is left, deletes the inputs still there and removes the manifest. A torn manifest (the writer
 * died creating it) means step 2 never happened: the job is undone by deleting its temp files.
 *
 * `+` cannot occur in a Kafka topic name, so `_wal/+rewrite` and `_tmp/+rewrite` never collide with the sink's
 * per-topic directories, and the sink's recovery never reads these manifests.
 *
 * Readers that list files see, between step 3 and the end of step 4, the outputs and the inputs they replace:
 * the deletes are sent together so that the window lasts about one rename and one delete (docs/compaction.md).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { TweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import type { Logger } from '../log.ts';

export const REWRITE_MANIFEST_VERSION = 1;

export interface RewriteOutput {
  tmp: string;
  final: string;
  records: number;
  bytes: number;
}

export interface RewriteManifest {
  version: typeof REWRITE_MANIFEST_VERSION;
  kind: 'compact' | 'compliance';
  id: string;
  inputs: string[];
  outputs: RewriteOutput[];
  /** Compliance only: per input path, the ids removed from it (no content). */
  removed?: Record<string, string[]>;
  createdAt: string;
}

export const rewriteWalDir = (root: string): string => `${root}/_wal/+rewrite`;
export const rewriteTmpDir = (root: string, id: string): string => `${root}/_tmp/+rewrite/${id}`;

/** A new job id: sortable by time, unique across runs. */
export const newJobId = (): string =>
  `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;

function decode(bytes: Buffer, path: string): RewriteManifest | null {
  let m: RewriteManifest;
  try {
    m = JSON.parse(bytes.toString('utf8')) as RewriteManifest;
  } catch {
    return null;
  }
  if (m?.version !== REWRITE_MANIFEST_VERSION || !Array.isArray(m.inputs) || !Array.isArray(m.outputs))
    throw new TweetpipeError('INTERNAL', `${path} is not a tweetpipe rewrite manifest of version 1`, {
      details: { path },
    });
  return m;
}

/** Called once a job's swap is complete (compliance writes its removal log here, also after a recovery). */
export type OnSwapped = (m: RewriteManifest) => Promise<void>;

export class RewriteJobs {
  private readonly storage: Storage;
  private readonly root: string;
  private readonly log: Logger;
  private readonly onSwapped: OnSwapped;

  constructor(opts: { storage: Storage; root: string; logger: Logger; onSwapped?: OnSwapped }) {
    this.storage = opts.storage;
    this.root = opts.root;
    this.log = opts.logger;
    this.onSwapped = opts.onSwapped ?? (async () => {});
  }

  /**
   * Steps 2-5 for a job whose outputs are complete temp files. Returns the milliseconds from the first rename to
   * the last delete: how long a reader listing the files could see inputs and outputs together.
   */
  async commit(m: RewriteManifest): Promise<number> {
    const path = `${rewriteWalDir(this.root)}/${m.id}.json`;
    await this.storage.create(path, Buffer.from(`${JSON.stringify(m, null, 1)}\n`), { overwrite: false });
    return this.finish(m, path);
  }

  /**
   * Finishes every job a killed run decided (manifest present) and undoes every job it did not (temp files
   * without a manifest). Call only while holding the rewrite lock: a live job's temp files look orphaned too.
   */
  async recover(): Promise<number> {
    const walDir = rewriteWalDir(this.root);
    const decided = new Set<string>();
    let finished = 0;
    for (const f of await this.storage.list(walDir)) {
      if (f.type !== 'FILE' || !f.name.endsWith('.json')) continue;
      const path = `${walDir}/${f.name}`;
      const m = decode(await this.storage.read(path), path);
      if (!m) {
        this.log.warn({ manifest: path }, 'deleting a torn rewrite manifest: its job never swapped anything');
        await this.storage.delete(path);
        continue;
      }
      decided.add(m.id);
      this.log.warn({ manifest: path, kind: m.kind }, 'finishing a rewrite job that a previous run left');
      await this.finish(m, path);
      finished++;
    }
    for (const d of await this.storage.list(`${this.root}/_tmp/+rewrite`)) {
      if (decided.has(d.name)) continue;
      this.log.info({ job: d.name }, 'deleting the temp files of a rewrite job that never committed');
      await this.storage.delete(rewriteTmpDir(this.root, d.name), true);
    }
    return finished;
  }

  private async finish(m: RewriteManifest, manifestPath: string): Promise<number> {
    const inputs = new Set(m.inputs);
    const swapStart = performance.now();
    for (const out of m.outputs) {
      if (!(await this.storage.status(out.tmp))) {
        if (await this.storage.status(out.final)) continue;
        throw new TweetpipeError(
          'HDFS_NOT_FOUND',
          `rewrite job ${m.id}: neither ${out.tmp} nor ${out.final} exists; the job cannot be finished`,
          { details: { manifest: manifestPath, tmp: out.tmp, final: out.final } },
        );
      }
      if (inputs.has(out.final)) await this.storage.delete(out.final);
      await this.storage.mkdirs(out.final.slice(0, out.final.lastIndexOf('/')));
      if (!(await this.storage.rename(out.tmp, out.final)))
        throw new TweetpipeError(
          'HDFS_RENAME_FAILED',
          `rewrite job ${m.id}: cannot rename ${out.tmp} to ${out.final}`,
          {
            details: { tmp: out.tmp, final: out.final },
          },
        );
    }
    const finals = new Set(m.outputs.map((o) => o.final));
    await Promise.all(m.inputs.filter((p) => !finals.has(p)).map((p) => this.storage.delete(p)));
    const swapMs = performance.now() - swapStart;
    await this.onSwapped(m);
    await this.storage.delete(manifestPath);
    await this.storage.delete(rewriteTmpDir(this.root, m.id), true);
    return swapMs;
  }
}
