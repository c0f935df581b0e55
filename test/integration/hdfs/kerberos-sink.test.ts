/**
 * `tweetpipe sink` into the Kerberized HDFS of `stack up --kerberos` (started here when not running), once with
 * hdfs.auth=kerberos (keytab) and once with hdfs.auth=token (a delegation token in a file): exactly the produced
 * ids, once each. Kafka is the shared plain stack (TWEETPIPE_BROKERS).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { loadConfig } from '../../../src/config.ts';
import { WebHdfsClient } from '../../../src/hdfs/webhdfs.ts';
import { negotiateHeader } from '../../../src/kerberos/gssapi.ts';
import { type KerberosClientSettings, kerberosUp } from '../../../src/stack/kerberos-stack.ts';
import { runCli } from '../../helpers/cli.ts';
import { listCommitted, readBack, verifySinkOutput } from '../../helpers/hdfs-readback.ts';
import { consoleKeys, deleteTopics, uniqueTopic } from '../../helpers/topics.ts';

const N = 3000;
const RUN = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
const BASE = `/tmp/tweetpipe-krb-sink-${RUN}`;
const stackConfig = loadConfig({
  env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('TWEETPIPE_STACK_'))),
});
let settings: KerberosClientSettings;
let client: WebHdfsClient;
let work: string;
let topic: string;
let ids: string[];

/** A config file for the sink: the Kerberized HDFS with the given auth. */
async function configFile(name: string, hdfs: Record<string, unknown>): Promise<string> {
  const file = join(work, `${name}.json`);
  await writeFile(file, JSON.stringify({ hdfs: { tls: { ca: settings.tlsCa }, ...hdfs } }));
  return file;
}

/** A config file for the Kerberized broker (SASL/GSSAPI as `principal`), and the Kerberized HDFS as the client. */
async function gssapiConfigFile(name: string, principal: string): Promise<string> {
  const file = join(work, `${name}.json`);
  const kerberos = { principal, keytab: settings.keytab, krb5Conf: settings.krb5Conf };
  await writeFile(
    file,
    JSON.stringify({
      kafka: {
        brokers: settings.brokers,
        securityProtocol: 'SASL_PLAINTEXT',
        sasl: { mechanism: 'GSSAPI', kerberos: { ...kerberos, serviceName: settings.kafkaServiceName } },
      },
      hdfs: {
        tls: { ca: settings.tlsCa },
        auth: 'kerberos',
        kerberos: { ...kerberos, principal: settings.principal },
      },
    }),
  );
  return file;
}

