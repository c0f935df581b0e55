/**
 * The Kafka security settings: how they are validated (named keys, contradictions refused as Kafka's own clients
 * refuse them), how they become client options (PEM and password files read, secrets registered for masking), and
 * how a security failure becomes a final error naming the setting to fix.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { NetworkError } from '@platformatic/kafka';
import { type Config, loadConfig, redactedConfig, securityProtocolOf } from '../../../src/config.ts';
import { TweetpipeError } from '../../../src/errors.ts';
import { insecureKafkaSettings, kafkaConnection } from '../../../src/kafka/client-options.ts';
import { kafkaError } from '../../../src/kafka/kafka-errors.ts';
import { maskSecrets } from '../../../src/log.ts';

const dir = mkdtempSync(join(tmpdir(), 'tweetpipe-kafka-security-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

const failure = (fn: () => unknown): TweetpipeError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TweetpipeError, String(err));
    return err;
  }
  assert.fail('expected an error');
};
const load = (env: Record<string, string>): Config => loadConfig({ env });

describe('settings', () => {
  test('the protocol follows from the settings when not given, as SASL_SSL for SASL with TLS', () => {
    assert.equal(securityProtocolOf(load({}).kafka), 'PLAINTEXT');
    const sasl = '{"mechanism":"PLAIN","username":"u","password":"p1234"}';
    assert.equal(
      securityProtocolOf(load({ TWEETPIPE_KAFKA_SASL: sasl, TWEETPIPE_KAFKA_TLS: 'true' }).kafka),
      'SASL_SSL',
    );
    assert.equal(securityProtocolOf(load({ TWEETPIPE_KAFKA_TLS: '{"ca":"/ca.pem"}' }).kafka), 'SSL');
  });

  test('contradictions and missing parts are refused, naming the keys', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ TWEETPIPE_KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' }, /kafka\.securityProtocol.*needs kafka\.sasl/],
      [
        {
          TWEETPIPE_KAFKA_SECURITY_PROTOCOL: 'SSL',
          TWEETPIPE_KAFKA_SASL: '{"mechanism":"PLAIN","username":"u","password":"p"}',
        },
        /kafka\.sasl.*securityProtocol is SSL/,
      ],
      [
        { TWEETPIPE_KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', TWEETPIPE_KAFKA_TLS: '{"ca":"/c"}' },
        /kafka\.tls is set/,
      ],
      [{ TWEETPIPE_KAFKA_TLS: '{"cert":"/c"}' }, /kafka\.tls\.key.*go together/],
      [
        { TWEETPIPE_KAFKA_SASL: '{"mechanism":"SCRAM-SHA-256","username":"u"}' },
        /exactly one of password and passwordFile/,
      ],
      [{ TWEETPIPE_KAFKA_SASL: '{"mechanism":"OAUTHBEARER"}' }, /kafka\.sasl\.oauthbearer/],
      [{ TWEETPIPE_KAFKA_SECURITY_PROTOCOL: 'TLS' }, /kafka\.securityProtocol.*PLAINTEXT.*SASL_SSL/s],
    ];
    for (const [env, expected] of cases)
      assert.match(failure(() => load(env)).message, expected, JSON.stringify(env));
  });

  test('a password set alone completes kafka.sasl, and every secret is masked by its path', () => {
    const c = load({
      TWEETPIPE_KAFKA_SASL_PASSWORD: 'sekret-pass',
      TWEETPIPE_KAFKA_SASL: '{"mechanism":"SCRAM-SHA-512","username":"etl"}',
    });
    assert.deepEqual(c.kafka.sasl, { mechanism: 'SCRAM-SHA-512', username: 'etl', password: 'sekret-pass' });
    const oauth = load({
      TWEETPIPE_KAFKA_SASL:
        '{"mechanism":"OAUTHBEARER","oauthbearer":{"tokenEndpoint":"https://idp/token","clientId":"c","clientSecret":"client-sekret"}}',
    });
    const printed = JSON.stringify([redactedConfig(c), redactedConfig(oauth)]);
    assert.ok(!printed.includes('sekret'), printed);
    assert.match(printed, /\[REDACTED\]/);
  });
});

describe('client options', () => {
  test('PEM files and the password file are read; the password is masked wherever it would be printed', () => {
    const c = load({
      TWEETPIPE_KAFKA_SASL: JSON.stringify({
        mechanism: 'SCRAM-SHA-256',
        username: 'u',
        passwordFile: write('pw', 'from-the-file-77\n'),
      }),
      TWEETPIPE_KAFKA_TLS: JSON.stringify({
        ca: write('ca.pem', CERT),
        cert: write('c.pem', CERT),
        key: write('k.pem', KEY),
        servername: 'kafka.internal',
      }),
    });
    const conn = kafkaConnection(c, 'test');
    assert.equal(conn.sasl?.password, 'from-the-file-77');
    assert.equal(conn.tls?.ca, CERT);
    assert.equal(conn.tls?.key, KEY);
    assert.equal(conn.tls?.rejectUnauthorized, true);
    assert.equal(conn.tlsServerName, 'kafka.internal');
    assert.equal(maskSecrets('auth with from-the-file-77'), 'auth with [REDACTED]');
  });

  test('a file that is missing or not PEM is a config error naming the key', () => {
    const missing = load({ TWEETPIPE_KAFKA_TLS: '{"ca":"/nonexistent/ca.pem"}' });
    assert.match(
      failure(() => kafkaConnection(missing, 't')).message,
      /"kafka\.tls\.ca": cannot read \/nonexistent\/ca\.pem \(ENOENT\)/,
    );
    const notPem = load({
      TWEETPIPE_KAFKA_TLS: JSON.stringify({ cert: write('x.pem', 'hello'), key: write('y.pem', KEY) }),
    });
    assert.match(
      failure(() => kafkaConnection(notPem, 't')).message,
      /"kafka\.tls\.cert".*not a PEM certificate/,
    );
  });

  test('switching off certificate verification is said as a warning naming the setting', () => {
    const c = load({ TWEETPIPE_KAFKA_TLS: '{"insecureSkipVerify":true}' });
    assert.equal(kafkaConnection(c, 't').tls?.rejectUnauthorized, false);
    assert.match(insecureKafkaSettings(c).join('\n'), /kafka\.tls\.insecureSkipVerify is true.*NOT verified/);
    assert.deepEqual(insecureKafkaSettings(load({ TWEETPIPE_KAFKA_TLS: 'true' })), []);
  });
});

describe('security failures are final and name the setting', () => {
  const tlsError = (code: string) =>
    new NetworkError('Connection to localhost:9094 failed.', {
      cause: Object.assign(new Error(code), { code }),
    });

  for (const [code, expected] of [
    ['SELF_SIGNED_CERT_IN_CHAIN', /not trusted.*kafka\.tls\.ca/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /not trusted.*kafka\.tls\.ca/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /kafka\.tls\.servername/],
    ['ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN', /refused the TLS client certificate.*kafka\.tls\.cert/],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', /refused the TLS client certificate/],
  ] as const) {
    test(code, () => {
      const err = kafkaError('ensuring topic t', tlsError(code));
      assert.equal(err.code, 'KAFKA_AUTH');
      assert.equal(err.retryable, false);
      assert.match(err.message, expected);
    });
  }

  test('a refused connection stays retryable', () => {
    const err = kafkaError('ensuring topic t', tlsError('ECONNREFUSED'));
    assert.equal(err.code, 'KAFKA');
    assert.equal(err.retryable, true);
  });
});
