/**
 * tweetpipe through each secured door of the local broker (`stack up --secure`, secure-broker.ts): produce and sink
 * end to end, exactly once in HDFS, over SASL_SSL with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN and over mutual TLS,
 * with the settings `stack up --secure` wrote to clients.json, passed as users pass them (environment variables);
 * Confluent's Python client (librdkafka) reads each topic with the same settings.
 * Then each way it goes wrong: a clear, final error (exit code 2) that names the setting or the permission, no
 * retry loop, and no secret in any output. The expected ids come from Kafka's ConsoleConsumer on the plain
 * listener, an independent reader.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAdmin, ensureTopic } from '../../../src/kafka/admin.ts';
import { kafkaConnection } from '../../../src/kafka/client-options.ts';
import { stackPaths } from '../../../src/stack/paths.ts';
import { ensureCa, issueCertificate } from '../../../src/stack/pki.ts';
import { type ClientSettings, SECURE_TOPIC_PREFIX, secureDir } from '../../../src/stack/secure-broker.ts';
import { runCli } from '../../helpers/cli.ts';
import { testHdfsClient, verifySinkOutput } from '../../helpers/hdfs-readback.ts';
import { pythonReadKeys } from '../../helpers/python-kafka.ts';
import { sinkArgs as sinkCliArgs } from '../../helpers/sink-chaos.ts';
import { consoleKeys, deleteTopics, testConfig } from '../../helpers/topics.ts';

const LOG = ['--log-format', 'json', '--log-level', 'info'];
const N = 400;
const RUN = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
const HDFS_BASE = `/tmp/tweetpipe-secure-it-${RUN}`;
const topics: string[] = [];
let clients: Record<string, ClientSettings>;
let work: string;

/** Topics the users' ACLs cover (prefix twitter_data). */
function newTopic(label: string): string {
  const topic = `${SECURE_TOPIC_PREFIX}-it-${label}-${RUN}`;
  topics.push(topic, `${topic}.dlq`);
  return topic;
}

/** A user's settings as the environment variables a user would set (the JSON ones for object settings). */
function envOf(settings: ClientSettings): Record<string, string | undefined> {
  return {
    TWEETPIPE_BROKERS: settings.brokers.join(','),
    TWEETPIPE_KAFKA_SECURITY_PROTOCOL: settings.securityProtocol,
    TWEETPIPE_KAFKA_SASL: settings.sasl ? JSON.stringify(settings.sasl) : undefined,
    TWEETPIPE_KAFKA_TLS: JSON.stringify(settings.tls),
  };
}

const user = (name: string): ClientSettings => {
  const settings = clients[name];
  assert.ok(settings, `no user ${name} in clients.json`);
  return settings;
};

const passwordOf = (name: string): string =>
  readFileSync(user(name).sasl?.passwordFile as string, 'utf8').trim();

function produceArgs(topic: string, count: number, seed: number): string[] {
  return [
    'produce',
    '--source',
    'synthetic',
    '--max-tweets',
    String(count),
    '--seed',
    String(seed),
    '--topic',
    topic,
    '--partitions',
    '2',
    '--state-dir',
    join(work, `state-${topic}-${seed}`),
    ...LOG,
  ];
}

const sinkArgs = (topic: string, group: string) =>
  sinkCliArgs({ topic, root: `${HDFS_BASE}/${topic}`, group }, [
    '--format',
    'jsonl',
    '--max-records',
    '150',
    '--exit-when-idle',
    '3',
  ]);

/** Neither stream holds any of the secrets, and nothing was retried (a final error, at once). */
function assertCleanFailure(run: { code: number | null; stdout: string; stderr: string }, secrets: string[]) {
  assert.equal(run.code, 2, run.stderr.slice(-3000));
  for (const secret of secrets) {
    assert.ok(!run.stderr.includes(secret), 'a secret appears on stderr');
    assert.ok(!run.stdout.includes(secret), 'a secret appears on stdout');
  }
  assert.doesNotMatch(run.stderr, /retrying in/, 'the error was retried');
}

before(async () => {
  const file = join(secureDir(stackPaths(testConfig()).home), 'clients.json');
  assert.ok(existsSync(file), `${file} is missing: start the stack with \`tweetpipe stack up --secure\``);
  clients = JSON.parse(readFileSync(file, 'utf8'));
  work = await mkdtemp(join(tmpdir(), 'tweetpipe-secure-'));
});

