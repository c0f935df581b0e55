/**
 * Kerberos (GSS-API) for WebHDFS SPNEGO and Kafka SASL/GSSAPI, through the npm `kerberos` package: MongoDB's
 * maintained Node-API binding to the system's own GSS-API library (MIT libkrb5 on Linux). We chose it because it
 * uses the OS Kerberos, so krb5.conf, keytabs and ticket caches behave exactly as for `kinit` and Hadoop's tools,
 * and it has no pure-JS crypto of its own to trust. It is a native addon and an optional dependency: it is loaded
 * here, lazily, only when hdfs.auth=kerberos or a GSSAPI mechanism is configured; a missing build is an error that
 * says what to install (see src/kerberos/install.ts).
 *
 * Credentials: with a keytab, MIT libkrb5 gets the principal's tickets from it by itself (KRB5_CLIENT_KTNAME) into a
 * memory cache private to this process, so the user's own ticket cache is neither read nor overwritten; without
 * one, the user's ticket cache (kinit) is used.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { TweetpipeError } from '../errors.ts';

export interface KerberosCredentials {
  /** user@REALM; absent: the default principal of the ticket cache. */
  principal?: string | undefined;
  /** A keytab holding the principal's keys; absent: the ticket cache (kinit). */
  keytab?: string | undefined;
  /** A krb5.conf of its own (KRB5_CONFIG); absent: the system's. */
  krb5Conf?: string | undefined;
  /** Which setting these came from, for errors (e.g. 'hdfs.kerberos'). */
  setting: string;
}

export interface GssClient {
  step(challenge: string): Promise<string>;
  wrap(challenge: string, options?: { user?: string; protect?: boolean }): Promise<string>;
  unwrap(challenge: string): Promise<string>;
}

interface KerberosModule {
  initializeClient(service: string, options?: { principal?: string; mechOID?: number }): Promise<GssClient>;
  GSS_MECH_OID_KRB5: number;
  GSS_MECH_OID_SPNEGO: number;
}

let loaded: KerberosModule | undefined;

/**
 * The `kerberos` addon, loaded on first use. Through require, not import(): a failed import() is cached for the
 * process, and a later build (src/stack/kerberos-addon.ts) must be able to load it.
 */
export async function loadKerberos(): Promise<KerberosModule> {
  const require = createRequire(import.meta.url);
  try {
    loaded ??= require('kerberos') as KerberosModule;
    return loaded;
  } catch {}
  try {
    // Node's resolver remembers that the package was missing, so an addon built since then in this process
    // (kerberos-addon.ts) is loaded by the path of its main file.
    loaded = require(
      fileURLToPath(new URL('../../node_modules/kerberos/lib/index.js', import.meta.url)),
    ) as KerberosModule;
    return loaded;
  } catch (err) {
    throw new TweetpipeError(
      'DEPENDENCY_MISSING',
      'Kerberos needs the npm package `kerberos` built against the system Kerberos library: run ' +
        '`tweetpipe stack up --kerberos` as root once (it installs libkrb5-dev and builds it), or ' +
        '`apt-get install libkrb5-dev` and `npm rebuild kerberos`',
      { cause: err },
    );
  }
}

/**
 * Points the process's Kerberos library at these credentials. Process-wide by nature (libkrb5 reads the
 * environment): every Kerberos client in one tweetpipe process uses one identity.
 */
export function useCredentials(creds: KerberosCredentials): void {
  if (creds.krb5Conf) {
    readable(creds.krb5Conf, `${creds.setting}.krb5Conf`);
    process.env.KRB5_CONFIG = creds.krb5Conf;
  }
  if (creds.keytab) {
    readable(creds.keytab, `${creds.setting}.keytab`);
    process.env.KRB5_CLIENT_KTNAME = creds.keytab;
    // One memory cache per principal and keytab: tickets got from one keytab never stand in for another's.
    const id = createHash('sha256').update(`${creds.principal}\0${creds.keytab}`).digest('hex').slice(0, 16);
    process.env.KRB5CCNAME = `MEMORY:tweetpipe-${id}`;
  }
}

function readable(file: string, key: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new TweetpipeError('CONFIG_INVALID', `${key}: cannot read ${file} (expected a readable file)`, {
      details: { key, file },
    });
  }
}

/**
 * A GSS client for `service@host` (e.g. HTTP@namenode.example.com). Kerberos failures are turned into errors that
 * say whether the principal or the keytab is at fault.
 */
export async function gssClient(
  creds: KerberosCredentials,
  service: string,
  mech: 'spnego' | 'krb5',
  code: 'HDFS_AUTH' | 'KAFKA_AUTH' = 'HDFS_AUTH',
): Promise<GssClient> {
  const krb = await loadKerberos();
  useCredentials(creds);
  const mechOID = mech === 'spnego' ? krb.GSS_MECH_OID_SPNEGO : krb.GSS_MECH_OID_KRB5;
  try {
    const options = creds.principal ? { principal: creds.principal, mechOID } : { mechOID };
    return await krb.initializeClient(service, options);
  } catch (err) {
    throw kerberosError(creds, service, err, code);
  }
}

/** `Negotiate <token>` for one HTTP request: a SPNEGO token cannot be replayed, so one is made per handshake. */
export async function negotiateHeader(creds: KerberosCredentials, host: string): Promise<string> {
  const client = await gssClient(creds, `HTTP@${host}`, 'spnego');
  try {
    return `Negotiate ${await client.step('')}`;
  } catch (err) {
    throw kerberosError(creds, `HTTP@${host}`, err);
  }
}

/** A Kerberos failure, naming the principal, the keytab or the service that MIT's message points at. */
export function kerberosError(
  creds: KerberosCredentials,
  service: string,
  err: unknown,
  code: 'HDFS_AUTH' | 'KAFKA_AUTH' = 'HDFS_AUTH',
): TweetpipeError {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  const who = creds.principal ?? 'the ticket cache principal';
  let what: string;
  if (/not found in Kerberos database|Client .* not found/i.test(message))
    what = `unknown principal ${who} (${creds.setting}.principal): the KDC does not know it`;
  else if (
    /No key table entry found|Key table|keytab/i.test(message) ||
    (creds.keytab && /No credentials/i.test(message))
  )
    what = `${creds.setting}.keytab ${creds.keytab ?? ''} holds no usable key for ${who}`;
  else if (/Preauthentication failed|Decrypt integrity check failed|password incorrect/i.test(message))
    what = `${creds.setting}.keytab ${creds.keytab ?? ''} has a wrong or outdated key for ${who}`;
  else if (/Server .* not found in Kerberos database/i.test(message))
    what = `the KDC knows no service principal for ${service}`;
  else if (/No Kerberos credentials|credentials cache/i.test(message))
    what = `no Kerberos ticket for ${who}: run kinit, or set ${creds.setting}.keytab`;
  else what = `Kerberos failed for ${who} to ${service}`;
  return new TweetpipeError(code, `${what}: ${message}`, {
    cause: err,
    details: { principal: creds.principal, keytab: creds.keytab, service },
  });
}
