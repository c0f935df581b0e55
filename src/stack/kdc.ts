/**
 * A private MIT Kerberos KDC for `stack up --kerberos`, from the OS packages (krb5-kdc, krb5-admin-server,
 * krb5-user): its own realm in its own directory, never the machine's /etc/krb5.conf (KRB5_CONFIG and
 * KRB5_KDC_PROFILE point every tool at ours), on an unprivileged TCP port. Installed with apt-get when missing and
 * we are root, as scripts/test.ts does for Chromium.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TweetpipeError } from '../errors.ts';
import { isAlive } from './process.ts';

const run = promisify(execFile);
export const REALM = 'TWEETPIPE.LOCAL';
/** Debian's packages for the KDC, its tools, and the headers the `kerberos` npm addon builds against. */
export const KRB5_PACKAGES = ['krb5-kdc', 'krb5-admin-server', 'krb5-user', 'libkrb5-dev'];

export interface Kdc {
  dir: string;
  krb5Conf: string;
  port: number;
  env: NodeJS.ProcessEnv;
}

/** Installs the MIT Kerberos packages when a tool or the headers are missing; root only. */
export function ensureKrb5Packages(say: (line: string) => void): void {
  const missing = !existsSync('/usr/sbin/krb5kdc') || !existsSync('/usr/include/gssapi/gssapi.h');
  if (!missing) return;
  if (process.getuid?.() !== 0)
    throw new TweetpipeError(
      'DEPENDENCY_MISSING',
      `the Kerberos stack needs MIT Kerberos: sudo apt-get install ${KRB5_PACKAGES.join(' ')}`,
    );
  say(`installing ${KRB5_PACKAGES.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...KRB5_PACKAGES],
  ]) {
    const result = spawnSync('apt-get', args, { stdio: 'ignore', env });
    if (result.status !== 0)
      throw new TweetpipeError(
        'DEPENDENCY_MISSING',
        `apt-get ${args.join(' ')} failed (exit ${result.status})`,
      );
  }
}

export function kdcOf(dir: string, port: number): Kdc {
  const krb5Conf = join(dir, 'krb5.conf');
  return {
    dir,
    krb5Conf,
    port,
    env: { ...process.env, KRB5_CONFIG: krb5Conf, KRB5_KDC_PROFILE: join(dir, 'kdc.conf') },
  };
}

const krb5Conf = (port: number) => `[libdefaults]
  default_realm = ${REALM}
  dns_lookup_realm = false
  dns_lookup_kdc = false
  rdns = false
  # TCP only: the KDC listens on TCP, and Java then never tries UDP.
  udp_preference_limit = 1
  ticket_lifetime = 24h
  renew_lifetime = 7d
  forwardable = true
[realms]
  ${REALM} = {
    kdc = localhost:${port}
  }
[domain_realm]
  localhost = ${REALM}
`;

const kdcConf = (dir: string, port: number) => `[kdcdefaults]
  kdc_ports = ${port}
  kdc_tcp_ports = ${port}
[realms]
  ${REALM} = {
    database_name = ${join(dir, 'principal')}
    key_stash_file = ${join(dir, 'stash')}
    acl_file = ${join(dir, 'kadm5.acl')}
    max_life = 24h
    max_renewable_life = 7d
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
[logging]
  kdc = FILE:${join(dir, 'kdc.log')}
`;

async function tool(kdc: Kdc, cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { env: kdc.env, timeout: 60_000 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string };
    throw new TweetpipeError(
      'SERVER_DIED',
      `${cmd} ${args.slice(0, 2).join(' ')} failed: ${e.stderr ?? ''}`,
      {
        cause: err,
      },
    );
  }
}

/** Writes the realm's config and database once (kept across restarts, so keytabs stay valid). */
export async function prepareKdc(kdc: Kdc): Promise<void> {
  await mkdir(kdc.dir, { recursive: true, mode: 0o700 });
  await writeFile(kdc.krb5Conf, krb5Conf(kdc.port));
  await writeFile(join(kdc.dir, 'kdc.conf'), kdcConf(kdc.dir, kdc.port));
  await writeFile(join(kdc.dir, 'kadm5.acl'), '');
  if (existsSync(join(kdc.dir, 'principal'))) return;
  const master = randomBytes(18).toString('base64url');
  await tool(kdc, 'kdb5_util', ['create', '-s', '-r', REALM, '-P', master]);
}

const pidFile = (kdc: Kdc) => join(kdc.dir, 'krb5kdc.pid');

export async function kdcPid(kdc: Kdc): Promise<number | null> {
  if (!existsSync(pidFile(kdc))) return null;
  const pid = Number((await readFile(pidFile(kdc), 'utf8')).trim());
  return pid > 0 && isAlive(pid) ? pid : null;
}

/** Starts krb5kdc (it daemonizes and writes its pid file) unless it runs. */
export async function startKdc(kdc: Kdc): Promise<boolean> {
  if ((await kdcPid(kdc)) !== null) return false;
  await tool(kdc, '/usr/sbin/krb5kdc', ['-P', pidFile(kdc)]);
  return true;
}

export async function stopKdc(kdc: Kdc): Promise<void> {
  const pid = await kdcPid(kdc);
  if (pid !== null) process.kill(pid, 'SIGTERM');
  await rm(pidFile(kdc), { force: true });
}

/**
 * `principals` (name/host@REALM or name@REALM) with random keys, exported to `keytab`. An existing keytab is kept:
 * `ktadd` would re-key the principal and void every keytab already handed out.
 */
export async function ensureKeytab(kdc: Kdc, keytab: string, principals: string[]): Promise<void> {
  if (existsSync(keytab)) return;
  const known = await tool(kdc, '/usr/sbin/kadmin.local', ['-q', 'listprincs']);
  for (const principal of principals) {
    if (!known.split('\n').includes(principal))
      await tool(kdc, '/usr/sbin/kadmin.local', ['-q', `addprinc -randkey ${principal}`]);
  }
  await tool(kdc, '/usr/sbin/kadmin.local', ['-q', `ktadd -k ${keytab} -norandkey ${principals.join(' ')}`]);
}
