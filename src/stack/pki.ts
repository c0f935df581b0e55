/**
 * A private certificate authority for the local secured broker, made with the JDK that runs the stack (keytool;
 * nothing downloaded): a CA, and certificates it signs, each written as PEM files (certificate, unencrypted PKCS#8
 * key), which both Kafka (ssl.keystore.type=PEM) and Node's TLS read. keytool cannot write a private key as PEM,
 * so a few lines of Java (run from source by the `java` launcher) export it from the PKCS#12 keystore keytool made.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TweetpipeError } from '../errors.ts';

const run = promisify(execFile);
const VALIDITY_DAYS = '3650';

/** A certificate and its key as PEM files. */
export interface PemPair {
  cert: string;
  key: string;
}

export interface CertificateAuthority {
  dir: string;
  /** The CA's PKCS#12 keystore, which signs. */
  keystore: string;
  /** The CA certificate, PEM: what clients and the broker trust. */
  cert: string;
}

/** PEM key of a PKCS#12 entry, as PKCS#8: args keystore, password env var, alias. */
const EXPORT_KEY_JAVA = `import java.io.FileInputStream;
import java.security.KeyStore;
import java.util.Base64;
public class ExportKey {
  public static void main(String[] args) throws Exception {
    char[] password = System.getenv(args[1]).toCharArray();
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(args[0])) { store.load(in, password); }
    byte[] pkcs8 = store.getKey(args[2], password).getEncoded();
    String body = Base64.getMimeEncoder(64, "\\n".getBytes()).encodeToString(pkcs8);
    System.out.print("-----BEGIN PRIVATE KEY-----\\n" + body + "\\n-----END PRIVATE KEY-----\\n");
  }
}
`;

const STORE_PASSWORD_ENV = 'TWEETPIPE_PKI_STORE_PASSWORD';

async function tool(cmd: string, args: string[], storePassword: string): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, {
      timeout: 60_000,
      env: { ...process.env, [STORE_PASSWORD_ENV]: storePassword },
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; code?: string };
    if (e.code === 'ENOENT')
      throw new TweetpipeError(
        'DEPENDENCY_MISSING',
        `${cmd} not found: the secured stack needs a JDK (keytool) on PATH`,
      );
    throw new TweetpipeError('INTERNAL', `${cmd} ${args[0]} failed: ${e.stdout ?? ''}${e.stderr ?? ''}`, {
      cause: err,
    });
  }
}

const keytool = (args: string[], storePassword: string) =>
  tool('keytool', [...args, '-storetype', 'PKCS12', '-storepass:env', STORE_PASSWORD_ENV], storePassword);

/** The keystore password of a directory's keystores, made on first use (they never leave the directory). */
async function storePasswordOf(dir: string): Promise<string> {
  const file = join(dir, 'keystore.password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, password, { mode: 0o600 });
  return password;
}

/** The CA in `dir`, created when it is not there yet. */
export async function ensureCa(dir: string, name: string): Promise<CertificateAuthority> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca: CertificateAuthority = {
    dir,
    keystore: join(dir, 'ca.p12'),
    cert: join(dir, 'ca.pem'),
  };
  if (existsSync(ca.cert)) return ca;
  const password = await storePasswordOf(dir);
  await rm(ca.keystore, { force: true });
  // keytool's own genkeypair makes a self-signed certificate: with basicConstraints CA:true it is a CA.
  await genKeyPair('ca', name, ca.keystore, password, ['-ext', 'bc:c', '-ext', 'KU=keyCertSign,cRLSign']);
  await writeFile(
    ca.cert,
    await keytool(['-exportcert', '-rfc', '-alias', 'ca', '-keystore', ca.keystore], password),
  );
  return ca;
}

/** An RSA key pair with a self-signed certificate for `CN=commonName` in a PKCS#12 keystore. */
function genKeyPair(
  alias: string,
  commonName: string,
  keystore: string,
  password: string,
  extensions: string[] = [],
): Promise<string> {
  const args = [
    '-genkeypair',
    '-alias',
    alias,
    '-keyalg',
    'RSA',
    '-keysize',
    '2048',
    '-validity',
    VALIDITY_DAYS,
  ];
  return keytool([...args, '-dname', `CN=${commonName}`, ...extensions, '-keystore', keystore], password);
}

/**
 * A certificate for `commonName` signed by the CA (server and client use, with the given DNS and IP names), written
 * as `<file>.pem` and `<file>-key.pem` in the CA's directory; kept when it already exists.
 */
export async function issueCertificate(
  ca: CertificateAuthority,
  file: string,
  commonName: string,
  altNames: string[] = [],
): Promise<PemPair> {
  const pair: PemPair = { cert: join(ca.dir, `${file}.pem`), key: join(ca.dir, `${file}-key.pem`) };
  if (existsSync(pair.cert) && existsSync(pair.key)) return pair;
  const password = await storePasswordOf(ca.dir);
  const keystore = join(ca.dir, `${file}.p12`);
  const csr = join(ca.dir, `${file}.csr`);
  await rm(keystore, { force: true });
  await genKeyPair(file, commonName, keystore, password);
  await keytool(['-certreq', '-alias', file, '-keystore', keystore, '-file', csr], password);
  const ext = ['-ext', 'KU=digitalSignature,keyEncipherment', '-ext', 'EKU=serverAuth,clientAuth'];
  if (altNames.length > 0) ext.push('-ext', `SAN=${altNames.join(',')}`);
  const signed = await keytool(
    [
      '-gencert',
      '-rfc',
      '-alias',
      'ca',
      '-keystore',
      ca.keystore,
      '-infile',
      csr,
      '-validity',
      VALIDITY_DAYS,
      ...ext,
    ],
    password,
  );
  // The chain up to the CA, as servers send it.
  await writeFile(pair.cert, `${signed.trim()}\n${(await readFile(ca.cert, 'utf8')).trim()}\n`);
  const exporter = join(ca.dir, 'ExportKey.java');
  await writeFile(exporter, EXPORT_KEY_JAVA);
  const key = await tool('java', [exporter, keystore, STORE_PASSWORD_ENV, file], password);
  await writeFile(pair.key, key, { mode: 0o600 });
  await chmod(pair.key, 0o600);
  await rm(csr, { force: true });
  return pair;
}
