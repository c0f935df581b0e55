/**
 * The HDFS side of one partition's exactly-once protocol outside the write path: recovery after a crash or a
 * rebalance, the renames that make a committed window visible, and the cleanup of temp files.
 *
 * recover() reads the newest manifest, finishes its renames, rolls back manifests whose files never landed and
 * deletes the temp files that no writer can commit any more.
 *
 * Another writer of the partition may still be alive while this one recovers (the previous owner, before it
 * learns of the rebalance), and its window may start right after the newest manifest: it can still win the
 * manifest race, so its temp files are left alone. Deleting them could void a window whose manifest is being
 * written at that moment, or leave it half renamed. Temp files of windows starting at or below the committed
 * end can never pass the fencing, so those are deleted, at recovery and after later commits until none is left.
 */
import { TweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import type { Logger } from '../log.ts';
import { parseTempFileWindowStart, type SinkPaths } from './filenames.ts';
import type { Manifest, ManifestFile, ManifestLog } from './manifest.ts';

export interface PartitionRecoveryOptions {
  storage: Storage;
  paths: SinkPaths;
  manifests: ManifestLog;
  topic: string;
  partition: number;
  writerId: string;
  logger: Logger;
}

export class PartitionRecovery {
  private readonly opts: PartitionRecoveryOptions;
  /** Other writers' temp files were left at the last cleanup (their windows might still have been committed). */
  private foreignTempsLeft = false;

  constructor(opts: PartitionRecoveryOptions) {
    this.opts = opts;
  }

  /** Brings HDFS to a consistent state for the partition; returns the newest committed manifest, if any. */
  async recover(): Promise<Manifest | null> {
    const { manifests, logger, topic, partition } = this.opts;
    let latest = await manifests.latest();
    while (latest) {
      const pending = await this.unrenamed(latest);
      if (pending) {
        for (const f of pending) await this.rename(f);
        break;
      }
      // None of its files exists in any form: no reader ever saw this window, Kafka still has its records.
      logger.warn(
        { topic, partition, startOffset: latest.startOffset, endOffset: latest.endOffset },
        'rolling back a manifest whose files never landed (its writer lost its temp files to a new owner)',
      );
      await manifests.discard(latest);
      latest = await manifests.latest();
    }
    this.foreignTempsLeft = await this.deleteObsoleteTemps(latest ? BigInt(latest.endOffset) : null);
    return latest;
  }

  /** Gives a temp file its final name, accepting a rename that another writer (or a lost reply) already did. */
  async rename(f: ManifestFile): Promise<void> {
    const { storage } = this.opts;
    await storage.mkdirs(f.final.slice(0, f.final.lastIndexOf('/')));
    if (await storage.rename(f.tmp, f.final)) return;
    const final = await storage.status(f.final);
    if (final) return checkSize(f.final, final.length, f.bytes);
    const tmp = await storage.status(f.tmp);
    throw new TweetpipeError(
      tmp ? 'HDFS_RENAME_FAILED' : 'HDFS_NOT_FOUND',
      tmp
        ? `cannot rename ${f.tmp} to ${f.final}`
        : `inconsistent state: neither ${f.tmp} nor ${f.final} exists for a committed manifest`,
      { details: { tmp: f.tmp, final: f.final } },
    );
  }

  /**
   * A temp file must hold exactly the bytes this writer persisted before a manifest may name it. Missing means
   * a new owner of the partition deleted it (this writer is a zombie); a wrong size means an append went
   * through twice or not at all.
   */
  async checkTempFile(tmp: string, persisted: number): Promise<void> {
    const st = await this.opts.storage.status(tmp);
    if (!st)
      throw new TweetpipeError(
        'FENCED',
        `${this.opts.topic}/${this.opts.partition}: temp file ${tmp} was removed, another writer owns the partition`,
        { details: { tmp } },
      );
    checkSize(tmp, st.length, persisted);
  }

  /** After a commit up to `committedEnd`: deletes the temp files left at the last cleanup that are now obsolete. */
  async cleanUpAfterCommit(committedEnd: bigint): Promise<void> {
    if (this.foreignTempsLeft) await this.sweepObsoleteTemps(committedEnd);
  }

  /**
   * Deletes the other writers' obsolete temp files (windows starting at or below `committedEnd`) whatever the last
   * cleanup found. A closing writer calls it: an earlier attempt's upload can land after that cleanup, as when a
   * DataNode finishes a CREATE once a NameNode failover completes, after the sink gave up on it.
   */
  async sweepObsoleteTemps(committedEnd: bigint): Promise<void> {
    // The windows are committed whatever happens here: a failed cleanup is retried after the next commit.
    try {
      this.foreignTempsLeft = await this.deleteObsoleteTemps(committedEnd);
    } catch (err) {
      this.opts.logger.warn(
        { err, topic: this.opts.topic, partition: this.opts.partition },
        'could not delete obsolete temp files (retried after the next commit)',
      );
    }
  }

  /** Deletes this writer's temp directory and everything in it. */
  async deleteOwnTemps(): Promise<void> {
    const { storage, paths, writerId, topic, partition } = this.opts;
    await storage.delete(paths.writerTmpDir(topic, partition, writerId), true);
  }

  /**
   * The files of a recovered manifest that still need their rename, or null when none of them exists in any
   * form (a void window). Some renamed and others lost is an inconsistency no recovery can repair.
   *
   * The manifest's writer may be renaming right now: a file found under neither name is looked up once more under
   * its final name, or a rename between the two looks would roll back a window that readers already see.
   */
  private async unrenamed(m: Manifest): Promise<ManifestFile[] | null> {
    const { storage } = this.opts;
    const pending: ManifestFile[] = [];
    const lost: ManifestFile[] = [];
    for (const f of m.files) {
      const final = await storage.status(f.final);
      const tmp = final ? null : await storage.status(f.tmp);
      const renamed = final ?? (tmp ? null : await storage.status(f.final));
      if (renamed) checkSize(f.final, renamed.length, f.bytes);
      else if (tmp) {
        checkSize(f.tmp, tmp.length, f.bytes);
        pending.push(f);
      } else lost.push(f);
    }
    if (lost.length === 0) return pending;
    if (lost.length === m.files.length) return null;
    throw new TweetpipeError(
      'HDFS_NOT_FOUND',
      `inconsistent state: neither the temp file nor the final file exists for ${lost.map((f) => f.final).join(', ')}`,
      { details: { manifestStart: m.startOffset, lost: lost.map((f) => f.final) } },
    );
  }

  /**
   * Deletes the other writers' temp files that belong to windows starting at or below `committedEnd` (no
   * manifest can ever name them), and their directories once empty. Returns whether any temp file was left.
   * A directory delete is not recursive: a zombie that creates a file in it meanwhile keeps the directory.
   */
  private async deleteObsoleteTemps(committedEnd: bigint | null): Promise<boolean> {
    const { storage, paths, writerId, topic, partition } = this.opts;
    const partitionDir = paths.partitionTmpDir(topic, partition);
    let left = false;
    for (const writerDir of await storage.list(partitionDir)) {
      if (writerDir.name === writerId) continue;
      const dir = `${partitionDir}/${writerDir.name}`;
      let kept = 0;
      for (const f of writerDir.type === 'DIRECTORY' ? await storage.list(dir) : []) {
        const start = parseTempFileWindowStart(f.name);
        // A name no writer gives is nobody's temp file.
        if (start === null || (committedEnd !== null && start <= committedEnd))
          await storage.delete(`${dir}/${f.name}`, true);
        else kept++;
      }
      if (kept > 0) left = true;
      else
        await storage.delete(dir).catch(() => {
          left = true;
        });
    }
    return left;
  }
}

function checkSize(path: string, actual: number, expected: number): void {
  if (actual !== expected)
    throw new TweetpipeError('INTERNAL', `${path} has ${actual} bytes where ${expected} were written`, {
      details: { path, actual, expected },
    });
}
