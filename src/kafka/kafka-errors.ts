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

/** Wraps a client error: KAFKA_DENIED (final) for a permission refusal, KAFKA (final) for another refusal, else
 * KAFKA retryable. */
export function kafkaError(what: string, err: unknown): TweetpipeError {
  const message = err instanceof Error ? err.message : String(err);
  const inner = (err as { errors?: Error[] }).errors?.map((e) => e.message).join('; ');
  const refusal = kafkaRefusal(err);
  if (refusal) {
    const said = refusal.serverMessage ? `: ${refusal.serverMessage}` : '';
    return new TweetpipeError(
      isAuthorizationFailure(refusal) ? 'KAFKA_DENIED' : 'KAFKA',
      `${what}: the broker refused (${refusal.error}${said})`,
      { retryable: false, cause: err, details: { kafkaError: refusal.error } },
    );
  }
  return new TweetpipeError('KAFKA', `${what}: ${message}${inner ? ` (${inner})` : ''}`, {
    retryable: true,
    cause: err,
  });
}