after(async () => {
  await deleteTopics(topics);
  await testHdfsClient()
    .delete(HDFS_BASE, { recursive: true })
    .catch(() => {});
  await rm(work, { recursive: true, force: true });
});

describe('each secured door: produce and sink end to end, exactly once in HDFS', () => {
  for (const name of ['writer-scram256', 'writer-scram512', 'writer-plain', 'writer-mtls']) {
    test(name, { timeout: 180_000 }, async () => {
      const topic = newTopic(name);
      const env = envOf(user(name));
      const produced = await runCli(produceArgs(topic, N, 7), env, 120_000);
      assert.equal(produced.code, 0, produced.stderr.slice(-3000));
      const ids = await consoleKeys(topic);
      assert.equal(ids.length, N);
      // An independent client reads the topic with the same settings.
      const pythonKeys = await pythonReadKeys(user(name), topic, N);
      assert.deepEqual(pythonKeys.sort(), [...ids].sort());
      const sank = await runCli(sinkArgs(topic, `${topic}-sink`), env, 120_000);
      assert.equal(sank.code, 0, sank.stderr.slice(-3000));
      const out = await verifySinkOutput(testHdfsClient(), {
        root: `${HDFS_BASE}/${topic}`,
        topic,
        expectedIds: ids,
      });
      assert.deepEqual(out.problems, []);
      assert.equal(out.records, N);
      if (user(name).sasl) assertNoSecret([produced, sank], passwordOf(name));
    });
  }
});

