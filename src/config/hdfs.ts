/** HDFS: where the output goes and how WebHDFS is reached (`hdfs.*`). */
import { z } from 'zod';
import { hdfsPath, int, kerberosIdentity, list, url } from './setting-types.ts';

export const hdfsSettings = z
  .strictObject({
    /** One WebHDFS URL, or several for an HA pair (the active one is found and remembered). */
    webhdfs: list(url()).pipe(z.array(z.string()).min(1)).default(['http://localhost:9870']),
    user: z.string().min(1).default('tweetpipe'),
    dir: hdfsPath.default('/twitter_data'),
    /** The file system URI readers (Spark, Hive, Trino) put before hdfs.dir in table locations. */
    uri: z
      .string()
      .regex(/^[a-z][a-z0-9+.-]*:\/\/[^\s/]+\/?$/, 'expected a file system URI such as hdfs://localhost:9000')
      .default('hdfs://localhost:9000'),
    timeoutMs: int(100).default(60_000),
    /** simple: user.name=hdfs.user; kerberos: SPNEGO then a delegation token; token: a delegation token given. */
    auth: z.enum(['simple', 'kerberos', 'token']).default('simple'),
    /** hdfs.auth=kerberos: principal and keytab, or neither (the user's ticket cache, from kinit). */
    kerberos: kerberosIdentity.prefault({}),
    /** hdfs.auth=token: the delegation token's URL-safe string (a secret), or a file holding it. */
    delegationToken: z.string().min(1).optional(),
    delegationTokenFile: z.string().min(1).optional(),
    /** https WebHDFS: a PEM file of certificates to trust beside the system's (a private CA, self-signed servers). */
    tls: z.strictObject({ ca: z.string().min(1) }).optional(),
  })
  .superRefine(checkHdfsAuth)
  .prefault({});

/** Credentials that contradict hdfs.auth or lack a part, named by key. */
function checkHdfsAuth(
  hdfs: {
    auth: string;
    kerberos: { principal?: string | undefined; keytab?: string | undefined };
    delegationToken?: string | undefined;
    delegationTokenFile?: string | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const { principal, keytab } = hdfs.kerberos;
  if (hdfs.auth === 'kerberos' && keytab && !principal)
    issue(
      ['kerberos', 'principal'],
      'hdfs.kerberos.keytab needs hdfs.kerberos.principal (whose keys it holds)',
    );
  const tokens = [hdfs.delegationToken, hdfs.delegationTokenFile].filter(Boolean).length;
  if (hdfs.auth === 'token' && tokens !== 1)
    issue(['auth'], 'hdfs.auth=token needs exactly one of hdfs.delegationToken and hdfs.delegationTokenFile');
  if (hdfs.auth !== 'token' && tokens > 0)
    issue(
      ['delegationToken'],
      `a delegation token is set but hdfs.auth is ${hdfs.auth}: set hdfs.auth=token`,
    );
}
