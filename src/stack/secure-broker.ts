/**
 * `stack up --secure`: the local broker's secured doors, a twin of a managed cluster. Beside the plain listener
 * (left as it is, its ANONYMOUS principal a super user so local tools and tests keep working), a SASL_SSL listener
 * takes SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN users and an SSL listener requires a client certificate; both use
 * a certificate from the project's own CA (pki.ts). KRaft's StandardAuthorizer enforces ACLs: the writers (one per
 * door) may do everything on topics `twitter_data*` and read any group; the reader may only read those topics,
 * with groups `twitter_data*`. Each user's client settings go to `<stack home>/secure/clients.json`, in the shape
 * of tweetpipe's `kafka` config section.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AclOperations,
  AclPermissionTypes,
  Admin,
  alterUserScramCredentialsV0,
  Connection,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka';
import type { Config } from '../config.ts';
import { TweetpipeError } from '../errors.ts';
import { ensureCa, issueCertificate } from './pki.ts';

export type Door = 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'PLAIN' | 'mTLS';

export interface SecureUser {
  name: string;
  door: Door;
  access: 'read-write' | 'read-only';
}

/** The topic prefix the users' ACLs cover: the default topic and any `twitter_data...` topic. */
export const SECURE_TOPIC_PREFIX = 'twitter_data';

export const SECURE_USERS: readonly SecureUser[] = [
  { name: 'writer-scram256', door: 'SCRAM-SHA-256', access: 'read-write' },
  { name: 'writer-scram512', door: 'SCRAM-SHA-512', access: 'read-write' },
  { name: 'writer-plain', door: 'PLAIN', access: 'read-write' },
  { name: 'writer-mtls', door: 'mTLS', access: 'read-write' },
  { name: 'reader', door: 'SCRAM-SHA-256', access: 'read-only' },
];

/** One user's client settings: tweetpipe's `kafka` config section. */
export interface ClientSettings {
  brokers: string[];
  securityProtocol: 'SASL_SSL' | 'SSL';
  sasl?: { mechanism: Exclude<Door, 'mTLS'>; username: string; passwordFile: string };
  tls: { ca: string; cert?: string; key?: string };
}

export interface SecureMaterial {
  dir: string;
  clientsFile: string;
  ca: string;
  broker: { cert: string; key: string; keystore: string };
  clients: Record<string, ClientSettings>;
  passwords: Map<string, string>;
}

export const secureDir = (stackHome: string): string => join(stackHome, 'secure');

