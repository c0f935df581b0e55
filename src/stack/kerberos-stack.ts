/**
 * `stack up --kerberos`: a Kerberized HDFS of its own beside the plain stack, so both run at once: a private MIT
 * KDC (kdc.ts), a NameNode and a DataNode in secure mode (Kerberos RPC, SPNEGO on HTTP, block access tokens, SASL
 * data-transfer protection, HTTPS only: Hadoop refuses to start a DataNode on unprivileged ports without the last
 * two), a self-signed TLS certificate made with the JDK's keytool. Its files live in <stack.home>/kerberos; it
 * writes <stack.home>/kerberos/client.json with what a client needs (krb5.conf, principal, keytab, WebHDFS URL,
 * CA). Ports: KDC 8800, NameNode rpc 9010 and https 9871, DataNode 9011-9014.
 * Delegation tokens here live shortly (renewal every 20 s, 60 s at most) so that renewal and replacement happen
 * within a test run; a real cluster's are a day and a week.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { type Config, loadConfig } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import { probeBrokers } from '../kafka/admin.ts';
import { kafkaConnection } from '../kafka/client-options.ts';
import { type KerberosCredentials, negotiateHeader } from '../kerberos/gssapi.ts';
import {
  formatNamenodeOnce,
  HDFS_LOG4J,
  hdfsSite,
  datanodeSpec as plainDatanodeSpec,
  namenodeSpec as plainNamenodeSpec,
  xml,
} from './hdfs-server.ts';
import { ensureKeytab, type Kdc, kdcOf, kdcPid, prepareKdc, REALM, startKdc, stopKdc } from './kdc.ts';
import { ensureKerberosAddon } from './kerberos-addon.ts';
import {
  BROKER_PRINCIPAL,
  brokerKeytab,
  GSSAPI_PORT,
  kerberosBrokerSpec,
  prepareKerberosBroker,
} from './kerberos-broker.ts';
import { stackPaths } from './paths.ts';
import { logTail, runningPid, type ServerSpec, startServer, stopServer } from './process.ts';

const run = promisify(execFile);

export const KERBEROS_PORTS = {
  kdc: 8800,
  namenodeRpc: 9010,
  namenodeHttps: 9871,
  datanode: 9011,
  datanodeHttps: 9012,
  datanodeHttp: 9013,
  datanodeIpc: 9014,
  /** Unused under HTTPS_ONLY, but set so that the default (9870, the plain stack's) is never taken. */
  namenodeHttp: 9019,
} as const;

/** What a client of the Kerberized stack needs: client.json. */
export interface KerberosClientSettings {
  realm: string;
  krb5Conf: string;
  principal: string;
  keytab: string;
  webhdfs: string[];
  /** The certificate the https WebHDFS servers present (self-signed): what a client trusts. */
  tlsCa: string;
  hdfsUri: string;
  /** The Kerberized broker's SASL_PLAINTEXT GSSAPI listener, and the service name of its principal. */
  brokers: string[];
  kafkaServiceName: string;
}

export const CLIENT_PRINCIPAL = `tweetpipe@${REALM}`;

/** The plain stack's config with the Kerberized HDFS's home and ports: the server specs follow from it. */
function kerberosConfig(config: Config): Config {
  const p = KERBEROS_PORTS;
  return {
    ...config,
    stack: {
      ...config.stack,
      home: join(config.stack.home, 'kerberos'),
      namenodeRpcPort: p.namenodeRpc,
      webhdfsPort: p.namenodeHttp,
      datanodePort: p.datanode,
      datanodeHttpPort: p.datanodeHttp,
      datanodeIpcPort: p.datanodeIpc,
    },
  };
}

export function kerberosDir(config: Config): string {
  return stackPaths(kerberosConfig(config)).home;
}

export const clientFile = (config: Config): string => join(kerberosDir(config), 'client.json');

function secureSpec(spec: ServerSpec, kdc: Kdc): ServerSpec {
  return { ...spec, jvmArgs: [...spec.jvmArgs, `-Djava.security.krb5.conf=${kdc.krb5Conf}`] };
}

