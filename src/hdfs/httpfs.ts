/**
 * What differs when `hdfs.webhdfs` names an HttpFS gateway (port 14000) instead of a NameNode. HttpFS speaks the
 * WebHDFS REST API and the client needs no switch for it, because:
 * - CREATE / APPEND / OPEN with `noredirect=true` answer `{"Location": ...}` on the gateway itself (with
 *   `data=true` for uploads) instead of on a DataNode, so the client's two steps work unchanged; the upload step
 *   already sends `Content-Type: application/octet-stream`, which HttpFS requires (it refuses other types with 400).
 * - The gateway is itself an HA-aware HDFS client: behind it, NameNode failover is the gateway's job.
 * One difference needs handling: HttpFS ignores `renameoptions`, so RENAME is always the classic rename. Where a
 * NameNode's rename2 refuses with FileAlreadyExists / FileNotFound, HttpFS answers 200 `{"boolean":false}`; taken
 * as success, a window commit would believe a file renamed that is still in _tmp. `renameRefusal` turns that
 * answer into the error rename2 promises. (A classic rename onto an existing directory moves the source into it:
 * rename2 through HttpFS cannot refuse that; the sink's final names are files, never directories.)
 */
import { TweetpipeError } from '../errors.ts';

/** True when a RENAME answer is the classic rename's `{"boolean":false}` (a NameNode's rename2 answers nothing). */
export function isClassicRenameRefusal(body: string): boolean {
  try {
    return (JSON.parse(body) as { boolean?: unknown })?.boolean === false;
  } catch {
    return false;
  }
}

/** The error rename2 owes for a refused classic rename: the destination exists, or else the source is missing. */
export async function renameRefusal(
  from: string,
  to: string,
  exists: (path: string) => Promise<boolean>,
): Promise<TweetpipeError> {
  const details = { op: 'RENAME', path: from, destination: to };
  if (await exists(to))
    return new TweetpipeError(
      'HDFS_ALREADY_EXISTS',
      `WebHDFS RENAME ${from}: ${to} exists (refused by the gateway's classic rename)`,
      { details },
    );
  return new TweetpipeError(
    'HDFS_NOT_FOUND',
    `WebHDFS RENAME ${from}: refused by the gateway's classic rename (no source, or no parent of ${to})`,
    { details },
  );
}
