/**
 * The sink's start-up check that the HDFS user may write the output directory. Without it a permission error
 * surfaces only at the first window, as a reset the sink retries for ever; here it stops the start with an error
 * naming the directory, the user and the permission HDFS refused (its AccessControlException says
 * `user=…, access=WRITE, inode="…":owner:group:drwxr-xr-x`).
 */
import { randomUUID } from 'node:crypto';
import { TweetpipeError, toTweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import type { Logger } from '../log.ts';

/**
 * Throws on a permission error only. Anything else (HDFS down, say) is logged and left to the sink loop, which
 * retries it as a reset and reports it like any other outage, instead of holding the start here.
 */
export async function checkOutputWritable(
  storage: Storage,
  dir: string,
  user: string,
  log: Logger,
): Promise<void> {
  // Where the sink's first writes go; a hidden name that readers (and the sink's recovery) never take for data.
  const probe = `${dir}/_tmp/.write-check-${randomUUID()}`;
  try {
    await storage.mkdirs(`${dir}/_tmp`);
    await storage.create(probe, Buffer.alloc(0));
    await storage.delete(probe);
  } catch (raw) {
    const refused = outputPermissionError(dir, user, raw);
    if (refused) throw refused;
    log.warn({ err: raw }, `could not check that ${dir} in HDFS is writable; starting anyway`);
  }
}

/** A permission refusal on the output directory as the error that stops the start, or null for another error. */
export function outputPermissionError(dir: string, user: string, raw: unknown): TweetpipeError | null {
  const err = toTweetpipeError(raw);
  if (err.details.exception !== 'AccessControlException') return null;
  return new TweetpipeError(
    'CONFIG_INVALID',
    `HDFS user "${user}" may not write the output directory ${dir} (hdfs.dir, hdfs.user): ${err.message}`,
    { cause: err, details: { dir, user } },
  );
}
