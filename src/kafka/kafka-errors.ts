/**
 * The Kafka client's errors as TweetpipeErrors. A broker that is down, a leader that moves, a request that times
 * out: retryable, because the data is still in memory and the broker may come back. A broker that refuses, for lack
 * of a permission (ACLs) or because the request itself is wrong (a replication factor above the broker count, a
 * policy), answers the same way on every retry: that is final, and the message names the refusal so a user can act.
 */
import { findErrorBy } from '@platformatic/kafka';
import { TweetpipeError } from '../errors.ts';

/** A refusal from the broker that a retry cannot change: its protocol error name and the broker's message. */
export interface KafkaRefusal {
  error: string;
  serverMessage: string | null;
}

/** The refusal inside a client error (it may be nested in MultipleErrors), or null when a retry may help. */
export function kafkaRefusal(err: unknown): KafkaRefusal | null {
  const protocol = findErrorBy(err as Error, 'code', 'PLT_KFK_PROTOCOL') as {
    apiId?: string;
    canRetry?: boolean;
    serverErrorMessage?: string | null;
  } | null;
  if (!protocol?.apiId || protocol.canRetry !== false) return null;
  return { error: protocol.apiId, serverMessage: protocol.serverErrorMessage ?? null };
}

/** TOPIC_, GROUP_, CLUSTER_, TRANSACTIONAL_ID_ and DELEGATION_TOKEN_AUTHORIZATION_FAILED. */
export const isAuthorizationFailure = (refusal: KafkaRefusal): boolean =>
  refusal.error.endsWith('_AUTHORIZATION_FAILED');

/**
 * The permission each refusal means in the operation at hand, for the message: a producer's TOPIC_AUTHORIZATION_FAILED
 * is a missing WRITE on its topic, a consumer's GROUP_AUTHORIZATION_FAILED a missing READ on its group.
 */
export type NeededPermissions = Partial<Record<string, { operation: string; resource: string }>>;

/** Wraps a client error: KAFKA_AUTH (final) when the connection's security failed, KAFKA_DENIED (final) for a
 * permission refusal, KAFKA (final) for another refusal, else KAFKA retryable. */
export function kafkaError(what: string, err: unknown, needs: NeededPermissions = {}): TweetpipeError {
  const security = securityFailure(err);
  if (security)
    return new TweetpipeError('KAFKA_AUTH', `${what}: ${security}`, { retryable: false, cause: err });
  const message = err instanceof Error ? err.message : String(err);
  const inner = (err as { errors?: Error[] }).errors?.map((e) => e.message).join('; ');
  const refusal = kafkaRefusal(err);
  if (refusal) {
    const said = refusal.serverMessage ? `: ${refusal.serverMessage}` : '';
    const denied = isAuthorizationFailure(refusal);
    const need = denied ? needs[refusal.error] : undefined;
    const advice = need
      ? `: the Kafka principal tweetpipe connects as lacks the ${need.operation} permission on ${need.resource}; ` +
        `grant it (kafka-acls.sh --add --allow-principal User:<name> --operation ${need.operation} ` +
        `--${need.resource})`
      : '';
    return new TweetpipeError(
      denied ? 'KAFKA_DENIED' : 'KAFKA',
      `${what}: the broker refused (${refusal.error}${said})${advice}`,
      { retryable: false, cause: err, details: { kafkaError: refusal.error, ...(need ? need : {}) } },
    );
  }
  return new TweetpipeError('KAFKA', `${what}: ${message}${inner ? ` (${inner})` : ''}`, {
    retryable: true,
    cause: err,
  });
}

/** Node's codes for a broker certificate that no configured CA vouches for. */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

/** TLS alerts a broker sends when it refuses the client certificate (or its absence). */
const CLIENT_CERTIFICATE_REFUSED =
  /^ERR_SSL_(SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNKNOWN_CA|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED)$/;
/^ERR_SSL_(TLSV13_ALERT_CERTIFICATE_REQUIRED|SSLV3_ALERT_BAD_CERTIFICATE|SSLV3_ALERT_CERTIFICATE_UNKNOWN|TLSV1_ALERT_UNKNOWN_CA|SSLV3_ALERT_CERTIFICATE_EXPIRED|TLSV1_ALERT_ACCESS_DENIED)$/;

/**
 * Why the connection's security failed, in words that name the setting to fix, or null when it did not. Each of
 * these fails the same way on every retry: the credentials, the CA or the certificate must change first. Nothing
 * here quotes a credential: the broker's SASL message names the mechanism, never the password.
 */
export function securityFailure(err: unknown): string | null {
  for (const e of errorTree(err)) {
    // Our own verdict from inside the client (the OAUTHBEARER token endpoint refused): it already names the setting.
    if ((e as unknown) instanceof TweetpipeError && e.code === 'KAFKA_AUTH') return e.message ?? null;
    const code = typeof e.code === 'string' ? e.code : '';
    if (code === 'PLT_KFK_AUTHENTICATION' || e.apiId === 'SASL_AUTHENTICATION_FAILED') {
      const server = [...errorTree(err)].find(
        (x) => typeof x.serverErrorMessage === 'string',
      )?.serverErrorMessage;
      return (
        `the broker rejected the SASL credentials${server ? ` (${server})` : ''}: check kafka.sasl.mechanism, ` +
        'kafka.sasl.username and the password (kafka.sasl.password or kafka.sasl.passwordFile); for OAUTHBEARER, ' +
        "the token's principal and scope (kafka.sasl.oauthbearer)"
      );
    }
    if (e.apiId === 'UNSUPPORTED_SASL_MECHANISM' || e.apiId === 'ILLEGAL_SASL_STATE')
      return `the broker does not accept this SASL mechanism (${e.apiId}): check kafka.sasl.mechanism`;
    if (UNTRUSTED_CERTIFICATE.has(code))
      return (
        `the broker's TLS certificate is not trusted (${code}): set kafka.tls.ca to the PEM file of the CA that ` +
        'signed it (absent, only the system CAs are trusted)'
      );
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
      return (
        `the broker's TLS certificate is not for the host dialled (${e.message}): use the broker's name in ` +
        'kafka.brokers, or set kafka.tls.servername to the name its certificate carries'
      );
    if (CLIENT_CERTIFICATE_REFUSED.test(code))
      return (
        `the broker refused the TLS client certificate (${code}): set kafka.tls.cert and kafka.tls.key to a ` +
        'certificate signed by a CA the broker trusts (ssl.truststore) and its key'
      );
    if (/TLS handshake failed/.test(e.message ?? ''))
      return 'the TLS handshake failed: the broker does not speak TLS on this port; check kafka.securityProtocol and kafka.brokers';
  }
  return null;
}

interface ErrorNode {
  code?: unknown;
  apiId?: string;
  message?: string;
  serverErrorMessage?: unknown;
}

/** An error, its causes and its nested errors (the client's MultipleErrors), depth first. */
function* errorTree(err: unknown, depth = 0): Generator<ErrorNode> {
  if (!err || typeof err !== 'object' || depth > 8) return;
  yield err as ErrorNode;
  yield* errorTree((err as { cause?: unknown }).cause, depth + 1);
  for (const nested of (err as { errors?: unknown[] }).errors ?? []) yield* errorTree(nested, depth + 1);
}
