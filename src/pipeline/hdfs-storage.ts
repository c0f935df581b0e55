/** The WebHDFS Storage for the configured cluster (one NameNode URL, or several for an HA pair), and its output root. */
import { readFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import type { Storage } from '../hdfs/storage.ts';
import { WebHdfsClient } from '../hdfs/webhdfs.ts';
import type { HdfsAuthSettings } from '../hdfs/webhdfs-auth.ts';
import { WebHdfsStorage } from '../hdfs/webhdfs-storage.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../observe/metrics.ts';
import { retryForever } from '../retry/retry-forever.ts';
import { checkOutputWritable, outputPermissionError } from '../sink/output-check.ts';

/** `metrics`, when given, counts the client's moves between NameNodes (tweetpipe_hdfs_namenode_switches_total). */
export function hdfsStorage(
  config: Config,
  log: Logger,
  metrics?: Metrics,
): { storage: WebHdfsStorage; client: WebHdfsClient } {
  const client = new WebHdfsClient({
    urls: config.hdfs.webhdfs,
    user: config.hdfs.user,
    auth: hdfsAuthSettings(config),
    ...(config.hdfs.tls ? { ca: readSetting(config.hdfs.tls.ca, 'hdfs.tls.ca') } : {}),
    timeoutMs: config.hdfs.timeoutMs,
    logger: log,
    ...(metrics && { onNamenodeSwitch: ({ code }) => metrics.namenodeSwitches.inc({ code }) }),
  });
  return { storage: new WebHdfsStorage(client), client };
}

/** hdfs.auth and its credentials, files read now so that a bad path fails at start, naming its key. */
export function hdfsAuthSettings(config: Config): HdfsAuthSettings {
  const { auth, user, kerberos, delegationToken, delegationTokenFile } = config.hdfs;
  if (auth === 'kerberos') return { auth, user, kerberos: { ...kerberos, setting: 'hdfs.kerberos' } };
  if (auth === 'token') {
    const token =
      delegationToken ?? readSetting(delegationTokenFile ?? '', 'hdfs.delegationTokenFile').trim();
    return { auth, token };
  }
  return { auth, user };
}

function readSetting(file: string, key: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new TweetpipeError('CONFIG_INVALID', `${key}: cannot read ${file} (expected a readable file)`, {
      cause: err,
      details: { key, file },
    });
  }
}

/**
 * Before the first window: creates hdfs.dir when missing, waiting for HDFS to answer (each failed try counted in
 * `metrics` as the sink's, so that a wait longer than health.stallAfterS shows as a stall), then checks that
 * hdfs.user may write there. A permission refusal stops the start with an error naming directory, user and mode.
 */
export async function ensureOutputDir(
  storage: Storage,
  config: Config,
  log: Logger,
  metrics: Metrics,
): Promise<void> {
  const { dir, user } = config.hdfs;
  await retryForever(() => storage.mkdirs(dir), {
    what: `creating ${dir} in HDFS`,
    log,
    onError: (err) => metrics.errors.inc({ stage: 'sink', code: err.code }),
  }).catch((err: unknown) => {
    throw outputPermissionError(dir, user, err) ?? err;
  });
  await checkOutputWritable(storage, dir, user, log);
}