/** The CA, the broker's and the mTLS users' certificates, the passwords and clients.json, made on first use. */
export async function prepareSecureMaterial(config: Config, stackHome: string): Promise<SecureMaterial> {
  const dir = secureDir(stackHome);
  const ca = await ensureCa(dir, 'tweetpipe local CA');
  const mtlsUsers = SECURE_USERS.filter((u) => u.door === 'mTLS');
  // Two at a time: each is a few JVM starts, and the machine may have two cores.
  const [broker, ...userCerts] = await Promise.all([
    issueCertificate(ca, 'broker', 'localhost', ['dns:localhost', 'ip:127.0.0.1']),
    ...mtlsUsers.map((u) => issueCertificate(ca, u.name, u.name)),
  ]);
  const keystore = join(dir, 'broker-keystore.pem');
  await writeFile(keystore, `${await readFile(broker.key, 'utf8')}${await readFile(broker.cert, 'utf8')}`, {
    mode: 0o600,
  });
  const passwords = new Map<string, string>();
  const clients: Record<string, ClientSettings> = {};
  for (const user of SECURE_USERS) {
    if (user.door === 'mTLS') {
      const pair = userCerts[mtlsUsers.indexOf(user)] as { cert: string; key: string };
      clients[user.name] = {
        brokers: [`localhost:${config.stack.kafkaSslPort}`],
        securityProtocol: 'SSL',
        tls: { ca: ca.cert, cert: pair.cert, key: pair.key },
      };
      continue;
    }
    const passwordFile = join(dir, `${user.name}.password`);
    if (!existsSync(passwordFile))
      await writeFile(passwordFile, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
    passwords.set(user.name, (await readFile(passwordFile, 'utf8')).trim());
    clients[user.name] = {
      brokers: [`localhost:${config.stack.kafkaSaslSslPort}`],
      securityProtocol: 'SASL_SSL',
      sasl: { mechanism: user.door, username: user.name, passwordFile },
      tls: { ca: ca.cert },
    };
  }
  const clientsFile = join(dir, 'clients.json');
  await writeFile(clientsFile, `${JSON.stringify(clients, null, 2)}\n`, { mode: 0o600 });
  return { dir, clientsFile, ca: ca.cert, broker: { ...broker, keystore }, clients, passwords };
}

/** The server.properties lines of the secured listeners, the authorizer and the PLAIN users. */
export function secureServerProperties(material: SecureMaterial): string {
  const plainUsers = SECURE_USERS.filter((u) => u.door === 'PLAIN')
    .map((u) => `user_${u.name}="${material.passwords.get(u.name)}"`)
    .join(' ');
  return `# --secure: SASL_SSL (SCRAM-SHA-256/512, PLAIN) and SSL with client certificates, ACLs enforced.
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
# OAUTHBEARER with Kafka's development validator: unsigned JWTs, the principal is their "sub". Sessions end when the
# token expires, so a client must re-authenticate with a fresh token (connections.max.reauth.ms caps the lifetime).
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";
listener.name.sasl_ssl.oauthbearer.connections.max.reauth.ms=3600000
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=${material.broker.keystore}
ssl.truststore.type=PEM
ssl.truststore.location=${material.ca}
listener.name.ssl.ssl.client.auth=required
# A client certificate's principal is its CN (User:writer-mtls), as SASL users are named.
ssl.principal.mapping.rules=RULE:^CN=([^,]+)$/$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
# The plain listener and the controller connection carry no identity (User:ANONYMOUS): local tools stay allowed.
super.users=User:ANONYMOUS
allow.everyone.if.no.acl.found=false
`;
}

/** The secured listeners for listeners= / advertised.listeners= / listener.security.protocol.map=. */
export function secureListeners(config: Config): { listeners: string[]; protocolMap: string[] } {
  return {
    listeners: [
      `SASL_SSL://localhost:${config.stack.kafkaSaslSslPort}`,
      `SSL://localhost:${config.stack.kafkaSslPort}`,
    ],
    protocolMap: ['SASL_SSL:SASL_SSL', 'SSL:SSL'],
  };
}

const SCRAM_MECHANISMS = {
  'SCRAM-SHA-256': { id: 1, hash: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { id: 2, hash: 'sha512', bytes: 64 },
};
const SCRAM_ITERATIONS = 8192;

/**
 * The SCRAM credentials and the ACLs, through the plain listener (a super user). Both are idempotent, so every
 * `stack up --secure` sets them again: a stack formatted before --secure was used gets them too.
 */
export async function applyUsersAndAcls(config: Config, material: SecureMaterial): Promise<void> {
  const host = 'localhost';
  const port = config.stack.kafkaPort;
  const connection = new Connection('tweetpipe-stack');
  try {
    await connection.connect(host, port);
    const upsertions = SECURE_USERS.filter(
      (u) => u.door === 'SCRAM-SHA-256' || u.door === 'SCRAM-SHA-512',
    ).map((u) => {
      const mechanism = SCRAM_MECHANISMS[u.door as keyof typeof SCRAM_MECHANISMS];
      const salt = randomBytes(16);
      // RFC 5802 SaltedPassword = Hi(password, salt, i), i.e. PBKDF2 with the mechanism's HMAC.
      const password = material.passwords.get(u.name) as string;
      const saltedPassword = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, mechanism.bytes, mechanism.hash);
      return { name: u.name, mechanism: mechanism.id, iterations: SCRAM_ITERATIONS, salt, saltedPassword };
    });
    const response = await alterUserScramCredentialsV0.api.async(connection, [], upsertions);
    const failed = response.results.filter((r) => r.errorCode !== 0);
    if (failed.length > 0)
      throw new TweetpipeError(
        'KAFKA',
        `setting SCRAM credentials failed: ${failed.map((f) => `${f.user}: ${f.errorMessage ?? f.errorCode}`).join('; ')}`,
      );
  } finally {
    await connection.close().catch(() => {});
  }
  const admin = new Admin({ clientId: 'tweetpipe-stack', bootstrapBrokers: [`${host}:${port}`], retries: 3 });
  try {
    await admin.createAcls({ creations: SECURE_USERS.flatMap(aclsOf) });
  } finally {
    await admin.close().catch(() => {});
  }
}

function aclsOf(user: SecureUser) {
  const allow = (resourceType: number, resourceName: string, patternLiteral: boolean, operation: number) => ({
    resourceType: resourceType as (typeof ResourceTypes)[keyof typeof ResourceTypes],
    resourceName,
    resourcePatternType: patternLiteral ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
    principal: `User:${user.name}`,
    host: '*',
    operation: operation as (typeof AclOperations)[keyof typeof AclOperations],
    permissionType: AclPermissionTypes.ALLOW,
  });
  if (user.access === 'read-write')
    return [
      allow(ResourceTypes.TOPIC, SECURE_TOPIC_PREFIX, false, AclOperations.ALL),
      allow(ResourceTypes.GROUP, '*', true, AclOperations.READ),
    ];
  return [
    allow(ResourceTypes.TOPIC, SECURE_TOPIC_PREFIX, false, AclOperations.READ),
    allow(ResourceTypes.TOPIC, SECURE_TOPIC_PREFIX, false, AclOperations.DESCRIBE),
    allow(ResourceTypes.GROUP, SECURE_TOPIC_PREFIX, false, AclOperations.READ),
  ];
}
