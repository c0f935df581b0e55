/**
 * Kafka: the connection settings (`kafka.*`, with their security checks), the topic (`topic.*`), and the tuning of
 * the clients tweetpipe builds, which no setting exposes (as platformatic/kafka keeps a defaults object a client).
 */
import { z } from 'zod';
import { bool, hostPort, int, kerberosIdentity, list, url } from './setting-types.ts';

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

const saslSchema = z.strictObject({
  mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER', 'GSSAPI']),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  /** A file holding the password (its trailing newline ignored), read when a client connects. */
  passwordFile: z.string().min(1).optional(),
  /** OAUTHBEARER: an OAuth 2 client-credentials grant at the token endpoint, the token refreshed before expiry. */
  oauthbearer: z
    .strictObject({
      tokenEndpoint: url(),
      clientId: z.string().min(1),
      clientSecret: z.string().min(1).optional(),
      clientSecretFile: z.string().min(1).optional(),
      scope: z.string().min(1).optional(),
      /** SASL extensions some services require (Confluent Cloud: logicalCluster, identityPoolId). */
      extensions: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  /** GSSAPI (Kerberos): as hdfs.kerberos, plus the brokers' service name. */
  kerberos: kerberosIdentity
    .extend({
      /** The first component of the brokers' principal (kafka/broker.example.com@REALM): Kafka's sasl.kerberos.service.name. */
      serviceName: z.string().min(1).default('kafka'),
    })
    .optional(),
});

const tlsSchema = z.strictObject({
  /** PEM file of the CA(s) that signed the brokers' certificates; absent: the system's CAs. */
  ca: z.string().min(1).optional(),
  /** PEM files of the client certificate and its private key (mutual TLS). */
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  /** The name the brokers' certificates must carry (SNI and verification), when it is not the host dialled. */
  servername: z.string().min(1).optional(),
  /** Accept any broker certificate: for a test cluster only, logged as a warning by every command. */
  insecureSkipVerify: bool().default(false),
});

type KafkaSecurity = {
  securityProtocol?: SecurityProtocol | undefined;
  sasl?: z.infer<typeof saslSchema> | undefined;
  tls?: z.infer<typeof tlsSchema> | undefined;
};

/** The protocol in force: the one set, or the one the other settings imply. */
export function securityProtocolOf(kafka: KafkaSecurity): SecurityProtocol {
  if (kafka.securityProtocol) return kafka.securityProtocol;
  return `${kafka.sasl ? 'SASL_' : ''}${kafka.tls ? 'SSL' : 'PLAINTEXT'}` as SecurityProtocol;
}

/** Settings that contradict each other or lack a part, named by key, as Kafka's own clients would refuse them. */
function checkKafkaSecurity(kafka: KafkaSecurity, ctx: z.RefinementCtx): void {
  const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const protocol = securityProtocolOf(kafka);
  const { sasl, tls } = kafka;
  if (protocol.startsWith('SASL_') && !sasl)
    issue(
      ['securityProtocol'],
      `${protocol} needs kafka.sasl ({"mechanism":...,"username":...,"password":...})`,
    );
  if (!protocol.startsWith('SASL_') && sasl)
    issue(
      ['sasl'],
      `kafka.sasl is set but kafka.securityProtocol is ${protocol}: use SASL_SSL (or SASL_PLAINTEXT)`,
    );
  if (
    !protocol.endsWith('SSL') &&
    tls &&
    (tls.ca || tls.cert || tls.key || tls.servername || tls.insecureSkipVerify)
  )
    issue(['tls'], `kafka.tls is set but kafka.securityProtocol is ${protocol}: use SSL or SASL_SSL`);
  if (tls && Boolean(tls.cert) !== Boolean(tls.key))
    issue(
      ['tls', tls.cert ? 'key' : 'cert'],
      'kafka.tls.cert and kafka.tls.key go together (client certificate and its key, PEM)',
    );
  if (!sasl) return;
  if (sasl.mechanism === 'GSSAPI') {
    if (sasl.username || sasl.password || sasl.passwordFile || sasl.oauthbearer)
      issue(
        ['sasl'],
        'GSSAPI takes kafka.sasl.kerberos ({"principal":...,"keytab":...}), no username or password',
      );
    return;
  }
  if (sasl.kerberos) issue(['sasl', 'kerberos'], `only for the GSSAPI mechanism, not ${sasl.mechanism}`);
  if (sasl.mechanism === 'OAUTHBEARER') {
    if (!sasl.oauthbearer)
      issue(
        ['sasl', 'oauthbearer'],
        'OAUTHBEARER needs kafka.sasl.oauthbearer ({"tokenEndpoint":...,"clientId":...,"clientSecret":...})',
      );
    else if (Boolean(sasl.oauthbearer.clientSecret) === Boolean(sasl.oauthbearer.clientSecretFile))
      issue(['sasl', 'oauthbearer'], 'expected exactly one of clientSecret and clientSecretFile');
    if (sasl.username || sasl.password || sasl.passwordFile)
      issue(
        ['sasl'],
        'OAUTHBEARER takes no username or password (the token comes from kafka.sasl.oauthbearer)',
      );
    return;
  }
  if (!sasl.username) issue(['sasl', 'username'], `${sasl.mechanism} needs a username`);
  if (Boolean(sasl.password) === Boolean(sasl.passwordFile))
    issue(['sasl'], `${sasl.mechanism} needs exactly one of password and passwordFile`);
  if (sasl.oauthbearer)
    issue(['sasl', 'oauthbearer'], `only for the OAUTHBEARER mechanism, not ${sasl.mechanism}`);
}

/** `kafka.*`: how to reach and authenticate to the brokers. */
export const kafkaSettings = z
  .strictObject({
    brokers: list(hostPort).pipe(z.array(z.string()).min(1)).default(['localhost:9092']),
    clientId: z.string().min(1).default('tweetpipe'),
    /** Kafka's security.protocol; absent: from the other settings (SASL_ when kafka.sasl is set, SSL when kafka.tls). */
    securityProtocol: z.enum(SECURITY_PROTOCOLS).optional(),
    /** Kafka's sasl.mechanism and its credentials; the password and the client secret are secrets. */
    sasl: saslSchema.optional(),
    /** TLS (files in PEM); `true` is TLS with the system's CAs, as `{}`. */
    tls: z.preprocess(
      (v) => (v === true || v === 'true' ? {} : v === false || v === 'false' ? undefined : v),
      tlsSchema.optional(),
    ),
  })
  .superRefine(checkKafkaSecurity)
  .prefault({});

/** `topic.*`: the topic tweets go to, as tweetpipe creates it when missing. */
export const topicSettings = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,249}$/, 'expected a Kafka topic name: letters, digits, . _ -')
      .default('twitter_data'),
    partitions: int(1, 10000).default(3),
    replication: int(1, 32).default(1),
    /** Partitions of the dead-letter topic `<name>.dlq` when tweetpipe creates it (its replication: `replication`). */
    dlqPartitions: int(1, 10000).default(1),
    /** -1 keeps records forever. */
    retentionMs: int(-1).default(7 * 24 * 3600 * 1000),
  })
  .prefault({});

