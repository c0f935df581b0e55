/**
 * After an ambiguous attempt (the request may have reached the NameNode without us seeing the answer), whether
 * it took effect: read back from HDFS, so a retry's refusal is not mistaken for a failure.
 */
import { TweetpipeError } from '../errors.ts';
import type { HdfsFileStatus } from './webhdfs-types.ts';

interface Reader {
  getFileStatus(path: string): Promise<HdfsFileStatus>;
  readAll(path: string): Promise<Buffer>;
}

/** Whether the file at `path` holds exactly `data`. */
export async function holds(client: Reader, path: string, data: Uint8Array): Promise<boolean> {
  const status = await statusOrNull(client, path);
  return status?.length === data.length && Buffer.from(data).equals(await client.readAll(path));
}

/** Whether a rename from -> to took effect: the source is gone and the destination exists. */
export async function renameLanded(client: Reader, from: string, to: string): Promise<boolean> {
  return (await statusOrNull(client, from)) === null && (await statusOrNull(client, to)) !== null;
}

export async function statusOrNull(client: Reader, path: string): Promise<HdfsFileStatus | null> {
  try {
    return await client.getFileStatus(path);
  } catch (err) {
    if (err instanceof TweetpipeError && err.code === 'HDFS_NOT_FOUND') return null;
    throw err;
  }
}
