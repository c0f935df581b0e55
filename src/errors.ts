/**
 * One error type for the whole pipeline. Retry loops decide from `retryable`, never from message text
 * (the model is platformatic/kafka's `src/errors.ts` and ky's `source/errors/`).
 */
export type ErrorCode =
  | 'CONFIG_INVALID' // a config key has a bad value or is unknown
  | 'USAGE' // bad command line
  | 'DEPENDENCY_MISSING' // java, mvn, ... not installed
  | 'PORT_IN_USE'
  | 'SERVER_DIED' // a stack server exited during start
  | 'TIMEOUT'
  | 'NETWORK' // connection refused / reset / DNS
  | 'HDFS_NOT_FOUND'
  | 'HDFS_ALREADY_EXISTS'
  | 'HDFS_SAFE_MODE'
  | 'HDFS_STANDBY' // HA: this NameNode is standby, try the other
  | 'HDFS_LEASE' // another writer holds the file lease
  | 'HDFS_UNFINISHED' // a file still under construction whose writer died: its length cannot be read until lease recovery
  | 'HDFS_REMOTE' // any other RemoteException
  | 'HDFS_RENAME_FAILED'
  | 'HDFS_NOT_SNAPSHOTTABLE' // a snapshot of a directory that no superuser made snapshottable (hdfs dfsadmin -allowSnapshot)
  | 'HDFS_AUTH' // WebHDFS refused our credentials (401/403), or Kerberos could not make any (principal, keytab)
  | 'KAFKA'
  | 'KAFKA_FETCH_STALLED' // a consumer owning partitions got no Fetch response and no error for too long: restarted
  | 'METASTORE' // the Hive Metastore is unreachable, dropped the connection or missed a deadline
  | 'KAFKA_DENIED' // the broker refused for lack of a permission (ACLs): final
  | 'KAFKA_AUTH' // the connection's security failed: credentials, an untrusted certificate, a refused client certificate
  | 'X_AUTH' // 401/403 from the X API
  | 'X_RATE_LIMITED' // 429
  | 'X_HTTP' // other non-2xx from the X API
  | 'X_STREAM' // operational-disconnect and errors inside the stream
  | 'X_RULES_INVALID'
  | 'BAD_RECORD' // a payload that cannot become a tweet record (goes to the DLQ)
  | 'FENCED' // another writer committed the same range first
  | 'OFFSET_GAP' // a partition's records jumped past offsets that were never delivered
  | 'LAG_REMAINS' // sink --exit-when-idle: idle, but partitions still hold uncommitted records past the bound
  | 'ABORTED'
  | 'INTERNAL';

export interface TweetpipeErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** Extra facts for logs; must never carry secrets. */
  details?: Record<string, unknown>;
}

export class TweetpipeError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: TweetpipeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TweetpipeError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/** Errors from Node's network stack that a retry can fix. */
const RETRYABLE_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * Finds a syscall-style `code` in an error, its `cause` chain (fetch wraps them in TypeError) and its `errors`
 * (AggregateError, and the Kafka client's MultipleErrors, which nest the connection failure there).
 */
export function networkErrorCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 5) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && RETRYABLE_SYSCALL_CODES.has(code)) return code;
  const nested = (err as { errors?: unknown }).errors;
  for (const inner of Array.isArray(nested) ? nested : []) {
    const found = networkErrorCode(inner, depth + 1);
    if (found) return found;
  }
  return networkErrorCode((err as { cause?: unknown }).cause, depth + 1);
}

/** Normalises anything thrown into a TweetpipeError, keeping the original as `cause`. */
export function toTweetpipeError(err: unknown, fallback: ErrorCode = 'INTERNAL'): TweetpipeError {
  if (err instanceof TweetpipeError) return err;
  const syscall = networkErrorCode(err);
  if (syscall)
    return new TweetpipeError('NETWORK', `network error: ${syscall}`, { retryable: true, cause: err });
  if (err instanceof Error && err.name === 'TimeoutError')
    return new TweetpipeError('TIMEOUT', err.message, { retryable: true, cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new TweetpipeError(fallback, message, { cause: err });
}

/**
 * An error as plain data, for crossing a thread boundary: postMessage's structured clone keeps an Error's name,
 * message and stack but drops its own fields (code, retryable, details) and rebuilds no class.
 */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** TweetpipeError's code, or a system error's (ECONNRESET, ...). */
  code?: string;
  retryable?: boolean;
  details?: Record<string, unknown>;
  cause?: SerializedError;
}

/** Cause chains deeper than this are cut (a cycle would never end). */
const MAX_CAUSE_DEPTH = 8;

/** `err` and its cause chain as data that postMessage carries whole; `details` must be cloneable (it is data). */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const out: SerializedError = { name: err.name, message: err.message };
  if (err.stack !== undefined) out.stack = err.stack;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (err instanceof TweetpipeError) {
    out.retryable = err.retryable;
    out.details = err.details;
  }
  if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** Rebuilds what serializeError made: TweetpipeErrors as such, anything else as an Error with its name and code. */
export function deserializeError(data: SerializedError): Error {
  const cause = data.cause === undefined ? undefined : deserializeError(data.cause);
  const err =
    data.name === 'TweetpipeError'
      ? new TweetpipeError(data.code as ErrorCode, data.message, {
          retryable: data.retryable ?? false,
          details: data.details ?? {},
          cause,
        })
      : Object.assign(new Error(data.message, cause === undefined ? undefined : { cause }), {
          name: data.name,
          ...(data.code === undefined ? {} : { code: data.code }),
        });
  if (data.stack !== undefined) err.stack = data.stack;
  return err;
}
