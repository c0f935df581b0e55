/**
 * Connection options shared by every Kafka client tweetpipe creates (brokers, security, client id): produce, sink,
 * run, the admin calls and the bench all connect through here, so each security setting means the same everywhere.
 * Files (PEM, password files) are read when a client is built, so a rotated certificate or password applies at the
 * next start of a client.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { SASLOptions } from '@platformatic/kafka';
import { type Config, securityProtocolOf } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import { registerSecret } from '../log.ts';
import { OAuthTokenSource } from './oauth-token.ts';
import { gssapiAuthenticator } from './sasl-gssapi.ts';
import { installZstdCodec } from './zstd-codec.ts';

export interface KafkaConnection {
  clientId: string;
  bootstrapBrokers: string[];
  sasl?: SASLOptions;
  tls?: TlsOptions;
  /** SNI and the name the broker certificate must carry, when it is not the host dialled. */
  tlsServerName?: string;
}

export function kafkaConnection(config: Config, role: string): KafkaConnection {
  installZstdCodec(config.producer.zstdLevel);
  const conn: KafkaConnection = {
    clientId: `${config.kafka.clientId}-${role}`,
    bootstrapBrokers: config.kafka.brokers,
  };
  const protocol = securityProtocolOf(config.kafka);
  if (protocol.startsWith('SASL_') && config.kafka.sasl) conn.sasl = saslOptions(config.kafka.sasl);
  if (protocol.endsWith('SSL')) {
    const tls = config.kafka.tls ?? { insecureSkipVerify: false };
    conn.tls = {
      ...(tls.ca ? { ca: readPem(tls.ca, 'kafka.tls.ca', 'CERTIFICATE') } : {}),
      ...(tls.cert ? { cert: readPem(tls.cert, 'kafka.tls.cert', 'CERTIFICATE') } : {}),
      ...(tls.key ? { key: readPem(tls.key, 'kafka.tls.key', 'PRIVATE KEY') } : {}),
      rejectUnauthorized: !tls.insecureSkipVerify,
    };
    if (tls.servername) conn.tlsServerName = tls.servername;
  }
  return conn;
}

/** What a command must say loudly before it connects: settings that switch a protection off. */
export function insecureKafkaSettings(config: Config): string[] {
  return config.kafka.tls?.insecureSkipVerify && securityProtocolOf(config.kafka).endsWith('SSL')
    ? [
        'kafka.tls.insecureSkipVerify is true: the broker certificates are NOT verified, so anyone on the network ' +
          'path can pose as the brokers and read or change the data and the credentials sent to them. Set ' +
          'kafka.tls.ca to the CA that signed them instead.',
      ]
    : [];
}

/** One token source per endpoint and client in a process: produce, sink and admin clients share its token. */
const tokenSources = new Map<string, OAuthTokenSource>();

function saslOptions(sasl: NonNullable<Config['kafka']['sasl']>): SASLOptions {
  if (sasl.mechanism === 'GSSAPI') {
    const { serviceName, ...credentials } = sasl.kerberos ?? { serviceName: 'kafka' };
    return {
      mechanism: 'GSSAPI',
      authenticate: gssapiAuthenticator({
        serviceName,
        credentials: { ...credentials, setting: 'kafka.sasl.kerberos' },
      }),
    };
  }
  if (sasl.mechanism === 'OAUTHBEARER') {
    const oauth = sasl.oauthbearer as NonNullable<typeof sasl.oauthbearer>;
    const clientSecret =
      oauth.clientSecret ??
      readSecretFile(oauth.clientSecretFile as string, 'kafka.sasl.oauthbearer.clientSecretFile');
    const key = `${oauth.tokenEndpoint} ${oauth.clientId} ${oauth.scope ?? ''}`;
    let source = tokenSources.get(key);
    if (!source) {
      source = new OAuthTokenSource({
        tokenEndpoint: oauth.tokenEndpoint,
        clientId: oauth.clientId,
        clientSecret,
        scope: oauth.scope,
      });
      tokenSources.set(key, source);
    }
    const tokens = source;
    return {
      mechanism: 'OAUTHBEARER',
      token: () => tokens.get(),
      ...(oauth.extensions ? { oauthBearerExtensions: oauth.extensions } : {}),
    };
  }
  return {
    mechanism: sasl.mechanism,
    username: sasl.username as string,
    password: sasl.password ?? readSecretFile(sasl.passwordFile as string, 'kafka.sasl.passwordFile'),
  };
}

function readFile(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TweetpipeError(
      'CONFIG_INVALID',
      `config key "${key}": cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/** A secret kept in a file, like Kafka's file config provider: the whole file without its trailing newline. */
function readSecretFile(path: string, key: string): string {
  const secret = readFile(path, key).replace(/\r?\n$/, '');
  if (secret === '') throw new TweetpipeError('CONFIG_INVALID', `config key "${key}": ${path} is empty`);
  registerSecret(secret);
  return secret;
}

function readPem(path: string, key: string, kind: 'CERTIFICATE' | 'PRIVATE KEY'): string {
  const pem = readFile(path, key);
  // PRIVATE KEY also matches "RSA PRIVATE KEY", "EC PRIVATE KEY" and "ENCRYPTED PRIVATE KEY" (not supported: no
  // passphrase setting, so say so rather than fail in the handshake).
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(pem) || pem.includes('ENCRYPTED PRIVATE KEY'))
    throw new TweetpipeError(
      'CONFIG_INVALID',
      `config key "${key}": ${path} is not ${kind === 'CERTIFICATE' ? 'a PEM certificate file (-----BEGIN CERTIFICATE-----)' : 'an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)'}`,
    );
  return pem;
}