async function sink(label: string, config: string): Promise<void> {
  const run = await runCli(
    [
      'sink',
      '--config',
      config,
      '--topic',
      topic,
      '--hdfs-dir',
      `${BASE}/${label}`,
      '--group',
      `tp-krb-${label}-${RUN}`,
      '--max-records',
      '1000',
      '--exit-when-idle',
      '3',
    ],
    { TWEETPIPE_WEBHDFS: settings.webhdfs.join(',') },
    180_000,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.ok(
    !/delegation=[A-Za-z0-9_-]{20,}/.test(run.stdout + run.stderr),
    'a delegation token in the output',
  );
}

async function assertExactlyOnce(label: string): Promise<void> {
  const out = await verifySinkOutput(client, { root: `${BASE}/${label}`, topic, expectedIds: ids });
  assert.deepEqual(out.problems, []);
  assert.equal(out.records, N);
  assert.equal(out.distinctIds, N);
  assert.deepEqual(out.tmpFiles, []);
}

before(async () => {
  settings = await kerberosUp(stackConfig, () => {});
  work = await mkdtemp(join(tmpdir(), 'tweetpipe-krb-sink-'));
  client = new WebHdfsClient({
    urls: settings.webhdfs,
    user: 'tweetpipe',
    ca: await readFile(settings.tlsCa, 'utf8'),
    auth: {
      auth: 'kerberos',
      user: 'tweetpipe',
      kerberos: { ...settings, setting: 'hdfs.kerberos' },
    },
  });
  topic = uniqueTopic('krb-sink');
  const produced = await runCli(
    [
      'produce',
      '--source',
      'synthetic',
      '--max-tweets',
      String(N),
      '--seed',
      '15',
      '--topic',
      topic,
      '--partitions',
      '2',
      '--state-dir',
      join(work, 'state'),
    ],
    {},
    120_000,
  );
  assert.equal(produced.code, 0, produced.stderr);
  ids = await consoleKeys(topic);
  assert.equal(ids.length, N);
});
after(async () => {
  await deleteTopics([topic, `${topic}.dlq`]);
  await client?.delete(BASE, { recursive: true }).catch(() => {});
  await client?.close();
  await rm(work, { recursive: true, force: true });
});

describe('tweetpipe sink into a Kerberized HDFS', { timeout: 400_000 }, () => {
  test('hdfs.auth=kerberos (principal and keytab): every record exactly once', async () => {
    const config = await configFile('kerberos', {
      auth: 'kerberos',
      kerberos: { principal: settings.principal, keytab: settings.keytab, krb5Conf: settings.krb5Conf },
    });
    await sink('kerberos', config);
    await assertExactlyOnce('kerberos');
  });

  test('hdfs.auth=token (a delegation token from a file): every record exactly once', async () => {
    const agent = new Agent({ connect: { ca: await readFile(settings.tlsCa, 'utf8') } });
    const authorization = await negotiateHeader({ ...settings, setting: 'test' }, 'localhost');
    const res = await request(`${settings.webhdfs[0]}/webhdfs/v1/?op=GETDELEGATIONTOKEN&renewer=tweetpipe`, {
      dispatcher: agent,
      headers: { authorization },
    });
    const token = ((await res.body.json()) as { Token: { urlString: string } }).Token.urlString;
    await agent.close();
    const tokenFile = join(work, 'token');
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    await sink('token', await configFile('token', { auth: 'token', delegationTokenFile: tokenFile }));
    await assertExactlyOnce('token');
  });

  test('Kafka SASL/GSSAPI: produce to and sink from the Kerberized broker, every record exactly once', async () => {
    const file = await gssapiConfigFile('gssapi', settings.principal);
    const gssTopic = uniqueTopic('krb-gssapi');
    // The Kerberized broker's own topic: dropped with its stack, not through the plain stack's admin.
    const env = { TWEETPIPE_BROKERS: undefined, TWEETPIPE_WEBHDFS: settings.webhdfs.join(',') };
    const produced = await runCli(
      [
        'produce',
        '--config',
        file,
        '--source',
        'synthetic',
        '--max-tweets',
        String(N),
        '--seed',
        '16',
        '--topic',
        gssTopic,
        '--partitions',
        '2',
        '--state-dir',
        join(work, 'state-gssapi'),
      ],
      env,
      120_000,
    );
    assert.equal(produced.code, 0, produced.stderr);
    const run = await runCli(
      [
        'sink',
        '--config',
        file,
        '--topic',
        gssTopic,
        '--hdfs-dir',
        `${BASE}/gssapi`,
        '--group',
        `tp-krb-gss-${RUN}`,
        '--max-records',
        '1000',
        '--exit-when-idle',
        '3',
        '--log-format',
        'json',
        '--log-level',
        'info',
      ],
      env,
      180_000,
    );
    assert.equal(run.code, 0, run.stderr);
    const committed = await listCommitted(client, `${BASE}/gssapi`, gssTopic);
    const records = await readBack(client, committed, join(work, 'readback-gssapi'));
    const seen = new Set(records.map((r) => r.id));
    assert.equal(records.length, N);
    assert.equal(seen.size, N);
  });

  test('Kafka SASL/GSSAPI with an unknown principal: produce fails with an error naming the principal', async () => {
    // The HDFS side keeps the good principal: only Kafka's login can fail.
    const file = await gssapiConfigFile('gssapi-nobody', 'nobody@TWEETPIPE.LOCAL');
    const produced = await runCli(
      [
        'produce',
        '--config',
        file,
        '--source',
        'synthetic',
        '--max-tweets',
        '10',
        '--topic',
        uniqueTopic('krb-nobody'),
        '--state-dir',
        join(work, 'state-nobody'),
      ],
      { TWEETPIPE_BROKERS: undefined },
      120_000,
    );
    assert.notEqual(produced.code, 0);
    assert.match(produced.stderr, /KAFKA_AUTH/);
    // The setting to fix, the keytab and the principal, in tweetpipe's words (libkrb5's own text names only the last).
    assert.match(
      produced.stderr,
      /kafka\.sasl\.kerberos\.keytab \S+ holds no usable key for nobody@TWEETPIPE\.LOCAL/,
    );
  });
});
