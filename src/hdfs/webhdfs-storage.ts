/** The Storage contract (storage.ts) on a real HDFS, through the WebHDFS client. */
import { TweetpipeError } from '../errors.ts';
import {
  type CreateOptions,
  type FileStatus,
  type Storage,
  type StorageBody,
  snapshotPath,
  type WriteOptions,
} from './storage.ts';
import type { WebHdfsClient } from './webhdfs.ts';
import { normalizePath } from './webhdfs-paths.ts';
import type { HdfsFileStatus } from './webhdfs-types.ts';

export class WebHdfsStorage implements Storage {
  readonly client: WebHdfsClient;

  constructor(client: WebHdfsClient) {
    this.client = client;
  }

  /** HDFS CREATE makes the missing parents itself. */
  async create(path: string, data: StorageBody, opts: CreateOptions = {}): Promise<void> {
    await this.client.create(path, data, {
      overwrite: opts.overwrite ?? false,
      ...(opts.sent ? { sent: opts.sent } : {}),
    });
  }

  async append(path: string, data: StorageBody, opts: WriteOptions = {}): Promise<void> {
    await this.client.append(path, data, opts);
  }

  async read(path: string): Promise<Buffer> {
    return this.client.readAll(path);
  }

  /**
   * rename2 without overwrite, so an existing destination is refused atomically instead of receiving the source
   * inside it. HDFS refuses a file onto a directory (and the reverse) with a plain IOException: that is "the
   * destination exists" too, recognised by looking at the destination rather than at the message.
   */
  async rename(from: string, to: string): Promise<boolean> {
    try {
      await this.client.rename2(from, to);
      return true;
    } catch (err) {
      if (!(err instanceof TweetpipeError)) throw err;
      if (err.code === 'HDFS_NOT_FOUND' || err.code === 'HDFS_ALREADY_EXISTS') return false;
      if (err.code === 'HDFS_REMOTE' && (await this.status(to)) !== null) return false;
      throw err;
    }
  }

  async delete(path: string, recursive = false): Promise<boolean> {
    return this.client.delete(path, { recursive });
  }

  async mkdirs(path: string): Promise<void> {
    await this.client.mkdirs(path);
  }

  /** Paged (LISTSTATUS_BATCH), so a huge directory never becomes one giant NameNode answer. */
  async list(dir: string): Promise<FileStatus[]> {
    const out: FileStatus[] = [];
    try {
      for await (const page of this.client.listStatusBatch(dir)) {
        for (const s of page) out.push(toFileStatus(s, dir));
      }
    } catch (err) {
      if (err instanceof TweetpipeError && err.code === 'HDFS_NOT_FOUND') return [];
      throw err;
    }
    // HDFS orders by UTF-8 bytes; sort by JS string order so every Storage agrees.
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async allowSnapshots(dir: string): Promise<void> {
    await this.client.allowSnapshot(dir);
  }

  /** The NameNode's refusal of a directory not snapshottable is a SnapshotException: told by the directory's status. */
  async createSnapshot(dir: string, name: string): Promise<void> {
    try {
      await this.client.createSnapshot(dir, name);
    } catch (err) {
      if (
        err instanceof TweetpipeError &&
        err.code === 'HDFS_REMOTE' &&
        (await this.client.getFileStatus(dir)).snapshotEnabled !== true
      )
        throw new TweetpipeError('HDFS_NOT_SNAPSHOTTABLE', `${dir} is not a snapshottable directory`, {
          cause: err,
          details: { op: 'CREATESNAPSHOT', path: dir },
        });
      throw err;
    }
  }

  /** A retried DELETESNAPSHOT whose first attempt landed is refused: the snapshot's absence decides. */
  async deleteSnapshot(dir: string, name: string): Promise<boolean> {
    if ((await this.status(snapshotPath(dir, name))) === null) return false;
    try {
      await this.client.deleteSnapshot(dir, name);
      return true;
    } catch (err) {
      if (
        err instanceof TweetpipeError &&
        err.code === 'HDFS_REMOTE' &&
        (await this.status(snapshotPath(dir, name))) === null
      )
        return false;
      throw err;
    }
  }

  async status(path: string): Promise<FileStatus | null> {
    try {
      return toFileStatus(await this.client.getFileStatus(path), path);
    } catch (err) {
      if (err instanceof TweetpipeError && err.code === 'HDFS_NOT_FOUND') return null;
      throw err;
    }
  }
}

/** `path` names the status when WebHDFS leaves pathSuffix empty (the status of the path itself). */
function toFileStatus(s: HdfsFileStatus, path: string): FileStatus {
  return {
    name: s.pathSuffix || lastSegment(path),
    type: s.type === 'DIRECTORY' ? 'DIRECTORY' : 'FILE',
    length: s.length,
    modificationTime: s.modificationTime,
  };
}

function lastSegment(path: string): string {
  const normalized = normalizePath(path);
  return normalized.slice(normalized.lastIndexOf('/') + 1);
}
