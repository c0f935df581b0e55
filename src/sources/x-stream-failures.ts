/** How the stream loop reads a failed connection: worth a reconnect (and which backoff), or fatal. */
import { TweetpipeError, toTweetpipeError } from '../errors.ts';
import type { XFailureKind } from '../retry/schedules.ts';

export interface Failure {
  kind: XFailureKind;
  reason: string;
}

/** Errors worth a reconnect, by backoff class; undefined means fatal (bad token, plan, request). */
export function classifyConnectError(err: unknown): Failure | undefined {
  const e = toTweetpipeError(err);
  if (e.code === 'X_RATE_LIMITED') {
    const issue = e.details.connectionIssue;
    const reason =
      issue === 'TooManyConnections'
        ? 'TooManyConnections: another connection with this app is open (the stream allows a fixed number per app)'
        : e.message;
    return { kind: 'rate-limit', reason };
  }
  if (e.code === 'NETWORK' || e.code === 'TIMEOUT') return { kind: 'network', reason: e.message };
  if (e.retryable) return { kind: 'http', reason: e.message };
  return undefined;
}

/** A refusal that may be about backfill_minutes (not in the plan, or unknown): 400 or 403. */
export function isRefusal(err: unknown): boolean {
  if (!(err instanceof TweetpipeError)) return false;
  return err.details.status === 400 || err.details.status === 403;
}