function specs(config: Config, kdc: Kdc): ServerSpec[] {
  const k = kerberosConfig(config);
  const paths = stackPaths(k);
  return [
    secureSpec(plainNamenodeSpec(k, paths), kdc),
    secureSpec(plainDatanodeSpec(k, paths), kdc),
    kerberosBrokerSpec(k, paths, kdc.krb5Conf),
  ];
}

/** A PKCS#12 keystore with a self-signed certificate for localhost, and that certificate as PEM. */
async function ensureTls(dir: string): Promise<{ keystore: string; password: string; cert: string }> {
  const keystore = join(dir, 'https.p12');
  const cert = join(dir, 'https-cert.pem');
  const passwordFile = join(dir, 'https.password');
  if (!existsSync(passwordFile)) await writeFile(passwordFile, crypto.randomUUID(), { mode: 0o600 });
  const password = (await readFile(passwordFile, 'utf8')).trim();
  if (existsSync(cert)) return { keystore, password, cert };
  const common = ['-storetype', 'PKCS12', '-keystore', keystore, '-storepass', password];
  await run('keytool', [
    '-genkeypair',
    '-alias',
    'https',
    '-keyalg',
    'RSA',
    '-keysize',
    '2048',
    '-validity',
    '3650',
    '-dname',
    'CN=localhost',
    '-ext',
    'SAN=dns:localhost,ip:127.0.0.1',
    ...common,
  ]);
  const { stdout } = await run('keytool', ['-exportcert', '-rfc', '-alias', 'https', ...common]);
  await writeFile(cert, stdout);
  return { keystore, password, cert };
}

async function prepareSecureHdfs(config: Config, kdc: Kdc): Promise<KerberosClientSettings> {
  const k = kerberosConfig(config);
  const paths = stackPaths(k);
  const dir = paths.home;
  await mkdir(paths.hdfsConf, { recursive: true });
  await mkdir(paths.hdfsData, { recursive: true, mode: 0o700 });
  await mkdir(paths.logs, { recursive: true });
  await mkdir(paths.run, { recursive: true });
  const serverKeytab = join(dir, 'hdfs.keytab');
  const clientKeytab = join(dir, 'tweetpipe.keytab');
  const nn = `nn/localhost@${REALM}`;
  const dn = `dn/localhost@${REALM}`;
  const http = `HTTP/localhost@${REALM}`;
  await ensureKeytab(kdc, serverKeytab, [nn, dn, http]);
  await ensureKeytab(kdc, clientKeytab, [CLIENT_PRINCIPAL]);
  await ensureKeytab(kdc, brokerKeytab(dir), [BROKER_PRINCIPAL]);
  await prepareKerberosBroker(k, paths, brokerKeytab(dir));
  const tls = await ensureTls(dir);
  const p = KERBEROS_PORTS;
  await writeFile(
    join(paths.hdfsConf, 'core-site.xml'),
    xml({
      'fs.defaultFS': `hdfs://localhost:${p.namenodeRpc}`,
      'hadoop.tmp.dir': join(dir, 'hdfs', 'tmp'),
      'hadoop.security.authentication': 'kerberos',
      // Hadoop 3.5's HTTP filter reads these (the dfs.web.authentication.* keys are ignored).
      'hadoop.http.authentication.type': 'kerberos',
      'hadoop.http.authentication.kerberos.principal': http,
      'hadoop.http.authentication.kerberos.keytab': serverKeytab,
      'hadoop.http.authentication.simple.anonymous.allowed': false,
      // No OS account stands behind tweetpipe: it is given the superuser group, as hdfs.user is in the plain stack.
      'hadoop.user.group.static.mapping.overrides': `dr.who=;tweetpipe=supergroup`,
    }),
  );
  await writeFile(
    join(paths.hdfsConf, 'hdfs-site.xml'),
    xml({
      ...hdfsSite(k, paths),
      'dfs.namenode.https-address': `localhost:${p.namenodeHttps}`,
      'dfs.namenode.secondary.https-address': 'localhost:0',
      'dfs.datanode.https.address': `localhost:${p.datanodeHttps}`,
      'dfs.http.policy': 'HTTPS_ONLY',
      'dfs.block.access.token.enable': true,
      'dfs.data.transfer.protection': 'authentication',
      'dfs.namenode.kerberos.principal': nn,
      'dfs.namenode.keytab.file': serverKeytab,
      'dfs.namenode.kerberos.internal.spnego.principal': http,
      'dfs.datanode.kerberos.principal': dn,
      'dfs.datanode.keytab.file': serverKeytab,
      'dfs.web.authentication.kerberos.principal': http,
      'dfs.web.authentication.kerberos.keytab': serverKeytab,
      'dfs.namenode.delegation.token.renew-interval': 20_000,
      'dfs.namenode.delegation.token.max-lifetime': 60_000,
    }),
  );
  await writeFile(
    join(paths.hdfsConf, 'ssl-server.xml'),
    xml({
      'ssl.server.keystore.type': 'pkcs12',
      'ssl.server.keystore.location': tls.keystore,
      'ssl.server.keystore.password': tls.password,
      'ssl.server.keystore.keypassword': tls.password,
    }),
  );
  await writeFile(join(paths.hdfsConf, 'log4j.properties'), HDFS_LOG4J);
  await formatNamenodeOnce(specs(config, kdc)[0]!, paths);
  return {
    realm: REALM,
    krb5Conf: kdc.krb5Conf,
    principal: CLIENT_PRINCIPAL,
    keytab: clientKeytab,
    webhdfs: [`https://localhost:${p.namenodeHttps}`],
    tlsCa: tls.cert,
    hdfsUri: `hdfs://localhost:${p.namenodeRpc}`,
    brokers: [`localhost:${GSSAPI_PORT}`],
    kafkaServiceName: 'kafka',
  };
}

