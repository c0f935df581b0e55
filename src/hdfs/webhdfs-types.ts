/** The shapes WebHdfsClient takes and returns. */
import type { Readable } from 'node:stream';

export type WebHdfsBody = Uint8Array | AsyncIterable<Uint8Array> | Readable;

/** A FileStatus as WebHDFS returns it; `pathSuffix` is '' when the status is of the path itself. */
export interface HdfsFileStatus {
  pathSuffix: string;
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  length: number;
  modificationTime: number;
  accessTime: number;
  blockSize: number;
  replication: number;
  permission: string;
  owner: string;
  group: string;
  childrenNum?: number;
  fileId?: number;
  /** Present (true) on a snapshottable directory. */
  snapshotEnabled?: boolean;
}

export interface ContentSummary {
  directoryCount: number;
  fileCount: number;
  length: number;
  spaceConsumed: number;
  quota: number;
  spaceQuota: number;
}

export interface WebHdfsWriteOptions {
  /** For a streaming body: told, in order, how many more of its bytes the socket took (Storage's WriteOptions). */
  sent?: (bytes: number) => void;
}

export interface WebHdfsCreateOptions extends WebHdfsWriteOptions {
  /** Replace an existing file; when false (the default) an existing path fails with HDFS_ALREADY_EXISTS. */
  overwrite?: boolean;
  blockSize?: number;
  replication?: number;
  /** Octal, e.g. '644'. */
  permission?: string;
}

export interface OpenOptions {
  offset?: number;
  length?: number;
}

/** State of one client call across its attempts. */
export interface Attempt {
  number: number;
  /** An earlier attempt may have taken effect without us seeing the answer. */
  ambiguous: boolean;
  /** Set by an attempt that must not be repeated (its streaming body is consumed). */
  stop: boolean;
  /** The credentials were refused once and replaced; a second refusal is final. */
  reauthenticated: boolean;
}