describe('OAUTHBEARER: tokens from a client-credentials endpoint, refreshed before they expire', () => {
  const principal = `writer-oauth-${RUN}`;
  const clientSecret = `oauth-secret-${randomUUID()}`;
  const LIFETIME_S = 4;
  let endpoint: string;
  let server: Server;
  let issued = 0;

  before(async () => {
    // The broker's development validator takes unsigned JWTs (alg none): the principal is the subject.
    server = createServer((req, res) => {
      const basic = Buffer.from(`tweetpipe:${clientSecret}`).toString('base64');
      if (req.headers.authorization !== `Basic ${basic}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      issued++;
      const now = Math.floor(Date.now() / 1000);
      const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const jwt = `${part({ alg: 'none' })}.${part({ sub: principal, iat: now, exp: now + LIFETIME_S })}.`;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: jwt, token_type: 'bearer', expires_in: LIFETIME_S }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    const admin = createAdmin(kafkaConnection(testConfig(), 'test'));
    try {
      const acl = (resourceType: 2 | 3, resourceName: string, patternType: 3 | 4, operation: 2 | 3) => ({
        resourceType,
        resourceName,
        resourcePatternType: patternType,
        principal: `User:${principal}`,
        host: '*',
        operation,
        permissionType: 3 as const,
      });
      // ALL on topics twitter_data* (PREFIXED), READ on every group (LITERAL *), like the stack's writers.
      await admin.createAcls({ creations: [acl(2, SECURE_TOPIC_PREFIX, 4, 2), acl(3, '*', 3, 3)] });
    } finally {
      await admin.close();
    }
  });
  after(() => server.close());

  const oauthEnv = (secret: string) => ({
    ...envOf({ ...user('writer-scram256') }),
    TWEETPIPE_KAFKA_SASL: JSON.stringify({
      mechanism: 'OAUTHBEARER',
      oauthbearer: { tokenEndpoint: endpoint, clientId: 'tweetpipe', clientSecret: secret },
    }),
  });

  test('produce for several token lifetimes: every record lands, new tokens were fetched on the way', {
    timeout: 120_000,
  }, async () => {
    const topic = newTopic('oauth');
    const run = await runCli(
      [...produceArgs(topic, 1_000_000, 3), '--rate', '50', '--duration', String(LIFETIME_S * 3)],
      oauthEnv(clientSecret),
      90_000,
    );
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.ok(issued >= 3, `only ${issued} tokens were issued over three lifetimes`);
    const ids = await consoleKeys(topic);
    assert.ok(ids.length > 0);
    assert.equal(new Set(ids).size, ids.length);
    assertNoSecret([run], clientSecret);
  });

  test('a client secret the endpoint rejects: a final error naming the settings', {
    timeout: 60_000,
  }, async () => {
    const wrong = `wrong-${randomUUID()}`;
    const run = await runCli(produceArgs(newTopic('oauth-wrong'), 10, 1), oauthEnv(wrong));
    assertCleanFailure(run, [wrong, clientSecret]);
    assert.match(run.stderr, /KAFKA_AUTH/);
    assert.match(run.stderr, /kafka\.sasl\.oauthbearer/);
  });
});

function assertNoSecret(runs: { stdout: string; stderr: string }[], secret: string): void {
  for (const run of runs)
    assert.ok(!`${run.stdout}${run.stderr}`.includes(secret), 'the password was printed');
}

describe('what goes wrong: a final error naming the cause, exit code 2, no secret printed', () => {
  test('a wrong password', { timeout: 60_000 }, async () => {
    const wrong = `wrong-${randomUUID()}`;
    const settings = user('writer-scram256');
    const run = await runCli(produceArgs(newTopic('wrong-password'), 10, 1), {
      ...envOf(settings),
      TWEETPIPE_KAFKA_SASL: JSON.stringify({
        mechanism: 'SCRAM-SHA-256',
        username: 'writer-scram256',
        password: wrong,
      }),
    });
    assertCleanFailure(run, [wrong, passwordOf('writer-scram256')]);
    assert.match(run.stderr, /KAFKA_AUTH/);
    assert.match(run.stderr, /rejected the SASL credentials/);
    assert.match(run.stderr, /kafka\.sasl\.username/);
  });

  test('a broker certificate from a CA the client does not trust names kafka.tls.ca', {
    timeout: 60_000,
  }, async () => {
    const settings = user('writer-scram512');
    // No kafka.tls.ca: the system CAs, which never signed the local broker's certificate.
    const run = await runCli(produceArgs(newTopic('untrusted-ca'), 10, 1), {
      ...envOf(settings),
      TWEETPIPE_KAFKA_TLS: '{}',
    });
    assertCleanFailure(run, [passwordOf('writer-scram512')]);
    assert.match(run.stderr, /not trusted/);
    assert.match(run.stderr, /kafka\.tls\.ca/);
  });

  test('a client certificate the broker refuses', { timeout: 120_000 }, async () => {
    // A certificate from another CA, named like the real user: the broker must refuse it in the handshake.
    const rogue = await ensureCa(join(work, 'rogue-ca'), 'rogue CA');
    const pair = await issueCertificate(rogue, 'writer-mtls', 'writer-mtls');
    const settings = user('writer-mtls');
    const run = await runCli(produceArgs(newTopic('refused-cert'), 10, 1), {
      ...envOf({ ...settings, tls: { ca: settings.tls.ca, cert: pair.cert, key: pair.key } }),
    });
    assertCleanFailure(run, [readFileSync(pair.key, 'utf8').split('\n')[1] as string]);
    assert.match(run.stderr, /refused the TLS client certificate/);
    assert.match(run.stderr, /kafka\.tls\.cert/);
  });

  describe('the read-only user', () => {
    let topic: string;
    before(async () => {
      // Made on the plain listener (a super user), with its dead-letter topic: only the denied operation is left.
      topic = newTopic('reader');
      const admin = createAdmin(kafkaConnection(testConfig(), 'test'));
      try {
        for (const name of [topic, `${topic}.dlq`])
          await ensureTopic(admin, { name, partitions: 1, replication: 1, retentionMs: -1 });
      } finally {
        await admin.close();
      }
    });

    test('cannot write: the error names the topic and WRITE', { timeout: 60_000 }, async () => {
      const run = await runCli(produceArgs(topic, 10, 1), envOf(user('reader')));
      assertCleanFailure(run, [passwordOf('reader')]);
      assert.match(run.stderr, /KAFKA_DENIED/);
      assert.match(run.stderr, new RegExp(`WRITE permission on topic ${topic}`));
    });

    test('cannot read with a group it has no READ on: the error names the group', {
      timeout: 60_000,
    }, async () => {
      const group = `tp-test-no-acl-${RUN}`;
      const run = await runCli(sinkArgs(topic, group), envOf(user('reader')));
      assertCleanFailure(run, [passwordOf('reader')]);
      assert.match(run.stderr, /KAFKA_DENIED/);
      assert.match(run.stderr, new RegExp(`READ permission on group ${group}`));
    });
  });
});
