import type { Readable } from 'node:stream';

/**
 * The file-system contract the sink writes through. Two implementations pass one conformance suite
 * (test/helpers/storage-conformance.ts): WebHdfsStorage (the real thing) and MemoryStorage (unit tests).
 */
export interface FileStatus {
  /** Last path component. */
  name: string;
  type: 'FILE' | 'DIRECTORY';
  length: number;
  modificationTime: number;
}

export interface WriteOptions {
  /**
   * For a stream body: told, in order, how many more of its bytes the storage will not read from the caller's
   * buffers any more (the socket took them, or they were copied), so that the caller may reuse the buffers that
   * held them. Never called ahead of that; bytes of a failed call may never be reported.
   */
  sent?: (bytes: number) => void;
}

export interface CreateOptions extends WriteOptions {
  /** When false (the default) creating an existing path fails with code HDFS_ALREADY_EXISTS. */
  overwrite?: boolean;
}

/**
 * The bytes of a create or append: a buffer, or a stream that is uploaded as it is written and settles the call
 * when it ends (one long request instead of one per chunk; nothing of it is durable before the call resolves).
 */
export type StorageBody = Uint8Array | Readable;

export interface Storage {
  /** Creates a file with the given bytes; parents are created as needed. */
  create(path: string, data: StorageBody, opts?: CreateOptions): Promise<void>;
  /** Appends bytes to an existing file (HDFS_NOT_FOUND when it does not exist). */
  append(path: string, data: StorageBody, opts?: WriteOptions): Promise<void>;
  /** Reads a whole file (HDFS_NOT_FOUND when missing). */
  read(path: string): Promise<Buffer>;
  /** Renames; false when the source is missing or the destination exists (HDFS semantics). */
  rename(from: string, to: string): Promise<boolean>;
  /** Deletes; false when nothing was there. */
  delete(path: string, recursive?: boolean): Promise<boolean>;
  mkdirs(path: string): Promise<void>;
  /** Lists a directory; [] when it does not exist. Sorted by name. */
  list(dir: string): Promise<FileStatus[]>;
  /** Status of a path, or null when it does not exist. */
  status(path: string): Promise<FileStatus | null>;
  /**
   * Makes a directory snapshottable (HDFS ALLOWSNAPSHOT, superuser only; idempotent). A refusal is an error of the
   * server's (HDFS_REMOTE, AccessControlException).
   */
  allowSnapshots(dir: string): Promise<void>;
  /**
   * Freezes a directory, in O(1), into a read-only copy at `snapshotPath(dir, name)` that later changes to `dir`
   * leave as it is. HDFS_NOT_SNAPSHOTTABLE when `dir` was not made snapshottable.
   */
  createSnapshot(dir: string, name: string): Promise<void>;
  /** Deletes a snapshot; false when there was none of that name. */
  deleteSnapshot(dir: string, name: string): Promise<boolean>;
}

/** Where HDFS shows the snapshot `name` of `dir`. */
export const snapshotPath = (dir: string, name: string): string =>
  `${dir.replace(/\/+$/, '')}/.snapshot/${name}`;