/** The batch consumer's client (src/kafka/batch-consumer.ts); the sink sets its session timeout from sink.sessionTimeoutS. */
export const CONSUMER_DEFAULTS = {
  /** Buffered records above which fetching pauses. */
  maxBuffered: 20_000,
  /**
   * Buffered bytes above which fetching pauses too (records of 100 KB would otherwise fill gigabytes): the batches
   * as fetched (compressed), which is what the buffer holds; each is decompressed as its records are handed out.
   * zstd shrinks tweets 5-9x, so maxBuffered binds first for them (docs/benchmarks.md, "Sixth round: consumer
   * buffers").
   */
  maxBufferedBytes: 16 * 1024 * 1024,
  /**
   * Decompressed batches kept for reuse once their records are done with (src/kafka/reused-buffers.ts): one poll of
   * 5,000 2 KB tweets is ~10 MiB of batches, so 16 MiB reuses them all (docs/benchmarks.md, "Sixth round: consumer
   * buffers").
   */
  reusedBatchBytes: 16 * 1024 * 1024,
  sessionTimeoutMs: 30_000,
  /** How long close() may wait for the group to let this member leave; a normal leave takes well under a second. */
  closeDeadlineMs: 5000,
  /** Upper bound of the heartbeat interval (otherwise a third of the session timeout). */
  maxHeartbeatIntervalMs: 3000,
  requestTimeoutMs: 30_000,
  retries: 5,
  retryDelayMs: 500,
  fetchMaxWaitMs: 500,
  /** The least silence of a consumer's fetching taken for a dead fetch loop (BatchConsumerOptions.fetchStallMs). */
  minFetchStallMs: 60_000,
  /** How often the consumer looks for that silence. */
  fetchWatchEveryMs: 5000,
  /**
   * Bytes a fetch response may carry (compressed; the broker exceeds it only for a first batch larger than it). It
   * is buffered whole while the buffer may already be full, so it adds to the buffer's bound. Per partition it is fetchMaxBytesPerPartition, so it binds from 5 partitions up.
   */
  fetchMaxBytes: 4 * 1024 * 1024,
  /**
   * Left unset, the client asks for 0 bytes per partition, and the broker then answers each fetch with one record
   * batch of one partition: the partitions were read one after another, at ~23k records/s where this (Kafka's own
   * default, max.partition.fetch.bytes) gave ~29-32k in the same sink. 2 MB measured alike; 4 MB was slower and used
   * more memory.
   */
  fetchMaxBytesPerPartition: 1024 * 1024,
  /** Messages the client's stream holds before it stops reading. */
  streamHighWaterMark: 1024,
} as const;

/** The tweet producer's client (src/kafka/tweet-producer.ts). */
export const PRODUCER_DEFAULTS = {
  /** Per-request timeout; the caller's retry loop takes over past it. */
  requestTimeoutMs: 30_000,
  retries: 3,
  retryDelayMs: 250,
} as const;

/** The admin client (src/kafka/admin.ts). */
export const ADMIN_DEFAULTS = {
  requestTimeoutMs: 10_000,
  /** Upper bound of the connect timeout (otherwise the request timeout). */
  maxConnectTimeoutMs: 5000,
  retries: 2,
} as const;

/** SASL/OAUTHBEARER tokens from a client-credentials endpoint (src/kafka/oauth-token.ts). */
export const OAUTH_TOKEN_DEFAULTS = {
  /** Share of a token's lifetime after which a new one is fetched. */
  refreshAt: 0.5,
  /** Lifetime assumed when the endpoint does not say (expires_in is only RECOMMENDED by RFC 6749). */
  lifetimeS: 3600,
  /** How long one token request may take. */
  requestTimeoutMs: 10_000,
} as const;

/** Reads of a topic's last records (src/kafka/topic-tail.ts). */
export const TOPIC_TAIL_DEFAULTS = {
  /** A read ends after this long without a record: the offsets up to the end are not all records. */
  quietMs: 1500,
  /** The throwaway consumer's request timeout and retries. */
  requestTimeoutMs: 10_000,
  retries: 3,
} as const;

/** The TLS handshake probe of the first broker (src/kafka/tls-probe.ts). */
export const TLS_PROBE_DEFAULTS = {
  /** How long a finished handshake is watched for a late alert: a broker sends it at once. */
  alertWaitMs: 1500,
} as const;