const kdcFor = (config: Config): Kdc => kdcOf(join(kerberosDir(config), 'kdc'), KERBEROS_PORTS.kdc);

/** Healthy = the NameNode answers SPNEGO over https and counts a live DataNode. */
async function secureHdfsHealth(client: KerberosClientSettings): Promise<{ ok: boolean; detail: string }> {
  const creds: KerberosCredentials = { ...client, setting: 'stack kerberos' };
  const agent = new Agent({ connect: { ca: await readFile(client.tlsCa, 'utf8') } });
  try {
    const res = await request(`${client.webhdfs[0]}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState`, {
      dispatcher: agent,
      headers: { authorization: await negotiateHeader(creds, 'localhost') },
      headersTimeout: 3000,
      bodyTimeout: 3000,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) return { ok: false, detail: `NameNode https: HTTP ${res.statusCode}` };
    const live = (JSON.parse(text) as { beans: { NumLiveDataNodes?: number }[] }).beans[0]?.NumLiveDataNodes;
    return live
      ? { ok: true, detail: `${live} DataNode live` }
      : { ok: false, detail: 'no DataNode live yet' };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  } finally {
    await agent.close();
  }
}

/** The client settings as tweetpipe config (kafka.* and hdfs.*), for the stack's own probe and for tests. */
export function kerberosClientConfig(client: KerberosClientSettings): Config {
  const kerberos = { principal: client.principal, keytab: client.keytab, krb5Conf: client.krb5Conf };
  return loadConfig({
    env: {},
    flags: {
      'kafka.brokers': client.brokers.join(','),
      'kafka.securityProtocol': 'SASL_PLAINTEXT',
      'kafka.sasl': { mechanism: 'GSSAPI', kerberos: { ...kerberos, serviceName: client.kafkaServiceName } },
      'hdfs.webhdfs': client.webhdfs.join(','),
      'hdfs.auth': 'kerberos',
      'hdfs.kerberos': kerberos,
      'hdfs.tls': { ca: client.tlsCa },
      'hdfs.uri': client.hdfsUri,
    },
  });
}

async function gssapiBrokerHealth(client: KerberosClientSettings): Promise<{ ok: boolean; detail: string }> {
  try {
    await probeBrokers(kafkaConnection(kerberosClientConfig(client), 'stack'), 3000);
    return { ok: true, detail: 'the broker accepts GSSAPI' };
  } catch (err) {
    return { ok: false, detail: `broker GSSAPI: ${(err as Error).message}` };
  }
}

/** Starts the KDC and the Kerberized HDFS unless they run; returns the client settings (also in client.json). */
export async function kerberosUp(
  config: Config,
  say: (line: string) => void,
): Promise<KerberosClientSettings> {
  await ensureKerberosAddon(say);
  const kdc = kdcFor(config);
  await prepareKdc(kdc);
  if (await startKdc(kdc)) say(`started krb5kdc on localhost:${kdc.port} (realm ${REALM})`);
  const all = specs(config, kdc);
  const running = await Promise.all(all.map((spec) => runningPid(spec)));
  const client = await prepareSecureHdfs(config, kdc);
  for (const [i, spec] of all.entries()) {
    if (running[i] !== null) continue;
    const pid = await startServer(spec);
    say(`started Kerberized ${spec.name} (pid ${pid}), log ${spec.logFile}`);
  }
  const deadline = Date.now() + config.stack.startTimeoutS * 1000;
  let last = '';
  while (Date.now() < deadline) {
    for (const spec of all) {
      if ((await runningPid(spec)) === null)
        throw new TweetpipeError(
          'SERVER_DIED',
          `the Kerberized ${spec.name} exited; last lines of ${spec.logFile}:\n${await logTail(spec.logFile)}`,
        );
    }
    const hdfs = await secureHdfsHealth(client);
    const kafka = hdfs.ok ? await gssapiBrokerHealth(client) : hdfs;
    const health = { ok: kafka.ok, detail: `${hdfs.detail}, ${kafka.detail}` };
    if (health.ok) {
      await writeFile(clientFile(config), `${JSON.stringify(client, null, 2)}\n`);
      say(`Kerberized HDFS and broker up (${health.detail}); client settings: ${clientFile(config)}`);
      return client;
    }
    last = health.detail;
    await sleep(500);
  }
  throw new TweetpipeError('TIMEOUT', `the Kerberized HDFS and broker did not become healthy: ${last}`);
}

/** What `stack status` shows of the Kerberized stack: null when `stack up --kerberos` never prepared one here. */
export async function kerberosStatus(config: Config): Promise<{
  servers: { name: string; pid: number | null; log: string }[];
  health: { ok: boolean; detail: string };
  clientFile: string;
} | null> {
  if (!existsSync(clientFile(config))) return null;
  const kdc = kdcFor(config);
  const servers = [
    { name: 'kdc', pid: await kdcPid(kdc), log: join(kdc.dir, 'kdc.log') },
    ...(await Promise.all(
      specs(config, kdc).map(async (spec) => ({
        name: spec.name,
        pid: await runningPid(spec),
        log: spec.logFile,
      })),
    )),
  ];
  if (servers.some((s) => s.pid === null))
    return { servers, health: { ok: false, detail: 'not all servers run' }, clientFile: clientFile(config) };
  const client = JSON.parse(await readFile(clientFile(config), 'utf8')) as KerberosClientSettings;
  const hdfs = await secureHdfsHealth(client);
  const kafka = await gssapiBrokerHealth(client);
  return {
    servers,
    health: { ok: hdfs.ok && kafka.ok, detail: `${hdfs.detail}, ${kafka.detail}` },
    clientFile: clientFile(config),
  };
}

export async function kerberosDown(config: Config, say: (line: string) => void): Promise<void> {
  const kdc = kdcFor(config);
  for (const spec of specs(config, kdc).reverse()) {
    const result = await stopServer(spec, 30_000);
    if (result !== 'not-running') say(`Kerberized ${spec.name}: ${result}`);
  }
  await stopKdc(kdc);
}
